"""The submission pool's bounds and the tree-head publishing rule."""

from __future__ import annotations

import pytest

from ctlog.errors import LogUnavailable, UsageError
from ctlog.log.pool import Pool, PoolLimits
from ctlog.log.publisher import next_tree_head
from ctlog.sth import TreeHead
from tests.ctlog.log.helpers import x509_entry

NOW = 1_000_000
LIMITS = PoolLimits(max_entries=3, max_bytes=10_000, max_age_ms=5_000, max_skew_ms=100)


def test_the_pool_is_fifo_and_batches_respect_both_bounds() -> None:
    pool: Pool[int] = Pool(LIMITS)
    for n in range(3):
        pool.add(x509_entry(n, timestamp=NOW), n, now_ms=NOW)
    size = x509_entry(0).byte_size
    assert pool.byte_size == 3 * size
    assert [token for _, token in pool.take(2, 10_000)] == [0, 1]
    assert pool.take(5, 1) == [(x509_entry(2, timestamp=NOW), 2)]  # one oversize entry goes alone
    assert (len(pool), pool.byte_size) == (0, 0)


def test_a_full_pool_refuses_with_log_unavailable() -> None:
    pool: Pool[int] = Pool(LIMITS)
    for n in range(3):
        pool.add(x509_entry(n, timestamp=NOW), n, now_ms=NOW)
    with pytest.raises(LogUnavailable, match=r"pool is full \(3 entries"):
        pool.add(x509_entry(9, timestamp=NOW), 9, now_ms=NOW)
    tight: Pool[int] = Pool(PoolLimits(10, 30, 5_000, 100))
    with pytest.raises(LogUnavailable, match="pool is full"):
        tight.add(x509_entry(0, timestamp=NOW), 0, now_ms=NOW)
    assert len(tight) == 0
    assert [t for _, t in pool.take_all()] == [0, 1, 2] and len(pool) == 0


def test_timestamps_too_old_or_ahead_are_refused() -> None:
    pool: Pool[int] = Pool(LIMITS)
    with pytest.raises(LogUnavailable, match="5001 ms old, too old"):
        pool.add(x509_entry(0, timestamp=NOW - 5_001), 0, now_ms=NOW)
    with pytest.raises(LogUnavailable, match="101 ms ahead"):
        pool.add(x509_entry(0, timestamp=NOW + 101), 0, now_ms=NOW)
    pool.add(x509_entry(0, timestamp=NOW - 5_000), 0, now_ms=NOW)
    assert len(pool) == 1


def test_pool_limits_must_be_positive() -> None:
    with pytest.raises(UsageError, match="max_bytes must be a positive int"):
        PoolLimits(1, 0, 1, 1)


ROOT_A, ROOT_B = b"a" * 32, b"b" * 32


def head(**kw: int) -> TreeHead | None:
    args = {"tree_size": 5, "max_entry_timestamp": 0, "now_ms": NOW, "refresh_ms": 60_000}
    args.update(kw)
    last = TreeHead(5, NOW - 1_000, ROOT_A)
    return next_tree_head(root_hash=ROOT_A, last=last, **args)


def test_a_head_is_due_when_the_tree_grew_or_the_last_is_stale() -> None:
    assert head() is None
    assert head(tree_size=6) == TreeHead(6, NOW, ROOT_A)
    assert head(now_ms=NOW + 59_000) == TreeHead(5, NOW + 59_000, ROOT_A)
    first = next_tree_head(
        tree_size=0, root_hash=ROOT_A, max_entry_timestamp=0, last=None, now_ms=7, refresh_ms=1
    )
    assert first == TreeHead(0, 7, ROOT_A)


def test_timestamps_cover_every_entry_and_strictly_grow() -> None:
    assert head(tree_size=6, max_entry_timestamp=NOW + 500) == TreeHead(6, NOW + 500, ROOT_A)
    # A new leader whose clock is behind the last head still moves forward.
    assert head(tree_size=6, now_ms=NOW - 2_000) == TreeHead(6, NOW - 999, ROOT_A)


def test_a_shrinking_tree_or_a_second_root_is_a_bug() -> None:
    with pytest.raises(UsageError, match="shrank from 5 to 4"):
        head(tree_size=4)
    with pytest.raises(UsageError, match="two roots for tree size 5"):
        next_tree_head(
            tree_size=5,
            root_hash=ROOT_B,
            max_entry_timestamp=0,
            last=TreeHead(5, 0, ROOT_A),
            now_ms=NOW,
            refresh_ms=1,
        )
