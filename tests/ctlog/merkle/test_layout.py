"""The stored tile format: rows of every width against the reference, strict decoding, and
growing a tile level in steps equals growing it at once."""

from __future__ import annotations

import pytest

from ctlog.merkle._layout import (
    EMPTY_EDGE,
    FULL_TILE_BYTES,
    CorruptTileError,
    grow_level,
    node_in_tile,
    tile_rows,
    tile_width_of,
)
from ctlog.merkle.reference import reference_root
from tests.ctlog.merkle._trees import leaf_hashes

LEAVES = leaf_hashes(700)


def node(level: int, index: int) -> bytes:
    return reference_root(LEAVES[index << level : (index + 1) << level])


@pytest.mark.parametrize("width", [1, 2, 3, 7, 8, 100, 128, 255, 256], ids=str)
def test_rows_hold_the_complete_nodes_of_each_level(width: int) -> None:
    growth = grow_level(0, EMPTY_EDGE, b"".join(LEAVES[:width]))
    ((index, value),) = growth.tiles
    assert index == 0 and tile_width_of(value) == width
    rows = tile_rows(value)
    for row in range(8):
        assert rows[row] == b"".join(node(row, i) for i in range(width >> row))
        for offset in range(width >> row):
            assert node_in_tile(value, row, offset) == node(row, offset)
    assert growth.parents == (node(8, 0) if width == 256 else b"")
    assert growth.edge == (EMPTY_EDGE if width == 256 else rows)


def test_growing_in_steps_equals_growing_at_once() -> None:
    whole = grow_level(0, EMPTY_EDGE, b"".join(LEAVES))
    edge, first, size, tiles, parents = EMPTY_EDGE, 0, 0, {}, b""
    for step in (1, 2, 5, 120, 128, 1, 255, 100, 88):
        growth = grow_level(first, edge, b"".join(LEAVES[size : size + step]))
        tiles.update(growth.tiles)
        parents += growth.parents
        edge, size = growth.edge, size + step
        first = size // 256
    assert size == 700
    assert tiles == dict(whole.tiles)
    assert parents == whole.parents == node(8, 0) + node(8, 1)
    assert edge == whole.edge == tile_rows(tiles[2])


def test_a_full_tile_is_510_hashes() -> None:
    assert FULL_TILE_BYTES == (256 + 128 + 64 + 32 + 16 + 8 + 4 + 2) * 32


@pytest.mark.parametrize("length", [0, 1, 31, 32 * 2, FULL_TILE_BYTES + 32], ids=str)
def test_a_value_no_width_produces_is_corrupt(length: int) -> None:
    with pytest.raises(CorruptTileError) as caught:
        tile_width_of(b"\x00" * length)
    assert f"stored tile of {length} bytes matches no tile width" == str(caught.value)


def test_a_node_beyond_the_width_is_corrupt() -> None:
    ((_, value),) = grow_level(0, EMPTY_EDGE, b"".join(LEAVES[:5])).tiles
    assert node_in_tile(value, 2, 0) == node(2, 0)
    with pytest.raises(CorruptTileError) as caught:
        node_in_tile(value, 2, 1)
    assert str(caught.value) == "stored tile of width 5 has no node 1 in row 2"
