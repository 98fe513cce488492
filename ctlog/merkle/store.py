"""`MerkleStore`: the RFC 6962 tree of a log, its node hashes persisted as tiles in a `Store`.

Layout under the key prefix P (see docs/ctlog/merkle.md):

    P + b"size"                       -> tree size, uint64 big-endian
    P + b"t" + uint8 L + uint64 N     -> stored tile (L, N): rows 0-7 (`_layout`)

Appends compute only the new nodes, from the in-memory partial ("edge") tile of each tile
level, and add the changed tiles and the new size to the caller's `WriteBatch`; nothing is
read back. Reads follow plan, fetch, finish (STYLE §2): `plan` names the complete nodes a
root or proof needs at any size up to the current one, `_node_hashes` reads each tile they
fall in once (O(log n) reads, no hashing inside tiles), and the plan finishes the result.

Invariants: the stored size and tiles change in one batch, so every complete node of the
stored size is in a stored tile; tiles touched by appends whose batch may not be written yet
are served from memory (`_pending`) until the stored size shows they were; batches must be
written in the order of the appends that filled them, or dropped followed by `reload()`.

This module does no I/O of its own: it reads and writes only through the store and batch it
is handed (a `common.store` `Store` and `WriteBatch` fit the two small protocols below), so
it imports no storage code at all.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from ctlog.errors import UsageError
from ctlog.merkle._hashing import HASH_SIZE
from ctlog.merkle._layout import (
    EMPTY_EDGE,
    ROW_STARTS,
    CorruptTileError,
    grow_level,
    tile_rows,
    tile_width_of,
)
from ctlog.merkle.plan import NodeId, consistency_plan, fold_root, inclusion_plan, root_plan
from ctlog.merkle.tiles import MAX_TREE_SIZE, TILE_HEIGHT, TILE_WIDTH, tile_width

# Tiles of appends that may not be written yet; past this many, one read of the stored size
# drops those that were. The log writes each batch before the next append, so it stays small.
MAX_PENDING_TILES = 64
# Recently read tiles kept decoded in memory: the few upper-level tiles every proof touches
# stay hot; 256 full tiles are about 4 MiB.
MAX_CACHED_TILES = 256
SIZE_BYTES = 8  # RFC 6962 §3.5: tree_size is a uint64
MAX_TREE_LEVEL = 63  # a uint64-sized tree has nodes up to level 63

_TILE_KEY = struct.Struct(">BQ")

# Per tree level: its tile level, its row in the tile, and the shift and mask that split a
# node index into (tile index, offset in the row).
_GEOMETRY = tuple(
    (
        level // TILE_HEIGHT,
        level % TILE_HEIGHT,
        TILE_HEIGHT - level % TILE_HEIGHT,
        (1 << (TILE_HEIGHT - level % TILE_HEIGHT)) - 1,
    )
    for level in range(MAX_TREE_LEVEL + 1)
)


class StoreReader(Protocol):
    """What MerkleStore reads from: any `common.store.Store` (or snapshot)."""

    def get(self, key: bytes) -> bytes | None: ...


class BatchWriter(Protocol):
    """What MerkleStore writes to: any `common.store.WriteBatch`."""

    def put(self, key: bytes, value: bytes) -> None: ...


_Tile = tuple[bytes, tuple[int, ...], int]
"""A stored tile value, the start of each row in it (in hashes), and its width."""


class MerkleStore:
    """Node hashes of one RFC 6962 Merkle tree over `store`, under the key `prefix`."""

    __slots__ = (
        "_cache",
        "_edges",
        "_pending",
        "_pending_sizes",
        "_prefix",
        "_size",
        "_size_key",
        "_store",
        "_trim_at",
    )

    def __init__(self, store: StoreReader, prefix: bytes = b"merkle/") -> None:
        if not isinstance(prefix, bytes):
            raise UsageError(f"key prefix must be bytes, got {type(prefix).__name__}")
        self._store = store
        self._prefix = prefix
        self._size_key = prefix + b"size"
        self._size = 0
        self._edges: list[tuple[bytes, ...]] = []
        # Tiles changed by appends (by (level, index)) and the tree size each belongs to.
        self._pending: dict[tuple[int, int], _Tile] = {}
        self._pending_sizes: dict[tuple[int, int], int] = {}
        self._trim_at = MAX_PENDING_TILES
        self._cache: OrderedDict[tuple[int, int], _Tile] = OrderedDict()
        self.reload()

    @property
    def size(self) -> int:
        """The number of leaves, including appends whose batch is not written yet."""
        return self._size

    def reload(self) -> None:
        """Forget everything in memory and read the stored size and edge tiles again."""
        self._pending.clear()
        self._pending_sizes.clear()
        self._trim_at = MAX_PENDING_TILES
        self._cache.clear()
        self._size = self._stored_size()
        self._edges = [self._load_edge(level) for level in range(self._tile_levels(self._size))]

    def append(self, leaf_hashes: Sequence[bytes], batch: BatchWriter) -> None:
        """Append leaves by their Merkle leaf hashes; add the changed tiles and the new size to
        `batch`, which the caller writes (with its own data) before the next append's batch."""
        bottom = _joined_hashes(leaf_hashes)
        old_size, new_size = self._size, self._size + len(leaf_hashes)
        if new_size > MAX_TREE_SIZE:
            raise UsageError(f"appending {len(leaf_hashes)} leaves overflows a uint64 tree size")
        level = 0
        while bottom:
            if level == len(self._edges):
                self._edges.append(EMPTY_EDGE)
            first = (old_size >> (TILE_HEIGHT * level)) >> TILE_HEIGHT
            growth = grow_level(first, self._edges[level], bottom)
            for index, value in growth.tiles:
                batch.put(self._tile_key(level, index), value)
                width = tile_width_of(value)
                self._pending[level, index] = (value, ROW_STARTS[width], width)
                self._pending_sizes[level, index] = new_size
                self._cache.pop((level, index), None)
            self._edges[level] = growth.edge
            bottom = growth.parents
            level += 1
        if new_size != old_size:
            batch.put(self._size_key, new_size.to_bytes(SIZE_BYTES, "big"))
            self._size = new_size
        self._trim_pending()

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all); EMPTY_ROOT for 0 (RFC 6962 §2.1)."""
        size = self._size if size is None else self._check_size("tree size", size)
        return fold_root(self._node_hashes(root_plan(size)))

    def leaf_hash(self, index: int) -> bytes:
        """The Merkle leaf hash of leaf `index`."""
        self._check_index(index, self._size)
        return self._node_hashes([(0, index)])[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]) (RFC 6962 §2.1.1) for 0 <= index < size <= self.size."""
        self._check_size("tree size", size)
        plan = inclusion_plan(index, size)  # UsageError unless 0 <= index < size
        return plan.finish(self._node_hashes(plan.nodes))

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """PROOF(size1, D[size2]) (RFC 6962 §2.1.2) for 0 < size1 <= size2 <= self.size."""
        self._check_size("second tree size", size2)
        plan = consistency_plan(size1, size2)  # UsageError unless 0 < size1 <= size2
        return plan.finish(self._node_hashes(plan.nodes))

    def hash_tile(self, level: int, index: int, width: int) -> bytes:
        """The C2SP tlog-tiles hash tile (`level`, `index`) of `width` hashes: the nodes of
        tree level 8*level, indices index*256 .. index*256+width-1, concatenated."""
        if isinstance(width, bool) or not isinstance(width, int) or not 0 < width <= TILE_WIDTH:
            raise UsageError(f"tile width must be an int from 1 to {TILE_WIDTH}, got {width!r}")
        available = tile_width(level, index, self._size)  # UsageError for a bad level or index
        if width > available:
            raise UsageError(
                f"tile {level}/{index} has {available} hashes at tree size {self._size}, "
                f"not {width}"
            )
        value, _, stored_width = self._tile((level, index))
        if stored_width < width:
            raise CorruptTileError(f"stored tile {level}/{index} is narrower than {width}")
        return value[: width * HASH_SIZE]

    def __repr__(self) -> str:
        return f"<MerkleStore prefix={self._prefix!r} size={self._size}>"

    def _node_hashes(self, nodes: Sequence[NodeId]) -> list[bytes]:
        """Fetch: the hashes of complete nodes, looking each tile they fall in up once.

        Consecutive nodes of a plan mostly share a tile, so the current one is kept at hand.
        """
        hashes: list[bytes] = []
        append = hashes.append
        seen: dict[tuple[int, int], _Tile] = {}
        current = (-1, -1)
        value, starts, width = b"", ROW_STARTS[0], 0
        for level, index in nodes:
            tile_level, row, shift, mask = _GEOMETRY[level]
            key = (tile_level, index >> shift)
            if key != current:
                tile = seen.get(key)
                if tile is None:
                    tile = seen[key] = self._tile(key)
                value, starts, width = tile
                current = key
            offset = index & mask
            if offset >= width >> row:
                raise CorruptTileError(f"stored tile {key} lacks node {level}/{index}")
            position = (starts[row] + offset) * HASH_SIZE
            append(value[position : position + HASH_SIZE])
        return hashes

    def _tile(self, key: tuple[int, int]) -> _Tile:
        """A tile's stored value, its row starts and width: pending, cached, or read."""
        tile = self._pending.get(key)
        if tile is not None:
            return tile
        tile = self._cache.get(key)
        if tile is not None:
            self._cache.move_to_end(key)
            return tile
        value = self._store.get(self._tile_key(*key))
        if value is None:
            raise CorruptTileError(f"stored tile {key[0]}/{key[1]} is missing")
        width = tile_width_of(value)
        tile = self._cache[key] = (value, ROW_STARTS[width], width)
        if len(self._cache) > MAX_CACHED_TILES:
            self._cache.popitem(last=False)
        return tile

    def _trim_pending(self) -> None:
        """Drop pending tiles whose batch was written, once there are more than the limit.

        If the caller keeps appending without writing, the next look waits until the pending
        tiles doubled, so appends do not read the size every time.
        """
        if len(self._pending) <= self._trim_at:
            return
        written = self._stored_size()
        for key in [k for k, size in self._pending_sizes.items() if size <= written]:
            del self._pending[key], self._pending_sizes[key]
        self._trim_at = max(MAX_PENDING_TILES, 2 * len(self._pending))

    def _stored_size(self) -> int:
        value = self._store.get(self._size_key)
        if value is None:
            return 0
        if len(value) != SIZE_BYTES:
            raise CorruptTileError(f"stored tree size is {len(value)} bytes, not {SIZE_BYTES}")
        return int.from_bytes(value, "big")

    def _load_edge(self, level: int) -> tuple[bytes, ...]:
        hashes_at_level = self._size >> (TILE_HEIGHT * level)
        width = hashes_at_level % TILE_WIDTH
        if not width:
            return EMPTY_EDGE
        index = hashes_at_level >> TILE_HEIGHT
        value = self._store.get(self._tile_key(level, index))
        if value is None or tile_width_of(value) != width:
            raise CorruptTileError(
                f"stored tile {level}/{index} should hold {width} hashes at size {self._size}"
            )
        return tile_rows(value)

    @staticmethod
    def _tile_levels(size: int) -> int:
        levels = 0
        while size >> (TILE_HEIGHT * levels):
            levels += 1
        return levels

    def _tile_key(self, level: int, index: int) -> bytes:
        return self._prefix + b"t" + _TILE_KEY.pack(level, index)

    def _check_size(self, name: str, size: int) -> int:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= self._size:
            raise UsageError(f"{name} {size!r} is outside 0 .. {self._size}")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
            raise UsageError(f"leaf index {index!r} is outside a tree of size {size}")


def _joined_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """The leaf hashes concatenated, after checking each is 32 bytes."""
    for i, leaf_hash in enumerate(leaf_hashes):
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
            raise UsageError(f"leaf hash {i} is not {HASH_SIZE} bytes: {leaf_hash!r:.80}")
    return b"".join(leaf_hashes)


__all__ = ["MAX_CACHED_TILES", "MAX_PENDING_TILES", "BatchWriter", "MerkleStore", "StoreReader"]
