"""What a chain change means for the mempool (Core's MaybeUpdateMempoolForReorg).

`resurrected_txs` lists the transactions of disconnected blocks in the order they were
first confirmed (oldest block first, block order within it), without coinbases and without
those the new chain confirms again, so parents come back before their children.
`over_ancestor_limits` finds the descendants a returning parent pushed past the ancestor
limits (Core's UpdateForDescendants), `invalid_on_chain` the entries the new tip no longer
allows in the next block: non-final, sequence-locked, spending an immature coinbase or a
coin the chain no longer has (Core's removeForReorg filter).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from btcnode.consensus.block import Block
from btcnode.consensus.coins import MEMPOOL_HEIGHT, ChainView
from btcnode.consensus.contextual import (
    calculate_sequence_locks,
    evaluate_sequence_locks,
    is_final_tx,
)
from btcnode.consensus.tx import Tx
from btcnode.mempool._graph import TxGraph
from btcnode.mempool.entry import MempoolEntry
from btcnode.mempool.policy import Limits


class ChainChange(Protocol):
    """What `Chainstate.process_block` reports (btcnode.chain's ChainUpdate)."""

    @property
    def disconnected(self) -> tuple[Block, ...]: ...  # old tip first

    @property
    def connected(self) -> tuple[Block, ...]: ...  # fork point + 1 first


def resurrected_txs(change: ChainChange) -> list[Tx]:
    confirmed_again = {tx.txid for block in change.connected for tx in block.txs}
    return [
        tx
        for block in reversed(change.disconnected)
        for tx in block.txs
        if not tx.is_coinbase() and tx.txid not in confirmed_again
    ]


def over_ancestor_limits(graph: TxGraph, readded: Iterable[bytes], limits: Limits) -> set[bytes]:
    found: set[bytes] = set()
    for txid in readded:
        if txid not in graph:
            continue
        for d in graph.descendants(txid):
            entry = graph.entry(d)
            if (
                entry.ancestor_count > limits.ancestor_count
                or entry.ancestor_size > limits.ancestor_size_vbytes
            ):
                found.add(d)
    return found


def invalid_on_chain(graph: TxGraph, chain: ChainView) -> set[bytes]:
    return {entry.txid for entry in graph if not _still_valid(graph, chain, entry)}


def _still_valid(graph: TxGraph, chain: ChainView, entry: MempoolEntry) -> bool:
    tx = entry.tx
    height = chain.tip_height + 1
    tip_mtp = chain.median_time_past(chain.tip_height)
    if not is_final_tx(tx, height, tip_mtp):
        return False
    prev_heights = []
    for txin in tx.vin:
        if txin.prevout.txid in graph:
            prev_heights.append(height)
            continue
        coin = chain.get_coin(txin.prevout)
        if coin is None or coin.height == MEMPOOL_HEIGHT:
            return False  # its parent left with a conflicting chain
        if coin.is_coinbase and height - coin.height < chain.params.coinbase_maturity:
            return False
        prev_heights.append(coin.height)
    locks = calculate_sequence_locks(tx, True, prev_heights, chain.median_time_past, height)
    return evaluate_sequence_locks(height, tip_mtp, locks)
