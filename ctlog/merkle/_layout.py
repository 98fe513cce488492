"""How a tile is stored, and how new leaves grow the tiles of one level (pure).

A stored tile at tile level L, index N holds tree levels 8L .. 8L+7 of the subtree under it:
row r (0 <= r < 8) is the complete nodes of tree level 8L+r, indices N * (256 >> r) onwards,
`width >> r` of them, where `width` is the number of row-0 hashes (1-256). The value is the
rows concatenated, bottom row first, 32 bytes per hash. So row 0 is the C2SP tlog-tiles hash
tile (serving it is one read and a slice) and any node is one read with no hashing. Tree level
8L+8 is row 0 of tile level L+1.

Invariants: a stored value's length determines its width (`tile_width_of`); interior rows
hold only complete nodes; a full tile (width 256) never changes again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ctlog.errors import CtlogError
from ctlog.merkle._hashing import HASH_SIZE, NODE_PREFIX
from ctlog.merkle.tiles import TILE_HEIGHT, TILE_WIDTH

ROWS = TILE_HEIGHT  # rows 0-7 are stored; level 8L+8 lives in the tile level above
PAIR_SIZE = 2 * HASH_SIZE

# ROW_STARTS[width][row]: where `row` starts in a stored tile of `width`, counted in hashes.
ROW_STARTS: tuple[tuple[int, ...], ...] = tuple(
    tuple(sum(width >> r for r in range(row)) for row in range(ROWS + 1))
    for width in range(TILE_WIDTH + 1)
)
# The number of bytes a stored tile of each width takes is strictly increasing in the width,
# so it identifies the width.
WIDTH_BY_VALUE_LENGTH: dict[int, int] = {
    ROW_STARTS[width][ROWS] * HASH_SIZE: width for width in range(1, TILE_WIDTH + 1)
}
FULL_TILE_BYTES = ROW_STARTS[TILE_WIDTH][ROWS] * HASH_SIZE  # 510 hashes: 16,320 bytes

EMPTY_EDGE: tuple[bytes, ...] = (b"",) * ROWS
"""The rows of a tile level that has no partial tile."""


class CorruptTileError(CtlogError):
    """A stored tile value has a length no tile width produces, or lacks a node it must hold."""


@dataclass(frozen=True, slots=True)
class LevelGrowth:
    """What appending new bottom-row hashes to one tile level produced.

    `tiles`: (tile index, stored value) of every tile that changed, left to right; `edge`:
    the rows of the level's new partial tile (EMPTY_EDGE if it ended on a full tile);
    `parents`: the new complete nodes of tree level 8L+8, concatenated, which are the new
    row-0 hashes of the tile level above.
    """

    tiles: tuple[tuple[int, bytes], ...]
    edge: tuple[bytes, ...]
    parents: bytes


def tile_width_of(value: bytes) -> int:
    """The width of a stored tile value; `CorruptTileError` if no width has its length."""
    width = WIDTH_BY_VALUE_LENGTH.get(len(value))
    if width is None:
        raise CorruptTileError(f"stored tile of {len(value)} bytes matches no tile width")
    return width


def tile_rows(value: bytes) -> tuple[bytes, ...]:
    """The eight rows of a stored tile value."""
    starts = ROW_STARTS[tile_width_of(value)]
    return tuple(value[starts[r] * HASH_SIZE : starts[r + 1] * HASH_SIZE] for r in range(ROWS))


def node_in_tile(value: bytes, row: int, offset: int) -> bytes:
    """The hash at `offset` in `row` of a stored tile; `CorruptTileError` if it is not there."""
    width = tile_width_of(value)
    if offset >= width >> row:
        raise CorruptTileError(f"stored tile of width {width} has no node {offset} in row {row}")
    position = (ROW_STARTS[width][row] + offset) * HASH_SIZE
    return value[position : position + HASH_SIZE]


def grow_level(first_index: int, edge: Sequence[bytes], new_bottom: bytes) -> LevelGrowth:
    """Append `new_bottom` (concatenated row-0 hashes) to a tile level whose partial tile,
    `first_index`, has rows `edge` (EMPTY_EDGE if the level ends on a full tile).

    Only new nodes are hashed: each row continues from the nodes the edge already holds.
    """
    rows = [edge[0] + new_bottom]
    for row in range(1, ROWS + 1):
        below = rows[row - 1]
        held = len(edge[row]) // HASH_SIZE if row < ROWS else 0
        new = hash_pairs(below, held, len(below) // PAIR_SIZE)
        rows.append(edge[row] + new if row < ROWS else new)
    parents = rows.pop()
    count = len(rows[0]) // HASH_SIZE
    tiles = []
    last: tuple[bytes, ...] = EMPTY_EDGE
    for number, start in enumerate(range(0, count, TILE_WIDTH)):
        width = min(TILE_WIDTH, count - start)
        last = tuple(_tile_row(rows[row], number, width, row) for row in range(ROWS))
        tiles.append((first_index + number, b"".join(last)))
    edge_out = last if count % TILE_WIDTH else EMPTY_EDGE
    return LevelGrowth(tuple(tiles), edge_out, parents)


def hash_pairs(row: bytes, start: int, stop: int) -> bytes:
    """The parents of pairs `start` .. `stop - 1` of a concatenated row (RFC 6962 §2.1)."""
    sha256 = hashlib.sha256
    return b"".join(
        [
            sha256(NODE_PREFIX + row[i : i + PAIR_SIZE]).digest()
            for i in range(start * PAIR_SIZE, stop * PAIR_SIZE, PAIR_SIZE)
        ]
    )


def _tile_row(row_hashes: bytes, number: int, width: int, row: int) -> bytes:
    """Row `row` of the `number`-th tile of a span, given that row of the whole span."""
    per_tile = (TILE_WIDTH >> row) * HASH_SIZE
    start = number * per_tile
    return row_hashes[start : start + (width >> row) * HASH_SIZE]


__all__ = [
    "EMPTY_EDGE",
    "FULL_TILE_BYTES",
    "ROWS",
    "ROW_STARTS",
    "WIDTH_BY_VALUE_LENGTH",
    "CorruptTileError",
    "LevelGrowth",
    "grow_level",
    "hash_pairs",
    "node_in_tile",
    "tile_rows",
    "tile_width_of",
]
