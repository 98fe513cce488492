"""C2SP tlog-tiles geometry: which hashes a tile holds and how its path is spelled.

The tile at level L, index N holds the Merkle Tree Hashes of tree level 8*L, indices
N*256 .. N*256+W-1: `MTH(D[(N*256+i) * 256**L : (N*256+i+1) * 256**L])` (C2SP tlog-tiles
"Merkle Tree"). A full tile has W = 256 hashes; the rightmost tile of a level may be partial
(1 <= W <= 255). Data tiles (static-ct-api "tile/data/...") hold the entries behind a level-0
tile and share its index and width.

Paths are canonical both ways: `tile_path` writes exactly one spelling per tile and
`parse_tile_path` accepts only that spelling (no leading zeros, every group but the last
x-prefixed, the first group non-zero when there are several), raising `InputError` otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError

TILE_HEIGHT = 8  # C2SP tlog-tiles: a tile is a subtree of height 8
TILE_WIDTH = 1 << TILE_HEIGHT  # C2SP tlog-tiles: a full tile is 256 hashes (8,192 bytes)
MAX_TILE_LEVEL = 63  # C2SP tlog-tiles: <L> is a decimal integer between 0 and 63
MAX_TREE_SIZE = (1 << 64) - 1  # RFC 6962 §3.5: tree_size is a uint64
# A tile index beyond the last tile of a uint64-sized tree names nothing; bounding it also
# bounds how many path groups `parse_tile_path` reads.
MAX_TILE_INDEX = MAX_TREE_SIZE >> TILE_HEIGHT
MAX_PATH_LENGTH = 128  # far above the longest canonical path ("tile/63/x072/.../255.p/255")

_GROUP = re.compile(r"x[0-9]{3}")
_LAST_GROUP = re.compile(r"[0-9]{3}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,2}")


@dataclass(frozen=True, slots=True)
class TileRef:
    """One tile: `level` (None for a data tile), `index` within the level, `width` in hashes
    (or entries) from 1 to 256, where 256 is a full tile."""

    level: int | None
    index: int
    width: int

    def __post_init__(self) -> None:
        if self.level is not None:
            _check_int("tile level", self.level, 0, MAX_TILE_LEVEL)
        _check_int("tile index", self.index, 0, MAX_TILE_INDEX)
        _check_int("tile width", self.width, 1, TILE_WIDTH)

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """The canonical path, "tile/<L>/<N>[.p/<W>]" or "tile/data/<N>[.p/<W>]"."""
        level = "data" if self.level is None else str(self.level)
        return f"tile/{level}/{_encode(self.index, self.width)}"


def tile_path(level: int, index: int, width: int) -> str:
    """The path of hash tile (`level`, `index`) of `width` hashes; 256 means a full tile."""
    return TileRef(level, index, width).path()


def data_tile_path(index: int, width: int) -> str:
    """The path of the data tile (entry bundle) behind level-0 tile `index`."""
    return TileRef(None, index, width).path()


def parse_tile_path(path: str) -> TileRef:
    """Parse a canonical "tile/<L>/<N>[.p/<W>]" or "tile/data/<N>[.p/<W>]" path.

    Raises `InputError` (HTTP 400) for anything that `tile_path` would not have written.
    """
    if not isinstance(path, str) or len(path) > MAX_PATH_LENGTH:
        raise InputError(f"tile path is not a string of at most {MAX_PATH_LENGTH} characters")
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise InputError(f"not a tile path: {path!r}")
    level = None if parts[1] == "data" else _parse_decimal("tile level", parts[1], path)
    groups, width = parts[2:], TILE_WIDTH
    if len(groups) >= 2 and groups[-2].endswith(".p"):
        width = _parse_decimal("tile width", groups[-1], path)
        groups = [*groups[:-2], groups[-2][: -len(".p")]]
        if not 1 <= width < TILE_WIDTH:
            raise InputError(f"partial tile width must be 1 to 255, got {width}: {path!r}")
    index = _parse_index(groups, path)
    if level is not None and level > MAX_TILE_LEVEL:
        raise InputError(f"tile level {level} is above {MAX_TILE_LEVEL}: {path!r}")
    if index > MAX_TILE_INDEX:
        raise InputError(f"tile index {index} is beyond any uint64-sized tree: {path!r}")
    return TileRef(level, index, width)


def tile_width(level: int, index: int, tree_size: int) -> int:
    """How many hashes tile (`level`, `index`) holds in a tree of `tree_size` leaves: 256 for
    a full tile, 1-255 for the partial tile, 0 if the tile does not exist yet."""
    _check_int("tile level", level, 0, MAX_TILE_LEVEL)
    _check_int("tile index", index, 0, MAX_TILE_INDEX)
    _check_int("tree size", tree_size, 0, MAX_TREE_SIZE)
    hashes_at_level = tree_size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, hashes_at_level - index * TILE_WIDTH))


def tiles_for_size(tree_size: int) -> tuple[TileRef, ...]:
    """The partial hash tiles a checkpoint of `tree_size` requires, lowest level first.

    C2SP tlog-tiles "Partial Tiles": the partial tile at level l has
    floor(s / 256**l) mod 256 hashes; levels where that is 0 have none.
    """
    _check_int("tree size", tree_size, 0, MAX_TREE_SIZE)
    tiles = []
    level = 0
    while tree_size >> (TILE_HEIGHT * level):
        hashes_at_level = tree_size >> (TILE_HEIGHT * level)
        width = hashes_at_level % TILE_WIDTH
        if width:
            tiles.append(TileRef(level, hashes_at_level >> TILE_HEIGHT, width))
        level += 1
    return tuple(tiles)


def _encode(index: int, width: int) -> str:
    """N as 3-digit groups, all but the last x-prefixed, then ".p/<W>" for a partial tile."""
    text = f"{index % 1000:03d}"
    while index >= 1000:
        index //= 1000
        text = f"x{index % 1000:03d}/{text}"
    return text if width == TILE_WIDTH else f"{text}.p/{width}"


def _parse_index(groups: list[str], path: str) -> int:
    if not _LAST_GROUP.fullmatch(groups[-1]) or not all(_GROUP.fullmatch(g) for g in groups[:-1]):
        raise InputError(f"tile index is not 3-digit groups with x prefixes: {path!r}")
    if len(groups) > 1 and groups[0] == "x000":
        raise InputError(f"tile index has a leading zero group: {path!r}")
    index = 0
    for group in groups:
        index = index * 1000 + int(group.removeprefix("x"))
    return index


def _parse_decimal(name: str, text: str, path: str) -> int:
    # C2SP tlog-tiles: decimal ASCII "with no additional leading zeroes"
    if not _DECIMAL.fullmatch(text):
        raise InputError(f"{name} {text!r} is not a canonical decimal: {path!r}")
    return int(text)


def _check_int(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name} must be an int from {low} to {high}, got {value!r}")


__all__ = [
    "MAX_TILE_INDEX",
    "MAX_TILE_LEVEL",
    "MAX_TREE_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileRef",
    "data_tile_path",
    "parse_tile_path",
    "tile_path",
    "tile_width",
    "tiles_for_size",
]
