"""When and how the chainstate's write-back state reaches the store (Core's FlushStateToDisk).

Connecting or disconnecting a block changes memory only: the coin cache (`StoredCoins`), the
pending undo data and the pending index records of connected blocks. A flush writes all of
it, with the tip, in ONE `WriteBatch` written with `sync=True`, so the store always holds a
consistent (tip, UTXO set, undo data) snapshot: the state after the last flush.

`FlushPolicy` says when the chainstate flushes by itself, after a block is connected or
disconnected: every `every_blocks` blocks (1 = after each block, today's per-block
durability; 0 = never on a count, only on the byte budget or an explicit flush) or once
the cache is estimated to exceed `max_cache_bytes`.
"""

from __future__ import annotations

from btcnode.chain._state import DEFAULT_MAX_CACHE_BYTES, ChainData, FlushPolicy
from btcnode.chain.layout import TIP_KEY, index_key, undo_key
from common.store.api import WriteBatch

IBD_FLUSH_BLOCKS = 100  # initial sync: one fsync per 100 blocks; a crash replays at most that
# Initial sync's cache budget: Core's default -dbcache (450 MiB). With the everyday 32 MiB
# budget, blocks of 2,000 transactions force a flush every 27 blocks, each about 350 ms.
IBD_MAX_CACHE_BYTES = 450 << 20
# Estimated memory of one cached coin or undo coin: tracemalloc shows about 220 bytes for a
# P2PKH coin with its 37-byte key, `Coin` and `TxOut` objects and dict slot; rounded up for
# dict growth and undo bookkeeping.
CACHED_COIN_BYTES = 300


def cache_bytes(data: ChainData) -> int:
    """The estimated memory held by unflushed coins and undo data."""
    return (data.coins.pending_count + data.pending_undo_coins) * CACHED_COIN_BYTES


def block_changed(data: ChainData) -> None:
    """Count one connected or disconnected block and flush if the policy says so."""
    policy = data.flush_policy
    data.unflushed_blocks += 1
    due = policy.every_blocks and data.unflushed_blocks >= policy.every_blocks
    if due or cache_bytes(data) > policy.max_cache_bytes:
        flush(data)


def flush(data: ChainData) -> None:
    """Write the coin changes, undo data, index records and tip in one synced batch."""
    batch = WriteBatch()
    data.coins.write_to(batch)
    for block_hash, undo in data.pending_undo.items():
        batch.put(undo_key(block_hash), undo)
    for node in data.pending_index:
        batch.put(index_key(node.hash), node.record().encode())
    data.add_dirty_index(batch)
    batch.put(TIP_KEY, data.active.tip.hash)
    data.store.write(batch, sync=True)
    data.pending_undo.clear()
    data.pending_index.clear()
    data.pending_undo_coins = 0
    data.unflushed_blocks = 0


__all__ = [
    "DEFAULT_MAX_CACHE_BYTES",
    "IBD_FLUSH_BLOCKS",
    "IBD_MAX_CACHE_BYTES",
    "FlushPolicy",
    "block_changed",
    "flush",
]
