"""`Wallet`: an HD wallet in a directory, following a btcnode over JSON-RPC.

A wallet directory holds `keystore.json` (the mnemonic, encrypted; see `wallets.keystore`)
or `watch-only.json` (one account's public key), and `wallet.db/`, the LevelDB of
`wallets.state`. The database holds only public data (account xpubs, addresses, coins,
transactions), so a wallet opened without its password syncs, shows balances and builds
PSBTs; signing needs `unlock`.

This is the I/O layer: it reads the clock and the system's randomness and opens files,
then drives the pure parts (`state`, `scan`, `_ledger`, `_spend`, `journal`, `sync`).
Amounts are satoshis.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import Tx
from btcnode.mempool.feerate import FeeRate
from common.closing import CloseOnExit
from wallets._node import (
    DEFAULT_FALLBACK_FEE_RATE,
    NodeClient,
    NodeRefused,
    NodeUnavailable,
    WrongChain,
    estimate_fee_rate,
)
from wallets._records import TxStatus
from wallets._spend import (
    InvalidAddress,
    UnknownTransaction,
    WalletLocked,
    bump_request,
    payments,
    psbt_for,
    sign_built,
    signing_keys_for_psbt,
    spendable_coins,
)
from wallets._wallet_files import (
    DATABASE_DIR,
    KEYSTORE_FILE,
    WATCH_ONLY_FILE,
    create_seed_wallet,
    create_watch_only_wallet,
    open_wallet_state,
    unlock_accounts,
)
from wallets._wallet_views import (
    Balance,
    HistoryEntry,
    SendResult,
    WalletCoin,
    balance_of,
    coins_of,
    history_of,
)
from wallets.accounts import (
    CHANGE,
    RECEIVE,
    AddressType,
    DerivedAddress,
)
from wallets.bip32 import ExtendedKey
from wallets.builder import BuildOptions, BuiltTx, build_transaction
from wallets.bump import bump_fee
from wallets.journal import broadcast_entry, record_send
from wallets.keystore import (
    DEFAULT_SCRYPT,
    ScryptParams,
)
from wallets.psbt import Psbt
from wallets.psbt_roles import sign_psbt as sign_psbt_inputs
from wallets.state import WalletState
from wallets.sync import ReorgTooDeep, SyncReport, sync_wallet

__all__ = [
    "DATABASE_DIR",
    "DEFAULT_ADDRESS_TYPE",
    "DEFAULT_FALLBACK_FEE_RATE",
    "KEYSTORE_FILE",
    "WATCH_ONLY_FILE",
    "Balance",
    "HistoryEntry",
    "InvalidAddress",
    "NodeClient",
    "NodeRefused",
    "NodeUnavailable",
    "ReorgTooDeep",
    "SendResult",
    "SyncReport",
    "TxStatus",
    "UnknownTransaction",
    "Wallet",
    "WalletCoin",
    "WalletLocked",
    "WrongChain",
]

DEFAULT_ADDRESS_TYPE = AddressType.P2WPKH  # Core's default -addresstype (bech32)


def _now() -> int:
    return int(time.time())


class Wallet(CloseOnExit):
    """An HD wallet (see the module docstring). Use as a context manager or `close()` it."""

    def __init__(
        self,
        datadir: Path,
        state: WalletState,
        accounts: dict[AddressType, ExtendedKey] | None = None,
    ) -> None:
        self.datadir = Path(datadir)
        self.state = state
        self._accounts = accounts or {}  # private account keys, present when unlocked
        self._mempool_cache: dict[bytes, Tx] = {}
        self._rng = random.SystemRandom()

    # -- creating and opening -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        datadir: Path,
        params: ChainParams,
        password: str,
        *,
        mnemonic: str | None = None,
        bip39_passphrase: str = "",
        kdf: ScryptParams = DEFAULT_SCRYPT,
    ) -> tuple[Wallet, str]:
        """A new wallet from a fresh (or the given) mnemonic; returns it and the mnemonic."""
        state, private, canonical = create_seed_wallet(
            Path(datadir), params, password, mnemonic, bip39_passphrase, kdf
        )
        return cls(datadir, state, private), canonical

    @classmethod
    def restore(
        cls,
        datadir: Path,
        params: ChainParams,
        mnemonic: str,
        password: str,
        *,
        bip39_passphrase: str = "",
        kdf: ScryptParams = DEFAULT_SCRYPT,
    ) -> Wallet:
        """The wallet of `mnemonic` in a new directory; its first sync scans from block 0."""
        state, private, _ = create_seed_wallet(
            Path(datadir), params, password, mnemonic, bip39_passphrase, kdf
        )
        return cls(datadir, state, private)

    @classmethod
    def create_watch_only(
        cls, datadir: Path, params: ChainParams, account_key: str, address_type: AddressType
    ) -> Wallet:
        """A wallet following one account by its public key (xpub/tpub or SLIP-132)."""
        return cls(
            datadir, create_watch_only_wallet(Path(datadir), params, account_key, address_type)
        )

    @classmethod
    def open(
        cls,
        datadir: Path,
        params: ChainParams,
        password: str | None = None,
        *,
        bip39_passphrase: str = "",
    ) -> Wallet:
        """An existing wallet; without a password it syncs and shows but cannot sign."""
        wallet = cls(datadir, open_wallet_state(Path(datadir), params))
        if password is not None:
            try:
                wallet.unlock(password, bip39_passphrase=bip39_passphrase)
            except BaseException:
                wallet.close()
                raise
        return wallet

    def unlock(self, password: str, *, bip39_passphrase: str = "") -> None:
        """Decrypt the keystore so the wallet can sign; checks it is this wallet's seed."""
        self._accounts = unlock_accounts(self.datadir, self.state, password, bip39_passphrase)

    def lock(self) -> None:
        """Forget the private keys; the wallet stays open, watching and building PSBTs."""
        self._accounts = {}

    @property
    def params(self) -> ChainParams:
        return self.state.params

    @property
    def can_sign(self) -> bool:
        return bool(self._accounts)

    def close(self) -> None:
        self.lock()
        self.state.store.close()

    # -- addresses and labels -------------------------------------------------------------

    def _address_type(self, address_type: AddressType | None) -> AddressType:
        if address_type is not None:
            return address_type
        types = [t for t, _ in self.state.meta.accounts]
        return DEFAULT_ADDRESS_TYPE if DEFAULT_ADDRESS_TYPE in types else types[0]

    def new_address(
        self, address_type: AddressType | None = None, *, change: bool = False, label: str = ""
    ) -> DerivedAddress:
        """The next address never handed out (P2WPKH unless the wallet lacks that type)."""
        record = self.state.next_unused(
            self._address_type(address_type), CHANGE if change else RECEIVE
        )
        if label:
            self.state.set_label(record.address, label)
        self.state.commit(sync=True)
        return record.derived

    def address_at(
        self, address_type: AddressType, index: int, *, change: bool = False
    ) -> DerivedAddress:
        record = self.state.address_at(address_type, CHANGE if change else RECEIVE, index)
        self.state.commit(sync=True)
        return record.derived

    def set_label(self, address: str, label: str) -> None:
        """Label any address of this network (an empty label removes it)."""
        payments(self.state, [(address, 1)])  # validates the address
        self.state.set_label(address, label)
        self.state.commit(sync=True)

    def label_of(self, address: str) -> str:
        return self.state.labels.get(address, "")

    def is_mine(self, address: str) -> bool:
        return any(r.address == address for r in self.state.by_script.values())

    # -- following the node ---------------------------------------------------------------

    def sync(self, node: NodeClient) -> SyncReport:
        """Scan new blocks, follow reorgs, track the mempool, resend the journal."""
        with self._atomic():
            return sync_wallet(self.state, node, _now(), self._mempool_cache)

    def rescan(self, node: NodeClient) -> SyncReport:
        """Scan the whole chain again (after a reorg deeper than the wallet remembers)."""
        self.state.reset_cursor()
        self.state.commit(sync=True)
        return self.sync(node)

    @property
    def tip_height(self) -> int:
        return self.state.tip_height

    def balance(self) -> Balance:
        return balance_of(self.state)

    def list_unspent(self, min_conf: int = 0) -> list[WalletCoin]:
        return coins_of(self.state, min_conf)

    def history(self) -> list[HistoryEntry]:
        return history_of(self.state)

    # -- spending -------------------------------------------------------------------------

    def _fee_rate(self, node: NodeClient | None, fee_rate: FeeRate | None) -> FeeRate:
        if fee_rate is not None:
            return fee_rate
        return DEFAULT_FALLBACK_FEE_RATE if node is None else estimate_fee_rate(node)

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        """Any failure inside leaves the state as last committed."""
        try:
            yield
        except BaseException:
            self.state.discard()
            raise

    def _build(self, outputs: Sequence[tuple[str, int]], fee_rate: FeeRate, rbf: bool) -> BuiltTx:
        change = self.state.next_unused(self._address_type(None), CHANGE)
        height = self.tip_height if self.tip_height >= 0 else None
        options = BuildOptions(signal_rbf=rbf, current_height=height)
        txouts, coins = payments(self.state, outputs), spendable_coins(self.state)
        return build_transaction(coins, txouts, fee_rate, change.script_pubkey, self._rng, options)

    def _result(self, built: BuiltTx, signed: Tx) -> SendResult:
        change = None if built.change_index is None else built.tx.vout[built.change_index]
        record = None if change is None else self.state.by_script.get(change.script_pubkey)
        address = None if record is None else record.address
        return SendResult(signed.txid, built.fee, signed.vsize, signed.serialize(), address)

    def prepare_send(
        self,
        outputs: Sequence[tuple[str, int]],
        *,
        fee_rate: FeeRate | None = None,
        rbf: bool = True,
        node: NodeClient | None = None,
    ) -> SendResult:
        """Build, sign and journal a payment WITHOUT broadcasting it (`send` does both;
        the next `sync` broadcasts a journaled transaction)."""
        if not self.can_sign:
            raise WalletLocked()
        with self._atomic():
            built = self._build(outputs, self._fee_rate(node, fee_rate), rbf)
            signed = sign_built(self.state, self._accounts, built)
            record_send(self.state, signed, _now())
        return self._result(built, signed)

    def send(
        self,
        node: NodeClient,
        outputs: Sequence[tuple[str, int]],
        *,
        fee_rate: FeeRate | None = None,
        rbf: bool = True,
    ) -> SendResult:
        """Pay `(address, sats)` outputs: select coins, sign, journal (synced), broadcast."""
        result = self.prepare_send(outputs, fee_rate=fee_rate, rbf=rbf, node=node)
        with self._atomic():
            broadcast_entry(self.state, node, self.state.journal[result.txid], _now())
        return result

    def bump(self, node: NodeClient, txid: bytes, *, fee_rate: FeeRate | None = None) -> SendResult:
        """Replace the wallet's unconfirmed `txid` by one paying a higher fee (BIP125)."""
        if not self.can_sign:
            raise WalletLocked()
        with self._atomic():
            request = bump_request(self.state, txid)
            extra = spendable_coins(self.state, exclude_txid=txid)
            built = bump_fee(request, self._rng, fee_rate=fee_rate, extra_coins=extra)
            signed = sign_built(self.state, self._accounts, built)
            entry = record_send(self.state, signed, _now(), replaces=txid)
        with self._atomic():
            broadcast_entry(self.state, node, entry, _now())
        return self._result(built, signed)

    def broadcast(self, node: NodeClient, tx: Tx) -> bytes:
        """Journal and broadcast a fully signed transaction (e.g. a finalized PSBT)."""
        with self._atomic():
            entry = record_send(self.state, tx, _now())
        with self._atomic():
            broadcast_entry(self.state, node, entry, _now())
        return tx.txid

    # -- PSBT -----------------------------------------------------------------------------

    def create_psbt(
        self,
        outputs: Sequence[tuple[str, int]],
        *,
        fee_rate: FeeRate | None = None,
        rbf: bool = True,
    ) -> Psbt:
        """An unsigned PSBT paying `outputs` from the wallet's coins, with their UTXOs and
        BIP32 derivations (works watch-only; the coins are not reserved)."""
        with self._atomic():
            psbt = psbt_for(self.state, self._build(outputs, self._fee_rate(None, fee_rate), rbf))
            self.state.commit(sync=True)  # the change address handed out
        return psbt

    def sign_psbt(self, psbt: Psbt) -> Psbt:
        """Partial signatures for every input spending this wallet's coins."""
        if not self.can_sign:
            raise WalletLocked()
        return sign_psbt_inputs(psbt, signing_keys_for_psbt(self.state, self._accounts, psbt))

    def transaction(self, txid: bytes) -> Tx | None:
        wtx = self.state.txs.get(txid)
        return None if wtx is None else wtx.tx

    def status_of(self, txid: bytes) -> TxStatus | None:
        wtx = self.state.txs.get(txid)
        return None if wtx is None else wtx.status
