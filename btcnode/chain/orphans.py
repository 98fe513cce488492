"""A bounded pool of blocks whose parent is not known yet (orphan blocks).

Blocks are kept in arrival order; when the pool is over `MAX_ORPHAN_BLOCKS` blocks or
`MAX_ORPHAN_BYTES` bytes, the oldest go first (deterministic, no randomness). Blocks wait
by parent hash, so when a block is accepted its waiting children are taken out in one step.
"""

from __future__ import annotations

from collections import OrderedDict

from btcnode.consensus.block import Block

# Orphans exist only while blocks arrive out of order (a peer sends a child before its
# parent); a few dozen cover any honest reordering.
MAX_ORPHAN_BLOCKS = 64
MAX_ORPHAN_BYTES = 64 << 20  # 16 full-size (4 MB) blocks at most held in memory


class OrphanPool:
    __slots__ = ("_blocks", "_by_parent", "_bytes", "max_blocks", "max_bytes")

    def __init__(
        self, *, max_blocks: int = MAX_ORPHAN_BLOCKS, max_bytes: int = MAX_ORPHAN_BYTES
    ) -> None:
        self.max_blocks = max_blocks
        self.max_bytes = max_bytes
        self._blocks: OrderedDict[bytes, tuple[Block, int]] = OrderedDict()
        self._by_parent: dict[bytes, set[bytes]] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._blocks)

    def __contains__(self, block_hash: bytes) -> bool:
        return block_hash in self._blocks

    @property
    def byte_size(self) -> int:
        return self._bytes

    def add(self, block: Block) -> None:
        """Keep `block` until its parent arrives, evicting the oldest orphans if full."""
        if block.hash in self._blocks:
            return
        size = block.total_size
        self._blocks[block.hash] = (block, size)
        self._by_parent.setdefault(block.header.prev_block, set()).add(block.hash)
        self._bytes += size
        while len(self._blocks) > self.max_blocks or self._bytes > self.max_bytes:
            self._remove(next(iter(self._blocks)))

    def take_children(self, parent_hash: bytes) -> list[Block]:
        """Remove and return the orphans whose parent is `parent_hash`, oldest first."""
        waiting = self._by_parent.get(parent_hash)
        if not waiting:
            return []
        ordered = [h for h in self._blocks if h in waiting]
        return [self._remove(block_hash) for block_hash in ordered]

    def _remove(self, block_hash: bytes) -> Block:
        block, size = self._blocks.pop(block_hash)
        self._bytes -= size
        siblings = self._by_parent[block.header.prev_block]
        siblings.discard(block_hash)
        if not siblings:
            del self._by_parent[block.header.prev_block]
        return block
