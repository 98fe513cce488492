"""Spending the wallet's coins: which coins may be spent, payments from addresses, keys
for signing, fee-bump requests and PSBTs of the wallet's own coins.

Coin eligibility follows Core's defaults (wallet/spend.cpp, -spendzeroconfchange=1): a
coin is spendable when mature (a coinbase needs COINBASE_MATURITY + 1 confirmations, Core's
GetTxBlocksToMaturity) and either confirmed or the output of an unconfirmed transaction
that spends only the wallet's own coins (change it made itself: "trusted").

Pure: keys and state are passed in; randomness is the caller's `Rng`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import coincurve

from btcnode.address import AddressError, script_for_address
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import OutPoint, Tx, TxOut
from wallets._records import Coin, TxStatus
from wallets.accounts import CHANGE, AddressType, address_key
from wallets.bip32 import ExtendedKey, parse_path
from wallets.builder import BuiltTx, Spendable
from wallets.bump import BumpRequest, HasWalletDescendants, NotReplaceable
from wallets.errors import WalletInputError, WalletMisuse
from wallets.psbt import KeyOrigin, Psbt
from wallets.psbt_roles import create_psbt, spent_output, update_from_coins, update_output
from wallets.signer import sign_transaction
from wallets.state import AddressRecord, WalletKind, WalletState
from wallets.txsize import input_type_for_script

__all__ = [
    "InvalidAddress",
    "UnknownTransaction",
    "WalletLocked",
    "bump_request",
    "coin_is_mature",
    "is_trusted",
    "key_origins",
    "payments",
    "psbt_for",
    "sign_built",
    "signing_keys_for_psbt",
    "spendable",
    "spendable_coins",
]


class InvalidAddress(WalletInputError):
    """A payment address that is malformed or of another network."""

    def __init__(self, address: str, reason: str) -> None:
        self.address, self.reason = address, reason
        super().__init__(f"invalid address {address!r}: {reason}")


class UnknownTransaction(WalletInputError):
    def __init__(self, txid: bytes) -> None:
        self.txid = txid
        super().__init__(f"transaction {hash256_hex(txid)} is not in this wallet")


class WalletLocked(WalletMisuse):
    """Signing needs the keystore: open the wallet with its password, or `unlock` it."""

    def __init__(self) -> None:
        super().__init__("the wallet is locked (or watch-only): unlock it to sign")


def payments(state: WalletState, outputs: Sequence[tuple[str, int]]) -> list[TxOut]:
    """`(address, satoshis)` pairs as outputs of this wallet's network."""
    if not outputs:
        raise WalletMisuse("a payment needs at least one output")
    txouts = []
    for address, amount in outputs:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise WalletInputError(
                f"amount {amount!r} for {address!r} is not a positive sat amount"
            )
        try:
            script = script_for_address(address, state.params)
        except AddressError as err:
            raise InvalidAddress(address, err.message) from None
        txouts.append(TxOut(amount, script))
    return txouts


def coin_is_mature(state: WalletState, coin: Coin) -> bool:
    if not coin.coinbase:
        return True
    return coin.confirmations(state.tip_height) >= state.params.coinbase_maturity + 1


def is_trusted(state: WalletState, txid: bytes) -> bool:
    """An unconfirmed wallet tx spending only the wallet's coins (Core's IsTrusted)."""
    wtx = state.txs.get(txid)
    if wtx is None or wtx.status is not TxStatus.UNCONFIRMED:
        return False
    return len(wtx.spent) == len(wtx.tx.vin)


def spendable(state: WalletState, coin: Coin) -> Spendable:
    record = state.by_script[coin.script_pubkey]
    return Spendable(
        coin.outpoint,
        TxOut(coin.value, coin.script_pubkey),
        input_type_for_script(coin.script_pubkey),
        record.derived.path,
        coin.confirmations(state.tip_height),
    )


def spendable_coins(state: WalletState, exclude_txid: bytes | None = None) -> list[Spendable]:
    """The coins a new transaction may spend, oldest first."""
    coins = []
    for coin in state.coins.values():
        if coin.outpoint.txid == exclude_txid or not coin_is_mature(state, coin):
            continue
        if coin.height is None and not is_trusted(state, coin.outpoint.txid):
            continue
        coins.append(coin)
    coins.sort(key=lambda c: (c.height if c.height is not None else 1 << 32, c.outpoint.txid))
    return [spendable(state, c) for c in coins]


def _private_key(
    accounts: Mapping[AddressType, ExtendedKey], record: AddressRecord
) -> coincurve.PrivateKey:
    account = accounts.get(record.address_type)
    if account is None:
        raise WalletLocked()
    key = address_key(account, record.change, record.index)
    return coincurve.PrivateKey(key.private_key)


def sign_built(
    state: WalletState, accounts: Mapping[AddressType, ExtendedKey], built: BuiltTx
) -> Tx:
    """The built transaction signed by the wallet's keys, every input verified."""

    def key_for(coin: Spendable) -> coincurve.PrivateKey:
        return _private_key(accounts, state.by_script[coin.txout.script_pubkey])

    return sign_transaction(built.tx, built.spent, key_for)


def bump_request(state: WalletState, txid: bytes) -> BumpRequest:
    """What `bump_fee` needs to replace the wallet's unconfirmed `txid`."""
    wtx = state.txs.get(txid)
    if wtx is None:
        raise UnknownTransaction(txid)
    if wtx.status is not TxStatus.UNCONFIRMED:
        raise NotReplaceable(hash256_hex(txid), f"it is {wtx.status.value}")
    tx = wtx.tx
    spenders = (state.spender.get(OutPoint(txid, n)) for n in range(len(tx.vout)))
    children = tuple(sorted({child for child in spenders if child is not None}))
    if children:  # Core's feebumper: "Transaction has descendants in the wallet"
        raise HasWalletDescendants(hash256_hex(txid), children)
    by_outpoint: dict[OutPoint, Coin] = {c.outpoint: c for c in wtx.spent}
    if any(txin.prevout not in by_outpoint for txin in tx.vin):
        raise NotReplaceable(hash256_hex(txid), "it spends coins that are not the wallet's")
    spent = tuple(spendable(state, by_outpoint[txin.prevout]) for txin in tx.vin)
    change_index = None
    for n, out in enumerate(tx.vout):
        record = state.by_script.get(out.script_pubkey)
        if record is not None and record.change == CHANGE:
            change_index = n
            break
    return BumpRequest(tx, spent, change_index, confirmed=False)


def key_origins(state: WalletState, records: Sequence[AddressRecord]) -> dict[bytes, KeyOrigin]:
    """BIP174 key origins of the wallet's keys: the master key's fingerprint and the full
    path; a watch-only wallet knows only its account key, so (as Core does for an xpub
    without origin) the account key's fingerprint and the path below it."""
    fingerprint = state.meta.fingerprint
    if state.meta.kind is WalletKind.WATCH_ONLY:
        return {r.derived.pubkey: KeyOrigin(fingerprint, (r.change, r.index)) for r in records}
    return {r.derived.pubkey: KeyOrigin(fingerprint, parse_path(r.derived.path)) for r in records}


def psbt_for(state: WalletState, built: BuiltTx) -> Psbt:
    """An unsigned PSBT of `built` with every input's UTXO and key origin, and the change
    output's key origin (so a signer can see it is change)."""
    records = [state.by_script[c.txout.script_pubkey] for c in built.spent]
    previous = {
        c.outpoint.txid: state.txs[c.outpoint.txid].tx
        for c in built.spent
        if c.outpoint.txid in state.txs
    }
    psbt = update_from_coins(
        create_psbt(built.tx), built.spent, key_origins(state, records), previous
    )
    for n, out in enumerate(built.tx.vout):
        record = state.by_script.get(out.script_pubkey)
        if record is not None:
            psbt = update_output(psbt, n, derivations=key_origins(state, [record]))
    return psbt


def signing_keys_for_psbt(
    state: WalletState, accounts: Mapping[AddressType, ExtendedKey], psbt: Psbt
) -> list[coincurve.PrivateKey]:
    """The wallet's private keys for the inputs of `psbt` that spend its scripts."""
    keys = []
    for n in range(len(psbt.inputs)):
        spent = spent_output(psbt, n)
        record = None if spent is None else state.by_script.get(spent.script_pubkey)
        if record is not None:
            keys.append(_private_key(accounts, record))
    return keys
