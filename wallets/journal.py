"""The send journal: a signed transaction is written down (synced) before it is broadcast,
so a crash between signing and broadcasting never loses it.

The order is the contract:
1. `record_send` puts the journal entry (PENDING) and the transaction, applied as an
   unconfirmed wallet tx spending its coins, into ONE batch written with sync=True; from
   then on the coins are spent for the wallet and no later send can reuse them;
2. `broadcast_entry` sends it with sendrawtransaction; accepted (or "already in the chain",
   Core's -27) marks it BROADCAST (synced); a refusal undoes it and says why;
3. `resend_journal` (every sync) sends again every entry the node's mempool lacks, so a
   transaction journaled by a process that died before step 2 reaches the node.
An entry leaves the journal when its transaction confirms or can never confirm.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, replace

from btcnode.consensus.tx import Tx
from btcnode.rpc.errors import RpcErrorCode
from wallets._ledger import apply_tx, undo_tx
from wallets._node import NodeClient, NodeRefused, call_node
from wallets._records import JournalEntry, JournalStatus, TxStatus
from wallets.state import WalletState

__all__ = [
    "JournalEntry",
    "JournalStatus",
    "ResendOutcome",
    "broadcast_entry",
    "record_send",
    "resend_journal",
]

_ALREADY_DONE = (RpcErrorCode.VERIFY_ALREADY_IN_CHAIN,)
_INPUTS_GONE = RpcErrorCode.VERIFY_ERROR  # -25 "bad-txns-inputs-missingorspent" (Core)


@dataclass(frozen=True, slots=True)
class ResendOutcome:
    """What a resend did: txids the node took, txids it can never take (undone), and
    txids it refused for now with Core's message (kept for the next sync)."""

    sent: tuple[bytes, ...]
    dropped: tuple[bytes, ...]
    refused: tuple[tuple[bytes, str], ...]


def record_send(
    state: WalletState, tx: Tx, now: int, replaces: bytes | None = None
) -> JournalEntry:
    """Journal `tx` and apply it as unconfirmed (a bump first marks `replaces` REPLACED),
    in one synced write together with any pending change (e.g. the change address)."""
    if replaces is not None:
        undo_tx(state, replaces, TxStatus.REPLACED, replaced_by=tx.txid)
    entry = JournalEntry(tx.txid, tx.serialize(), JournalStatus.PENDING, now, replaces)
    apply_tx(state, tx, now)
    state.put_journal(entry)
    state.commit(sync=True)
    return entry


def _mark_broadcast(state: WalletState, entry: JournalEntry) -> None:
    if entry.status is not JournalStatus.BROADCAST:
        state.put_journal(replace(entry, status=JournalStatus.BROADCAST))


def _restore_replaced(state: WalletState, entry: JournalEntry, now: int) -> None:
    """A refused bump: the original is ours again, unconfirmed."""
    if entry.replaces is None:
        return
    original = state.txs.get(entry.replaces)
    if original is not None and original.status is TxStatus.REPLACED:
        apply_tx(state, original.tx, now)


def broadcast_entry(state: WalletState, node: NodeClient, entry: JournalEntry, now: int) -> None:
    """Send a journaled tx. Refused: it is undone (ABANDONED) and `NodeRefused` raised;
    the node unreachable: it stays journaled and `NodeUnavailable` propagates."""
    try:
        call_node(node, "sendrawtransaction", entry.raw.hex())
    except NodeRefused as err:
        if err.code not in _ALREADY_DONE:
            undo_tx(state, entry.txid, TxStatus.ABANDONED)
            state.drop_journal(entry.txid)
            _restore_replaced(state, entry, now)
            state.commit(sync=True)
            raise
    _mark_broadcast(state, entry)
    state.commit(sync=True)


def _resend_one(state: WalletState, node: NodeClient, entry: JournalEntry) -> str | None:
    """None if the node has it now; Core's message if it refused."""
    try:
        call_node(node, "sendrawtransaction", entry.raw.hex())
    except NodeRefused as err:
        if err.code not in _ALREADY_DONE:
            inputs_gone = err.code == _INPUTS_GONE and "missing" in err.message
            return "" if inputs_gone else f"{err.message} (code {err.code})"
    _mark_broadcast(state, entry)
    return None


def resend_journal(
    state: WalletState, node: NodeClient, mempool: Container[bytes]
) -> ResendOutcome:
    """Every journaled tx the node lacks, sent again (oldest first, twice round so a child
    sent before its parent gets a second chance). Entries whose tx confirmed or was undone
    leave the journal; a tx whose inputs are gone is CONFLICTED."""
    sent: list[bytes] = []
    refused: dict[bytes, str] = {}
    entries = sorted(state.journal.values(), key=lambda e: (e.created, e.txid))
    for entry in entries:
        wtx = state.txs.get(entry.txid)
        if wtx is None or not wtx.status.is_applied or wtx.height is not None:
            state.drop_journal(entry.txid)
        elif entry.txid in mempool:
            _mark_broadcast(state, entry)
        else:
            refused[entry.txid] = ""
    for _ in range(2):
        for txid in list(refused):
            reason = _resend_one(state, node, state.journal[txid])
            if reason is None:
                sent.append(txid)
                del refused[txid]
            else:
                refused[txid] = reason
    dropped = []
    for txid, reason in list(refused.items()):
        if reason == "":  # inputs missing or spent: it can never confirm
            undo_tx(state, txid, TxStatus.CONFLICTED)
            dropped.append(txid)
            del refused[txid]
    return ResendOutcome(tuple(sent), tuple(dropped), tuple(refused.items()))
