"""The chainstate's parts in one place, shared by its modules (not a public API)."""

from __future__ import annotations

from btcnode.chain.active import ActiveChain
from btcnode.chain.blockstore import BlockStore
from btcnode.chain.coinsview import StoredCoins
from btcnode.chain.connect import PreparedConnect
from btcnode.chain.forkchoice import Candidates
from btcnode.chain.index import BlockIndex
from btcnode.chain.layout import index_key
from btcnode.chain.scriptcheck import ScriptChecker
from btcnode.consensus.params import ChainParams
from common.store.api import Store, WriteBatch


class ChainData:
    """Store, parameters, block index, active chain, candidates, blocks and coins."""

    __slots__ = (
        "active",
        "blocks",
        "candidates",
        "checker",
        "coins",
        "index",
        "params",
        "prepared",
        "store",
    )

    def __init__(
        self,
        store: Store,
        params: ChainParams,
        checker: ScriptChecker,
        index: BlockIndex,
        active: ActiveChain,
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
