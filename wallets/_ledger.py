"""How transactions move a wallet's coins: apply, confirm, unconfirm, undo, and blocks
connected and disconnected.

Invariants kept on `WalletState`:
- a transaction is *applied* (CONFIRMED or UNCONFIRMED) iff its wallet outputs that nobody
  spends are in `coins` and each wallet coin it spends is recorded in `spender` and absent
  from `coins`;
- undoing a transaction first undoes every applied transaction spending its outputs
  (they can no longer be valid), then gives back the coins it spent;
- a block is disconnected tip first and, inside a block, last transaction first, so every
  undo sees its descendants already gone.

Pure: the caller passes `now` and what the node's mempool holds.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, replace

from btcnode.consensus.tx import OutPoint, Tx
from wallets._records import Coin, TxStatus, WalletTx
from wallets.scan import BlockMatch
from wallets.state import WalletState

__all__ = [
    "BlockPlace",
    "apply_tx",
    "connect_block",
    "disconnect_block",
    "unconfirm_tx",
    "undo_tx",
]


@dataclass(frozen=True, slots=True)
class BlockPlace:
    """Where a transaction is confirmed."""

    height: int
    block_hash: bytes
    time: int
    position: int


def _confirm(state: WalletState, wtx: WalletTx, place: BlockPlace) -> None:
    state.put_tx(wtx.confirmed_at(place.height, place.block_hash, place.time, place.position))
    _set_output_heights(state, wtx, place.height)


def _set_output_heights(state: WalletState, wtx: WalletTx, height: int | None) -> None:
    for n in range(len(wtx.tx.vout)):
        coin = state.coins.get(OutPoint(wtx.txid, n))
        if coin is not None:
            state.put_coin(replace(coin, height=height))


def _conflicts(state: WalletState, tx: Tx, txid: bytes) -> list[bytes] | None:
    """The unconfirmed wallet txs `tx` double-spends; None if it double-spends a confirmed one."""
    found = []
    for txin in tx.vin:
        other = state.spender.get(txin.prevout)
        if other is None or other == txid:
            continue
        if state.txs[other].height is not None:
            return None
        found.append(other)
    return found


def apply_tx(state: WalletState, tx: Tx, now: int, place: BlockPlace | None = None) -> bool:
    """Take `tx` into the wallet (confirmed at `place`, or unconfirmed): True if it touched
    the wallet. A confirmed tx double-spending unconfirmed ones makes them CONFLICTED; an
    unconfirmed one conflicting with a confirmed wallet tx is ignored."""
    txid = tx.txid
    existing = state.txs.get(txid)
    if existing is not None and existing.status.is_applied:
        if place is not None and existing.height is None:
            _confirm(state, existing, place)
            return True
        return False
    conflicts = _conflicts(state, tx, txid)
    if conflicts is None:
        return False
    for other in conflicts:
        undo_tx(state, other, TxStatus.CONFLICTED)
    spent = tuple(state.coins[i.prevout] for i in tx.vin if i.prevout in state.coins)
    received = [n for n, out in enumerate(tx.vout) if out.script_pubkey in state.by_script]
    if not spent and not received and existing is None:
        return False
    first_seen = now if existing is None else existing.first_seen
    wtx = WalletTx(txid, tx.serialize(), TxStatus.UNCONFIRMED, first_seen, spent)
    if place is not None:
        wtx = wtx.confirmed_at(place.height, place.block_hash, place.time, place.position)
    state.put_tx(wtx)
    for coin in spent:
        state.drop_coin(coin.outpoint)
        state.set_spender(coin.outpoint, txid)
    height = None if place is None else place.height
    coinbase = tx.is_coinbase()
    for n in received:
        out = tx.vout[n]
        if OutPoint(txid, n) not in state.spender:
            state.put_coin(Coin(OutPoint(txid, n), out.value, out.script_pubkey, height, coinbase))
    state.mark_used([tx.vout[n].script_pubkey for n in received])
    return True


def undo_tx(
    state: WalletState, txid: bytes, status: TxStatus, replaced_by: bytes | None = None
) -> None:
    """Take an applied tx out of the wallet's coins, with `status` (not an applied one)."""
    assert not status.is_applied
    wtx = state.txs[txid]
    if not wtx.status.is_applied:
        return
    for n in range(len(wtx.tx.vout)):
        outpoint = OutPoint(txid, n)
        child = state.spender.get(outpoint)
        if child is not None:
            undo_tx(state, child, TxStatus.CONFLICTED)
        state.drop_coin(outpoint)
    state.put_tx(wtx.with_status(status, replaced_by))
    for coin in wtx.spent:
        state.set_spender(coin.outpoint, None)
        state.put_coin(coin)
    state.drop_journal(txid)


def unconfirm_tx(state: WalletState, txid: bytes) -> None:
    """A confirmed tx back to unconfirmed (its block left the chain, it is in the mempool)."""
    wtx = state.txs[txid]
    state.put_tx(wtx.with_status(TxStatus.UNCONFIRMED))
    _set_output_heights(state, wtx, None)


def connect_block(state: WalletState, match: BlockMatch, height: int, now: int) -> list[bytes]:
    """Apply a scanned block's matches and move the cursor to it; the txids it touched."""
    touched = []
    for m in match.matches:
        place = BlockPlace(height, match.block_hash, match.time, m.position)
        if apply_tx(state, m.tx, now, place):
            touched.append(m.tx.txid)
    state.set_cursor(height, match.block_hash)
    return touched


def disconnect_block(state: WalletState, height: int, mempool: Container[bytes]) -> None:
    """Undo the block at `height` (the cursor's): its txs still in the node's mempool become
    unconfirmed, the others CONFLICTED (a later block may confirm them again)."""
    confirmed = [w for w in state.txs.values() if w.height == height]
    confirmed.sort(key=lambda w: w.position or 0, reverse=True)
    for wtx in confirmed:
        if wtx.txid in mempool:
            unconfirm_tx(state, wtx.txid)
        else:
            undo_tx(state, wtx.txid, TxStatus.CONFLICTED)
    state.rewind_cursor(height)
