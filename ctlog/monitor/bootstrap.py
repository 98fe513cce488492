"""Starting a monitor at a log's current tree head without downloading its history (pure).

A monitor needs the compact range of leaves [0, n): the roots of the perfect subtrees that
the binary digits of n cut the tree into (RFC 6962 §2.1). Two ways to get it cheaply:

- RFC 6962: the audit path of the last leaf, n - 1 (§4.8 get-entry-and-proof). Its first k
  nodes (2^k is n's lowest set bit) are the left siblings inside the smallest subtree, whose
  root they give with the leaf hash; the rest are the larger subtrees' roots, smallest first.
- static-ct tiles: every subtree root of the range is either a hash in a tile or the root of
  2^r consecutive hashes in one tile (C2SP tlog-tiles "Merkle Tree"). `tiles_for_range`
  plans which tiles, `compact_range_from_tiles` finishes from their bytes.

Nothing here is trusted on its own: `MonitorCore.start_at` requires the range's root to be
the signed root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ctlog.errors import InputError, UsageError
from ctlog.merkle import HASH_SIZE, hash_children
from ctlog.merkle.compact import CompactRange
from ctlog.merkle.plan import range_nodes
from ctlog.merkle.tiles import TILE_HEIGHT, TileRef, tile_width


def compact_range_from_last_leaf(
    tree_size: int, leaf_hash: bytes, audit_path: Sequence[bytes]
) -> CompactRange:
    """The compact range [0, tree_size) from the audit path of leaf tree_size - 1."""
    if tree_size < 1:
        raise UsageError("an empty tree has no last leaf")
    inner = (tree_size & -tree_size).bit_length() - 1  # levels inside the smallest subtree
    if len(audit_path) != inner + tree_size.bit_count() - 1:
        raise InputError(
            f"an audit path for leaf {tree_size - 1} of {tree_size} has "
            f"{inner + tree_size.bit_count() - 1} nodes, not {len(audit_path)}"
        )
    if any(len(node) != HASH_SIZE for node in (leaf_hash, *audit_path)):
        raise InputError(f"audit path nodes are {HASH_SIZE} bytes")
    smallest = leaf_hash
    for sibling in audit_path[:inner]:  # the last leaf is always a right child here
        smallest = hash_children(sibling, smallest)
    larger = tuple(reversed(audit_path[inner:]))
    return CompactRange(0, tree_size, (*larger, smallest))


def _node_source(level: int, index: int, tree_size: int) -> tuple[TileRef, int, int]:
    """Where node (level, index) comes from: a tile, and the [first, last) hashes in it whose
    perfect-subtree root it is."""
    tile_level, rows = divmod(level, TILE_HEIGHT)
    first = index << rows  # the node's first hash at the tile's level
    tile_index, offset = divmod(first, 1 << TILE_HEIGHT)
    ref = TileRef(tile_level, tile_index, tile_width(tile_level, tile_index, tree_size))
    return ref, offset, offset + (1 << rows)


def tiles_for_range(tree_size: int) -> tuple[TileRef, ...]:
    """The hash tiles (with the widths a checkpoint of `tree_size` implies) that hold the
    compact range [0, tree_size)."""
    refs = [_node_source(level, index, tree_size)[0] for level, index in range_nodes(0, tree_size)]
    return tuple(dict.fromkeys(refs))


def _perfect_root(hashes: Sequence[bytes]) -> bytes:
    """MTH of 2^r consecutive hashes of one level: hash pairs until one is left."""
    row = list(hashes)
    while len(row) > 1:
        row = [hash_children(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


def compact_range_from_tiles(tree_size: int, tiles: Mapping[TileRef, bytes]) -> CompactRange:
    """Finish `tiles_for_range(tree_size)`: `tiles` maps each of those to its bytes."""
    hashes = []
    for level, index in range_nodes(0, tree_size):
        ref, first, last = _node_source(level, index, tree_size)
        body = tiles.get(ref)
        if body is None:
            raise UsageError(f"tile {ref.path()} was not fetched")
        if len(body) != ref.width * HASH_SIZE:
            raise InputError(f"tile {ref.path()} is {len(body)} bytes, not {ref.width} hashes")
        row = [body[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(first, last)]
        hashes.append(_perfect_root(row))
    return CompactRange(0, tree_size, tuple(hashes))


__all__ = ["compact_range_from_last_leaf", "compact_range_from_tiles", "tiles_for_range"]
