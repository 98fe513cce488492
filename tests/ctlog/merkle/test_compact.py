"""CompactRange against the reference: roots, appends, merges at every split, the strict wire
form, and a property test over random splits."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctlog.errors import InputError, UsageError
from ctlog.merkle import EMPTY_ROOT, CompactRange
from ctlog.merkle.plan import range_nodes
from ctlog.merkle.reference import reference_root
from tests.ctlog.merkle._trees import leaf_hashes

LEAVES = leaf_hashes(300)


def test_roots_equal_the_reference_at_every_size() -> None:
    compact = CompactRange.empty()
    assert compact.root() == EMPTY_ROOT
    for size, leaf in enumerate(LEAVES, start=1):
        compact = compact.append(leaf)
        assert (compact.begin, compact.end) == (0, size)
        assert compact.root() == reference_root(LEAVES[:size])
    assert CompactRange.empty().extend(LEAVES) == compact


def test_hashes_are_the_covering_subtrees() -> None:
    for begin in range(0, 40, 3):
        for end in range(begin, 70):
            compact = CompactRange.empty(begin).extend(LEAVES[begin:end])
            expected = [
                reference_root(LEAVES[index << level : (index + 1) << level])
                for level, index in range_nodes(begin, end)
            ]
            assert list(compact.hashes) == expected


def test_merge_at_every_split() -> None:
    for begin in range(0, 24):
        for end in range(begin, 40):
            whole = CompactRange.empty(begin).extend(LEAVES[begin:end])
            for middle in range(begin, end + 1):
                left = CompactRange.empty(begin).extend(LEAVES[begin:middle])
                right = CompactRange.empty(middle).extend(LEAVES[middle:end])
                assert left.merge(right) == whole, (begin, middle, end)


@given(st.lists(st.integers(0, 200), min_size=1, max_size=6))
def test_merging_many_pieces_equals_one_range(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), 200]
    merged = CompactRange.empty()
    for start, stop in pairwise(bounds):
        merged = merged.merge(CompactRange.empty(start).extend(LEAVES[start:stop]))
    assert merged.root() == reference_root(LEAVES[:200])


def test_serialize_round_trips() -> None:
    for begin, end in [(0, 0), (0, 1), (5, 5), (3, 77), (0, 255), (200, 300)]:
        compact = CompactRange.empty(begin).extend(LEAVES[begin:end])
        encoded = compact.serialize()
        assert len(encoded) == 16 + 32 * len(compact.hashes)
        assert CompactRange.deserialize(encoded) == compact


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b + b"\x00", "needs 96 bytes of hashes, got 97"),
        (lambda b: b[:-1], "needs 96 bytes of hashes, got 95"),
        (lambda b: b[:15], "shorter than its header"),
        (lambda b: (9).to_bytes(8, "big") + b[8:], "compact range [9, 7) is reversed"),
        (lambda b: b[:8] + (8).to_bytes(8, "big") + b[16:], "needs 32 bytes of hashes, got 96"),
    ],
    ids=["trailing byte", "truncated hash", "truncated header", "reversed", "wrong count"],
)
def test_deserialize_is_strict(mangle: Callable[[bytes], bytes], message: str) -> None:
    encoded = CompactRange.empty().extend(LEAVES[:7]).serialize()  # 3 subtrees: 4, 2, 1
    with pytest.raises(InputError) as caught:
        CompactRange.deserialize(mangle(encoded))
    assert message in str(caught.value)
    assert caught.value.http_status == 400


def test_construction_checks_the_invariants() -> None:
    good = CompactRange.empty().extend(LEAVES[:7])
    cases = [
        (lambda: CompactRange(0, 7, good.hashes[:2]), "has 3 subtrees, got 2 hashes"),
        (lambda: CompactRange(0, 7, (*good.hashes[:2], b"x" * 31)), "hash 2 of the range"),
        (lambda: CompactRange(8, 7, ()), "range [8, 7) is not within a uint64 tree"),
        (lambda: CompactRange(0, 2**64, ()), "is not within a uint64 tree"),
        (lambda: CompactRange(0, 7, list(good.hashes)), "must be a tuple"),  # type: ignore
        (lambda: CompactRange.empty(3).root(), "a range beginning at 3 has no tree root"),
        (lambda: good.merge(CompactRange.empty(8)), "cannot merge [8, 8) after end 7"),
        (lambda: good.append(b"short"), "leaf hash must be 32 bytes"),
    ]
    for call, message in cases:
        with pytest.raises(UsageError) as caught:
            call()
        assert message in str(caught.value)
