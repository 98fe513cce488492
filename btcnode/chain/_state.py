"""The chainstate's parts in one place, shared by its modules (not a public API)."""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.chain.active import ActiveChain
from btcnode.chain.blockstore import BlockStore
from btcnode.chain.coinsview import StoredCoins
from btcnode.chain.connect import PreparedConnect
from btcnode.chain.forkchoice import Candidates
from btcnode.chain.index import BlockIndex, BlockNode
from btcnode.chain.layout import index_key
from btcnode.chain.scriptcheck import ScriptChecker
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import ChainParams
from common.store.api import Store, WriteBatch

DEFAULT_MAX_CACHE_BYTES = 32 << 20  # Core's default -dbcache is far larger; any host has this


@dataclass(frozen=True, slots=True)
class FlushPolicy:
    """When the chainstate flushes by itself (see `flushing`): every `every_blocks` connected
    or disconnected blocks (0: never on a count) or once the cache exceeds `max_cache_bytes`.
    """

    every_blocks: int = 1
    max_cache_bytes: int = DEFAULT_MAX_CACHE_BYTES

    def __post_init__(self) -> None:
        if self.every_blocks < 0:
            raise ChainMisuse(f"flush every {self.every_blocks} blocks: must be >= 0")
        if self.max_cache_bytes < 0:
            raise ChainMisuse(f"cache budget {self.max_cache_bytes} bytes: must be >= 0")


class ChainData:
    """Store, parameters, block index, active chain, candidates, blocks and coins."""

    __slots__ = (
        "active",
        "blocks",
        "candidates",
        "checker",
        "coins",
        "flush_policy",
        "index",
        "params",
        "pending_index",
        "pending_undo",
        "pending_undo_coins",
        "prepared",
        "store",
        "unflushed_blocks",
    )

    def __init__(
        self,
        store: Store,
        params: ChainParams,
        checker: ScriptChecker,
        index: BlockIndex,
        active: ActiveChain,
        flush_policy: FlushPolicy,
    ) -> None:
        self.store = store
        self.params = params
        self.checker = checker
        self.index = index
        self.active = active
        self.candidates = Candidates()
        self.blocks = BlockStore(store)
        self.coins = StoredCoins(store)
        # The first pass of connecting the block just received on the tip, if it was started
        # early (see activation.accept_block); dropped whenever the tip changes otherwise.
        self.prepared: PreparedConnect | None = None
        # Write-back state, written by `flushing.flush` with the tip in one synced batch:
        # the undo data and index records of blocks connected since the last flush.
        self.flush_policy = flush_policy
        self.pending_undo: dict[bytes, bytes] = {}  # block hash -> encoded undo data
        self.pending_undo_coins = 0
        self.pending_index: dict[BlockNode, None] = {}  # insertion-ordered set
        self.unflushed_blocks = 0

    def add_dirty_index(self, batch: WriteBatch) -> None:
        """Put the record of every index node changed since the last flush into `batch`."""
        for node in self.index.take_dirty():
            batch.put(index_key(node.hash), node.record().encode())

    def persist_index(self, *, sync: bool = False) -> None:
        """Write the changed index records in one batch of their own."""
        batch = WriteBatch()
        self.add_dirty_index(batch)
        if len(batch):
            self.store.write(batch, sync=sync)
