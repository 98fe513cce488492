"""`Chainstate`: the block tree, the active chain and its UTXO set, over one `Store`.

Sans-I/O in the STYLE sense: time comes in as `now`, storage is the `Store` handed in (a
`LevelStore` on disk or a `MemoryStore`), script checks go through the `ScriptChecker`
handed in; nothing here opens files, reads clocks or starts processes.

Entry points: `accept_header(s)` for headers-first sync, `process_block` for a block (its
header is accepted too), `invalidate_block` / `reconsider_block` for the operator, and
`activate_best_chain` to resume after `open` (the store may hold a better chain than its
tip, e.g. after a crash during a reorg). Every call that moves the tip returns a
`ChainUpdate` with the net change. The storage layout is in `btcnode.chain.layout`.

Durability contract (details in `btcnode.chain.activation` and `btcnode.chain.flushing`):
- When `process_block` (or any call that moves the tip) returns, the change is in memory
  and every read through this object sees it. The raw block is written to the store; the
  tip, UTXO set and undo data reach it only at the next flush.
- With the default `FlushPolicy()` (every_blocks=1) every call flushes before returning, so
  a returned block is durable, as it always was. With a larger `every_blocks` (initial
  sync, the benchmark) a flush happens every that many blocks, over the cache budget, and
  on `flush()`; after a crash the store reopens at the last flushed tip, consistent, and
  `activate_best_chain()` reconnects the stored blocks above it.
- After `flush()` returns, everything done so far is durable. Call it before closing.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcnode.chain import activation, flushing, headers, queries
from btcnode.chain._state import ChainData, FlushPolicy
from btcnode.chain.active import locator_hashes
from btcnode.chain.encoding import CorruptChainstate
from btcnode.chain.forkchoice import mark_invalid, reset_failure_flags, valid_floor
from btcnode.chain.index import BlockNode, IndexEntry, StatusFlag
from btcnode.chain.loading import load
from btcnode.chain.orphans import OrphanPool
from btcnode.chain.scriptcheck import ScriptChecker, SerialScriptChecker
from btcnode.chain.types import BlockOutcome, ChainTip, ChainUpdate, InvalidBlock, UtxoStats
from btcnode.consensus.block import Block, BlockHeader
from btcnode.consensus.checks import check_block
from btcnode.consensus.coins import Coin
from btcnode.consensus.errors import BlockValidationError, ChainMisuse
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import OutPoint
from common.store.api import Store


class Chainstate:
    """The node's view of the block chain; implements `ChainView` for the mempool and miner."""

    __slots__ = ("_data", "_orphans")

    def __init__(self, data: ChainData, orphans: OrphanPool) -> None:
        self._data = data
        self._orphans = orphans

    @classmethod
    def open(
        cls,
        store: Store,
        params: ChainParams,
        *,
        checker: ScriptChecker | None = None,
        orphans: OrphanPool | None = None,
        flush_policy: FlushPolicy | None = None,
    ) -> Chainstate:
        """Load the chainstate in `store`, writing the genesis block first if it is empty.

        `flush_policy` defaults to flushing after every block (see the module docstring).
        """
        index, active = load(store, params)
        checker = checker or SerialScriptChecker()
        policy = flush_policy or FlushPolicy()
        data = ChainData(store, params, checker, index, active, policy)
        data.candidates.rebuild(index, valid_floor(active.tip))
        return cls(data, orphans or OrphanPool())

    # -- ChainView ------------------------------------------------------------------------

    @property
    def params(self) -> ChainParams:
        return self._data.params

    @property
    def tip(self) -> IndexEntry:
        return self._data.active.tip.entry()

    @property
    def tip_height(self) -> int:
        return self._data.active.height

    @property
    def tip_hash(self) -> bytes:
        return self._data.active.tip.hash

    def median_time_past(self, height: int) -> int:
        return self._data.active.median_time_past(height)

    def block_time(self, height: int) -> int:
        return self._data.active.at(height).time

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self._data.coins.get_coin(outpoint)

    # -- headers and blocks -----------------------------------------------------------------

    def accept_header(self, header: BlockHeader, now: int) -> IndexEntry:
        """Add `header` to the block index (Core's AcceptBlockHeader); see `headers`."""
        try:
            return headers.accept_header(self._data.index, header, now, self.params).entry()
        finally:
            self._data.persist_index()

    def accept_headers(self, run: Sequence[BlockHeader], now: int) -> tuple[IndexEntry, ...]:
        """Add a run of consecutive headers (one P2P `headers` message, at most
        `MAX_HEADERS_PER_CALL`); headers before a bad one stay accepted."""
        try:
            nodes = headers.accept_headers(self._data.index, run, now, self.params)
        finally:
            self._data.persist_index()
        return tuple(node.entry() for node in nodes)

    def process_block(
        self, block: Block, now: int, *, raw: bytes | None = None
    ) -> ChainUpdate | BlockOutcome:
        """Accept `block`, then activate the best chain (Core's ProcessNewBlock).

        `raw`, if given, must be the serialization `block` was decoded from (with witnesses);
        it is stored as is instead of serializing the block again.

        Raises `BlockValidationError` if the block fails before it is stored (header rules,
        CheckBlock, ContextualCheckBlock). A block that fails to connect is reported in the
        update's `invalid`. A block whose parent is unknown waits in the orphan pool:
        `BlockOutcome.ORPHAN`.
        """
        data = self._data
        if data.index.get(block.hash) is None and data.index.get(block.header.prev_block) is None:
            check_block(block, self.params)
            self._orphans.add(block)
            return BlockOutcome.ORPHAN
        activation.accept_block(data, block, now, raw)
        refused = self._accept_orphans_of(block.hash, now)
        return activation.activate_best_chain(data, refused)

    def _accept_orphans_of(self, parent_hash: bytes, now: int) -> tuple[InvalidBlock, ...]:
        refused = []
        waiting = [parent_hash]
        while waiting:
            parent = waiting.pop()
            for child in self._orphans.take_children(parent):
                try:
                    activation.accept_block(self._data, child, now)
                except BlockValidationError as err:
                    height = self._data.index.get(parent)
                    refused.append(InvalidBlock(child.hash, _child_height(height), err))
                    continue
                waiting.append(child.hash)
        return tuple(refused)

    def flush(self) -> None:
        """Write every unflushed change with the tip in one synced batch (Core's
        FlushStateToDisk); afterwards the store holds the current tip. Call before closing
        the store, and after each block when every block must be durable on return."""
        flushing.flush(self._data)

    @property
    def unflushed_blocks(self) -> int:
        """Blocks connected or disconnected since the last flush (0: the store is current)."""
        return self._data.unflushed_blocks

    def activate_best_chain(self) -> ChainUpdate:
        """Move to the best valid chain the store holds (after `open`, or any time)."""
        return activation.activate_best_chain(self._data)

    def invalidate_block(self, block_hash: bytes) -> ChainUpdate:
        """Mark a block and its descendants invalid and leave them (Core's invalidateblock)."""
        data = self._data
        node = self._node(block_hash)
        if node.parent is None:
            raise ChainMisuse("the genesis block cannot be invalidated")
        mark_invalid(data.index, data.candidates, node)
        data.persist_index(sync=True)
        data.candidates.rebuild(data.index, valid_floor(data.active.tip))
        return activation.activate_best_chain(data)

    def reconsider_block(self, block_hash: bytes) -> ChainUpdate:
        """Clear the failure flags of a block, its descendants and ancestors, then activate
        the best chain (Core's reconsiderblock)."""
        data = self._data
        reset_failure_flags(data.index, self._node(block_hash))
        data.persist_index(sync=True)
        data.candidates.rebuild(data.index, valid_floor(data.active.tip))
        return activation.activate_best_chain(data)

    # -- queries ----------------------------------------------------------------------------

    def get_index(self, block_hash: bytes) -> IndexEntry | None:
        node = self._data.index.get(block_hash)
        return None if node is None else node.entry()

    def get_header(self, block_hash: bytes) -> BlockHeader | None:
        node = self._data.index.get(block_hash)
        return None if node is None else node.header

    def get_block(self, block_hash: bytes) -> Block | None:
        """The stored block, or None if its data was never received."""
        node = self._data.index.get(block_hash)
        if node is None or not node.has(StatusFlag.HAVE_DATA):
            return None
        return self._data.blocks.get(block_hash).block

    def get_raw_block(self, block_hash: bytes) -> bytes | None:
        """The stored block's serialization with witnesses, or None if its data was never
        received (serving `getdata` and `getblock` at verbosity 0 without re-encoding)."""
        node = self._data.index.get(block_hash)
        if node is None or not node.has(StatusFlag.HAVE_DATA):
            return None
        return self._data.blocks.get_raw(block_hash)

    def block_hash_at(self, height: int) -> bytes:
        """The hash of the active chain's block at `height`; `ChainMisuse` past the tip."""
        return self._data.active.at(height).hash

    def is_on_active_chain(self, block_hash: bytes) -> bool:
        node = self._data.index.get(block_hash)
        return node is not None and self._data.active.contains(node)

    @property
    def best_header(self) -> IndexEntry:
        """The most-work header not known invalid (Core's pindexBestHeader)."""
        return self._data.index.best_header.entry()

    def chain_tips(self) -> list[ChainTip]:
        return queries.chain_tips(self._data.index, self._data.active)

    def locator(self, block_hash: bytes | None = None) -> list[bytes]:
        """Block locator from `block_hash` (default: the tip) for P2P getheaders."""
        node = self._data.active.tip if block_hash is None else self._node(block_hash)
        return locator_hashes(node)

    def find_fork(self, locator: Sequence[bytes]) -> IndexEntry:
        """The last active-chain block the locator's sender has (FindForkInGlobalIndex)."""
        return self._data.active.find_fork(locator, self._data.index.get).entry()

    def utxo_stats(self) -> UtxoStats:
        """Statistics of the UTXO set at the tip; flushes first, as they walk the store."""
        flushing.flush(self._data)
        return queries.utxo_stats(self._data.store, self._height_of)

    @property
    def orphan_count(self) -> int:
        return len(self._orphans)

    def _height_of(self, block_hash: bytes) -> int:
        node = self._data.index.get(block_hash)
        if node is None:
            raise CorruptChainstate(f"stored tip {hash256_hex(block_hash)} is not indexed")
        return node.height

    def _node(self, block_hash: bytes) -> BlockNode:
        node = self._data.index.get(block_hash)
        if node is None:
            raise ChainMisuse(f"block {hash256_hex(block_hash)} is not in the block index")
        return node


def _child_height(parent: BlockNode | None) -> int:
    return -1 if parent is None else parent.height + 1
