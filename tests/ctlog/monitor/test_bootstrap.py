"""Compact ranges from a last-leaf audit path and from hash tiles, against the naive tree."""

from __future__ import annotations

import hashlib

import pytest

from ctlog.errors import InputError, UsageError, VerificationError
from ctlog.merkle import hash_children
from ctlog.merkle.compact import CompactRange
from ctlog.merkle.reference import reference_inclusion_proof, reference_root
from ctlog.merkle.tiles import TILE_WIDTH, TileRef
from ctlog.monitor.bootstrap import (
    compact_range_from_last_leaf,
    compact_range_from_tiles,
    tiles_for_range,
)
from ctlog.monitor.core import MonitorCore, TreeHeadVerified
from ctlog.monitor.names import parse_patterns
from ctlog.sth import SignedTreeHead, TreeHead
from tests.ctlog.fakelog import FakeLog, dev_pki


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]


@pytest.mark.parametrize("size", [*range(1, 34), 255, 256, 257, 1000])
def test_last_leaf_path_gives_the_compact_range(size: int) -> None:
    hashes = leaves(size)
    path = reference_inclusion_proof(size - 1, hashes)
    got = compact_range_from_last_leaf(size, hashes[-1], path)
    assert got == CompactRange.empty().extend(hashes)
    assert got.root() == reference_root(hashes)


def test_a_path_of_the_wrong_length_is_refused() -> None:
    hashes = leaves(6)
    path = reference_inclusion_proof(5, hashes)
    with pytest.raises(InputError, match="has 2 nodes, not 3"):
        compact_range_from_last_leaf(6, hashes[-1], [*path, path[0]])
    with pytest.raises(InputError, match="32 bytes"):
        compact_range_from_last_leaf(6, hashes[-1], [path[0], b"short"])
    with pytest.raises(UsageError):
        compact_range_from_last_leaf(0, hashes[-1], [])


def level_hashes(hashes: list[bytes], level: int) -> list[bytes]:
    """The complete hashes at tile level `level` (tree level 8 * level)."""
    row = hashes
    for _ in range(8 * level):
        row = [hash_children(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
    return row


def serve_tiles(hashes: list[bytes], refs: tuple[TileRef, ...]) -> dict[TileRef, bytes]:
    out = {}
    for ref in refs:
        row = level_hashes(hashes, ref.level or 0)
        first = ref.index * TILE_WIDTH
        out[ref] = b"".join(row[first : first + ref.width])
    return out


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 300, 65_536, 70_000])
def test_tiles_give_the_compact_range(size: int) -> None:
    hashes = leaves(size)
    refs = tiles_for_range(size)
    got = compact_range_from_tiles(size, serve_tiles(hashes, refs))
    assert got == CompactRange.empty().extend(hashes)


def test_the_tile_plan_matches_the_spec_example() -> None:
    # static-ct-api: a tree of 70,000 has a partial level-0 tile of 112, level-1 of 17,
    # level-2 of 1; the range needs those and full tiles only where a subtree lies inside.
    refs = tiles_for_range(70_000)
    assert TileRef(0, 273, 112) in refs and TileRef(1, 1, 17) in refs and TileRef(2, 0, 1) in refs
    assert all(ref.width == TILE_WIDTH or ref.is_partial for ref in refs)


def test_missing_or_short_tiles_are_refused() -> None:
    hashes = leaves(300)
    tiles = serve_tiles(hashes, tiles_for_range(300))
    ref = next(iter(tiles))
    with pytest.raises(UsageError, match="not fetched"):
        compact_range_from_tiles(300, {k: v for k, v in tiles.items() if k != ref})
    with pytest.raises(InputError, match="bytes, not"):
        compact_range_from_tiles(300, {**tiles, ref: tiles[ref][:-1]})


def test_core_starts_at_a_tree_head_only_if_the_range_reproduces_it() -> None:
    log = FakeLog(dev_pki())
    for i in range(5):
        log.submit(log.pki.issue_leaf([f"h{i}.example.com"]))
    patterns = parse_patterns(["*.example.com"])
    entries = CompactRange.empty().extend(log.leaf_hashes)
    core = MonitorCore.start(log.key.public, patterns)
    assert core.start_at(log.sth, entries) == [TreeHeadVerified(log.sth)]
    assert core.state.verified_sth == log.sth and core.state.tree_size == 5
    with pytest.raises(UsageError, match="seen nothing"):
        core.start_at(log.sth, entries)
    wrong = CompactRange.empty().extend([*log.leaf_hashes[:4], bytes(32)])
    fresh = MonitorCore.start(log.key.public, patterns)
    with pytest.raises(VerificationError) as info:
        fresh.start_at(log.sth, wrong)
    assert info.value.evidence["expected_root"] == log.sth.root_hash.hex()
    assert fresh.state.tree_size == 0
    other = SignedTreeHead.sign(TreeHead(4, 1, entries.root()), log.key)
    with pytest.raises(UsageError, match="cover"):
        fresh.start_at(other, entries)
