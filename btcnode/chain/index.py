"""The block index: every header the node accepted, as a tree, with status and chain work.

Nodes (`BlockNode`) are the chainstate's mutable bookkeeping (Core's CBlockIndex): the header
fields never change once added; `status`, `sequence_id` and `have_chain` change only through
`BlockIndex` and the chainstate, which record each change in `dirty` so the record is
persisted. Callers outside the package see frozen `IndexEntry` snapshots.

Invariants: a node's parent is in the index (except the genesis node, which has none);
`chain_work` is the parent's plus `block_proof(bits)`; `skip` is the ancestor at
`skip_height(height)` (Core's pskip), so `ancestor` is O(log n); `have_chain` is true iff the
node and every ancestor have their block data stored (Core's nChainTx != 0).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from btcnode.chain.layout import IndexRecord
from btcnode.consensus.block import BlockHeader
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.pow_target import block_proof


class Validity(enum.IntEnum):
    """How far a block was validated (Core's BlockStatus BLOCK_VALID_* levels)."""

    UNKNOWN = 0
    TREE = 2  # the header is valid and descends from valid headers
    TRANSACTIONS = 3  # the block's context-free and contextual checks passed
    CHAIN = 4  # (Core: outputs do not overspend); reached only together with SCRIPTS here
    SCRIPTS = 5  # the block was connected: inputs, amounts, sigops and scripts all valid


class StatusFlag(enum.IntFlag):
    """Core's BlockStatus flags above the validity level (same bit values)."""

    NONE = 0
    HAVE_DATA = 8  # the raw block is stored
    HAVE_UNDO = 16  # undo data is stored (the block was connected at least once)
    FAILED_VALID = 32  # the block itself broke a rule
    FAILED_CHILD = 64  # an ancestor broke a rule

    @classmethod
    def failed(cls) -> StatusFlag:
        return cls.FAILED_VALID | cls.FAILED_CHILD


VALIDITY_MASK = 7


@dataclass(frozen=True, slots=True)
class BlockStatus:
    """A validity level with flags; `encode()` is Core's nStatus byte."""

    validity: Validity
    flags: StatusFlag

    @property
    def failed(self) -> bool:
        return bool(self.flags & StatusFlag.failed())

    @property
    def have_data(self) -> bool:
        return bool(self.flags & StatusFlag.HAVE_DATA)

    def encode(self) -> int:
        return int(self.validity) | int(self.flags)

    @classmethod
    def decode(cls, raw: int) -> BlockStatus:
        return cls(Validity(raw & VALIDITY_MASK), StatusFlag(raw & ~VALIDITY_MASK))


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """A read-only snapshot of one block index node."""

    hash: bytes
    header: BlockHeader
    height: int
    chain_work: int
    status: BlockStatus
    sequence_id: int  # order in which block data arrived; 0 = no data received yet

    @property
    def time(self) -> int:
        return self.header.time

    @property
    def bits(self) -> int:
        return self.header.bits

    @property
    def prev_hash(self) -> bytes:
        return self.header.prev_block


NO_SEQUENCE_ID = 0  # the sequence id of a node whose block data never arrived


def with_validity(status: int, level: Validity) -> int:
    """`status` with its validity level raised to at least `level`."""
    return (status & ~VALIDITY_MASK) | max(status & VALIDITY_MASK, int(level))


def skip_height(height: int) -> int:
    """Core's GetSkipHeight: the height a node's skip pointer jumps to."""
    if height < 2:
        return 0
    if height & 1:
        return _invert_lowest_one(_invert_lowest_one(height - 1)) + 1
    return _invert_lowest_one(height)


def _invert_lowest_one(n: int) -> int:
    return n & (n - 1)


class BlockNode:
    """One header in the tree; see the module docstring for which fields may change."""

    __slots__ = (
        "chain_work",
        "hash",
        "have_chain",
        "header",
        "height",
        "parent",
        "sequence_id",
        "skip",
        "status",
    )

    def __init__(
        self, header: BlockHeader, parent: BlockNode | None, status: int, sequence_id: int
    ) -> None:
        self.header = header
        self.hash: bytes = header.hash
        self.parent = parent
        self.height: int = 0 if parent is None else parent.height + 1
        base_work = 0 if parent is None else parent.chain_work
        self.chain_work: int = base_work + block_proof(header.bits)
        self.skip = None if parent is None else parent.ancestor(skip_height(self.height))
        self.status = status
        self.sequence_id = sequence_id
        self.have_chain = False

    @property
    def time(self) -> int:
        return self.header.time

    @property
    def bits(self) -> int:
        return self.header.bits

    @property
    def validity(self) -> int:
        return self.status & VALIDITY_MASK

    def has(self, flag: StatusFlag) -> bool:
        return bool(self.status & flag)

    @property
    def failed(self) -> bool:
        return bool(self.status & StatusFlag.failed())

    def raise_validity(self, level: Validity) -> bool:
        """Raise the validity level to `level` (never lower it); True if it changed."""
        if self.failed or self.validity >= level:
            return False
        self.status = with_validity(self.status, level)
        return True

    def ancestor(self, height: int) -> BlockNode:
        """The ancestor at `height` (Core's GetAncestor, via skip pointers)."""
        if not 0 <= height <= self.height:
            raise ChainMisuse(f"no ancestor at height {height} of a node at {self.height}")
        walk: BlockNode = self
        walk_height = self.height
        while walk_height > height:
            jump = skip_height(walk_height)
            jump_prev = skip_height(walk_height - 1)
            if walk.skip is not None and (
                jump == height or (jump > height and not (height <= jump_prev < jump - 2))
            ):
                walk, walk_height = walk.skip, jump
            else:
                assert walk.parent is not None
                walk, walk_height = walk.parent, walk_height - 1
        return walk

    def record(self) -> IndexRecord:
        """The node's stored form."""
        return IndexRecord(self.header, self.height, self.status, self.sequence_id)

    def entry(self) -> IndexEntry:
        return IndexEntry(
            self.hash,
            self.header,
            self.height,
            self.chain_work,
            BlockStatus.decode(self.status),
            self.sequence_id,
        )

    def __repr__(self) -> str:
        short = hash256_hex(self.hash)[:16]
        return f"<BlockNode {short} height={self.height} status={self.status}>"


class AncestorCursor:
    """`ancestor(height)` of one node, O(1) per call when heights are asked going down one at
    a time (the min-difficulty walk of `next_work_required` asks every height back to the
    last retarget), O(log n) otherwise."""

    __slots__ = ("_last", "_node")

    # Walking parents beats a skip-pointer search for a gap up to about this many blocks.
    MAX_PARENT_STEPS = 32

    def __init__(self, node: BlockNode) -> None:
        self._node = node
        self._last = node

    def __call__(self, height: int) -> BlockNode:
        last = self._last
        if height > last.height or last.height - height > self.MAX_PARENT_STEPS:
            last = self._node.ancestor(height)
        while last.height > height:
            assert last.parent is not None
            last = last.parent
        self._last = last
        return last


def last_common_ancestor(a: BlockNode, b: BlockNode) -> BlockNode:
    """The highest node that is an ancestor of (or equal to) both (Core's LastCommonAncestor)."""
    if a.height > b.height:
        a = a.ancestor(b.height)
    elif b.height > a.height:
        b = b.ancestor(a.height)
    while a is not b:
        assert a.parent is not None and b.parent is not None, "nodes of two different trees"
        a, b = a.parent, b.parent
    return a


def header_key(node: BlockNode) -> tuple[int, bool, int, bytes]:
    """Sort key for the best header, largest best: work, then (as `work_key`) blocks whose
    data arrived, first-seen first; so the choice is the same before and after a restart."""
    has_data = node.sequence_id != NO_SEQUENCE_ID
    return node.chain_work, has_data, -node.sequence_id, node.hash


def work_key(node: BlockNode) -> tuple[int, int, bytes]:
    """Sort key for fork choice, largest best (Core's CBlockIndexWorkComparator).

    More work wins; on equal work the block whose data arrived first (lower sequence id)
    wins; the hash only orders nodes that nothing else separates.
    """
    return node.chain_work, -node.sequence_id, node.hash


class BlockIndex:
    """Every accepted header by hash, with child links and the most-work valid header."""

    __slots__ = ("_children", "_nodes", "best_header", "dirty", "genesis", "next_sequence_id")

    def __init__(self, genesis: BlockNode) -> None:
        self._nodes: dict[bytes, BlockNode] = {genesis.hash: genesis}
        self._children: dict[bytes, list[BlockNode]] = {}
        self.genesis = genesis
        self.best_header = genesis
        self.dirty: dict[bytes, BlockNode] = {}
        self.next_sequence_id = max(genesis.sequence_id, NO_SEQUENCE_ID) + 1

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[BlockNode]:
        return iter(self._nodes.values())

    def get(self, block_hash: bytes) -> BlockNode | None:
        return self._nodes.get(block_hash)

    def children(self, node: BlockNode) -> list[BlockNode]:
        return self._children.get(node.hash, [])

    def add(self, header: BlockHeader, status: int, sequence_id: int) -> BlockNode:
        """Insert a header whose parent is in the index; returns the new node."""
        parent = self._nodes.get(header.prev_block)
        if parent is None:
            raise ChainMisuse(f"parent {hash256_hex(header.prev_block)} is not in the index")
        node = BlockNode(header, parent, status, sequence_id)
        self._nodes[node.hash] = node
        self._children.setdefault(parent.hash, []).append(node)
        self.next_sequence_id = max(self.next_sequence_id, sequence_id + 1)
        self._consider_best_header(node)
        return node

    def _consider_best_header(self, node: BlockNode) -> None:
        if not node.failed and header_key(node) > header_key(self.best_header):
            self.best_header = node

    def mark_dirty(self, node: BlockNode) -> None:
        self.dirty[node.hash] = node

    def take_dirty(self) -> list[BlockNode]:
        """The nodes changed since the last call, to be persisted."""
        nodes = list(self.dirty.values())
        self.dirty.clear()
        return nodes

    def assign_sequence_id(self, node: BlockNode) -> None:
        node.sequence_id = self.next_sequence_id
        self.next_sequence_id += 1
        self.mark_dirty(node)
        self._consider_best_header(node)

    def descendants(self, node: BlockNode) -> Iterator[BlockNode]:
        """Every strict descendant of `node`, parents before children."""
        todo = list(self.children(node))
        while todo:
            child = todo.pop()
            yield child
            todo.extend(self.children(child))

    def tips(self) -> list[BlockNode]:
        """Nodes without children."""
        return [node for node in self._nodes.values() if node.hash not in self._children]

    def recompute_best_header(self) -> None:
        """Re-pick the most-work header that is not failed (after failure flags change)."""
        valid = (node for node in self._nodes.values() if not node.failed)
        self.best_header = max(valid, key=header_key, default=self.genesis)
