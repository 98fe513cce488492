"""C2SP tlog-tiles paths and geometry: the spec's examples, round trips, and rejection of
every non-canonical spelling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctlog.errors import InputError, UsageError
from ctlog.merkle.tiles import (
    MAX_TILE_INDEX,
    TILE_WIDTH,
    TileRef,
    data_tile_path,
    parse_tile_path,
    tile_path,
    tile_width,
    tiles_for_size,
)

PATHS = [
    # (level, index, width, path); level None is a data tile
    (0, 0, 256, "tile/0/000"),
    (0, 1234067, 256, "tile/0/x001/x234/067"),  # the spec's example index
    (1, 1234067, 8, "tile/1/x001/x234/067.p/8"),
    (2, 999, 1, "tile/2/999.p/1"),
    (3, 1000, 255, "tile/3/x001/000.p/255"),
    (63, 5, 256, "tile/63/005"),
    (0, 1_000_000, 256, "tile/0/x001/x000/000"),
    (None, 7, 256, "tile/data/007"),
    (None, 1234067, 13, "tile/data/x001/x234/067.p/13"),
]


@pytest.mark.parametrize(("level", "index", "width", "path"), PATHS, ids=[p[3] for p in PATHS])
def test_path_encoding_and_parsing(level: int | None, index: int, width: int, path: str) -> None:
    if level is None:
        assert data_tile_path(index, width) == path
    else:
        assert tile_path(level, index, width) == path
    assert parse_tile_path(path) == TileRef(level, index, width)
    assert TileRef(level, index, width).is_partial == (width < TILE_WIDTH)


NON_CANONICAL = {
    "tile/0/1": "index not 3 digits",
    "tile/0/0001": "index group of 4 digits",
    "tile/0/001/234": "missing x prefix",
    "tile/0/x001": "last group with x prefix",
    "tile/0/x000/001": "leading zero group",
    "tile/0/x001/x234/067/": "trailing slash",
    "tile/00/000": "level with a leading zero",
    "tile/64/000": "level above 63",
    "tile/-1/000": "negative level",
    "tile/0/000.p/0": "width 0",
    "tile/0/000.p/256": "width 256 spelled as partial",
    "tile/0/000.p/07": "width with a leading zero",
    "tile/0/000.p/": "empty width",
    "tile/0/000.p": "partial without a width",
    "tile/0/000.p/5/6": "extra element after width",
    "tile/0/x001.p/5": "partial suffix on an x group",
    "tile/0/0x1": "hex digits",
    "tile/0/١٢٣": "non-ASCII digits",
    "tile/data/x01/000": "short x group",
    "tiles/0/000": "wrong first element",
    "/tile/0/000": "leading slash",
    "tile/0": "no index",
    "tile/entries/000": "unknown level name",
    "tile/0/x072/x057/x594/x037/x927/x936": "index beyond a uint64 tree",
    "tile/0/" + "x001/" * 40 + "000": "absurdly long",
}


@pytest.mark.parametrize("path", list(NON_CANONICAL), ids=list(NON_CANONICAL.values()))
def test_non_canonical_paths_are_rejected(path: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_tile_path(path)
    assert caught.value.http_status == 400
    assert str(caught.value)


@given(
    level=st.one_of(st.none(), st.integers(0, 63)),
    index=st.integers(0, MAX_TILE_INDEX),
    width=st.integers(1, TILE_WIDTH),
)
def test_every_tile_round_trips(level: int | None, index: int, width: int) -> None:
    ref = TileRef(level, index, width)
    assert parse_tile_path(ref.path()) == ref


@pytest.mark.parametrize(
    ("level", "index", "width"),
    [(0, 0, 0), (0, 0, 257), (-1, 0, 256), (64, 0, 256), (0, -1, 256), (0, MAX_TILE_INDEX + 1, 1)],
    ids=str,
)
def test_tile_path_refuses_impossible_tiles(level: int, index: int, width: int) -> None:
    with pytest.raises(UsageError) as caught:
        tile_path(level, index, width)
    assert "must be an int from" in str(caught.value)


def test_partial_tiles_of_the_spec_example() -> None:
    # C2SP tlog-tiles: "a tree of size 70,000 will be represented by 273 full level 0 tiles,
    # one partial level 0 tile of width 112, one full level 1 tile, one partial level 1
    # tile of width 17, and one partial level 2 tile of width 1."
    assert tiles_for_size(70_000) == (TileRef(0, 273, 112), TileRef(1, 1, 17), TileRef(2, 0, 1))
    assert tile_width(0, 272, 70_000) == 256
    assert tile_width(0, 273, 70_000) == 112
    assert tile_width(0, 274, 70_000) == 0
    assert tile_width(1, 0, 70_000) == 256
    assert tile_width(1, 1, 70_000) == 17
    assert tile_width(2, 0, 70_000) == 1
    assert tile_width(3, 0, 70_000) == 0


def test_partial_tiles_at_tile_boundaries() -> None:
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
    # tile of width 1."
    assert tiles_for_size(256) == (TileRef(1, 0, 1),)
    assert tiles_for_size(0) == ()
    assert tiles_for_size(1) == (TileRef(0, 0, 1),)
    assert tiles_for_size(65_536) == (TileRef(2, 0, 1),)
    assert tiles_for_size(2**64 - 1)[-1] == TileRef(7, 0, 255)
