"""Read-only views of a wallet's state: balance, unspent coins, history.

Balance follows Core's getbalances: `confirmed` is mature coins in blocks, `immature` is
coinbase outputs short of COINBASE_MATURITY + 1 confirmations, `unconfirmed` is outputs of
unconfirmed wallet transactions (our own change included). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.address import address_for_script
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import OutPoint, Tx
from wallets._records import TxStatus, WalletTx
from wallets._spend import coin_is_mature, is_trusted
from wallets.accounts import AddressType
from wallets.state import WalletState

__all__ = [
    "Balance",
    "HistoryEntry",
    "SendResult",
    "WalletCoin",
    "balance_of",
    "coins_of",
    "history_of",
]


@dataclass(frozen=True, slots=True)
class Balance:
    """Satoshis: spendable in blocks, waiting in the mempool, coinbase not yet mature."""

    confirmed: int
    unconfirmed: int
    immature: int

    @property
    def total(self) -> int:
        return self.confirmed + self.unconfirmed + self.immature


@dataclass(frozen=True, slots=True)
class WalletCoin:
    """An unspent output of the wallet, with where its key sits and whether a new
    transaction may spend it now (mature; confirmed or our own unconfirmed change)."""

    outpoint: OutPoint
    value: int
    address: str
    script_pubkey: bytes
    address_type: AddressType
    change: bool
    index: int
    path: str
    height: int | None
    confirmations: int
    coinbase: bool
    spendable: bool
    label: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One wallet transaction: `amount` is the change of the wallet's balance (negative
    for a payment, fee included), `fee` is known when every input was the wallet's, `time`
    is the block's time when confirmed, else when the wallet first saw it."""

    txid: bytes
    height: int | None
    time: int
    amount: int
    fee: int | None
    label: str
    status: TxStatus
    confirmations: int

    @property
    def txid_hex(self) -> str:
        return hash256_hex(self.txid)


@dataclass(frozen=True, slots=True)
class SendResult:
    """A transaction the wallet signed and journaled: its id, fee, vsize, bytes, and the
    change address it used (None when all change went to the fee)."""

    txid: bytes
    fee: int
    vsize: int
    raw: bytes
    change_address: str | None

    @property
    def txid_hex(self) -> str:
        return hash256_hex(self.txid)


def balance_of(state: WalletState) -> Balance:
    confirmed = unconfirmed = immature = 0
    for coin in state.coins.values():
        if coin.height is None:
            unconfirmed += coin.value
        elif coin_is_mature(state, coin):
            confirmed += coin.value
        else:
            immature += coin.value
    return Balance(confirmed, unconfirmed, immature)


def coins_of(state: WalletState, min_conf: int = 0) -> list[WalletCoin]:
    """Unspent coins with at least `min_conf` confirmations, oldest first."""
    tip = state.tip_height
    out = []
    for coin in state.coins.values():
        confirmations = coin.confirmations(tip)
        if confirmations < min_conf:
            continue
        record = state.by_script[coin.script_pubkey]
        mature = coin_is_mature(state, coin)
        ready = mature and (coin.height is not None or is_trusted(state, coin.outpoint.txid))
        out.append(
            WalletCoin(
                coin.outpoint,
                coin.value,
                record.address,
                coin.script_pubkey,
                record.address_type,
                bool(record.change),
                record.index,
                record.derived.path,
                coin.height,
                confirmations,
                coin.coinbase,
                ready,
                state.labels.get(record.address, ""),
            )
        )
    out.sort(key=lambda c: (-c.confirmations, c.outpoint.txid, c.outpoint.n))
    return out


def _entry(state: WalletState, wtx: WalletTx) -> HistoryEntry:
    tx = wtx.tx
    received = sum(o.value for o in tx.vout if o.script_pubkey in state.by_script)
    sent = sum(c.value for c in wtx.spent)
    fee = sent - sum(o.value for o in tx.vout) if len(wtx.spent) == len(tx.vin) else None
    label = _label_of(state, tx)
    confirmations = 0 if wtx.height is None else state.tip_height - wtx.height + 1
    time = wtx.block_time if wtx.block_time is not None else wtx.first_seen
    return HistoryEntry(
        wtx.txid, wtx.height, time, received - sent, fee, label, wtx.status, confirmations
    )


def _label_of(state: WalletState, tx: Tx) -> str:
    """The label of its first output address that has one (ours or a payee's), change
    aside: change says nothing about what a payment was for."""
    if not state.labels:
        return ""
    for out in tx.vout:
        record = state.by_script.get(out.script_pubkey)
        if record is not None and record.change:
            continue
        address = record.address if record else address_for_script(out.script_pubkey, state.params)
        if address is not None and address in state.labels:
            return state.labels[address]
    return ""


def history_of(state: WalletState) -> list[HistoryEntry]:
    """Every wallet transaction, confirmed in chain order first, then the rest by time."""
    entries = [_entry(state, w) for w in state.txs.values()]
    entries.sort(
        key=lambda e: (
            e.height is None,
            e.height or 0,
            state.txs[e.txid].position or 0,
            e.time,
            e.txid,
        )
    )
    return entries
