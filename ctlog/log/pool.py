"""The leader's submission pool: bounded, first in first out, drained one batch at a time.

Submissions wait here between acceptance and sequencing (as in Trillian's queue and
Sunlight's pool). Each entry travels with an opaque `token` of the caller's choosing (the
asyncio layer uses a future), which comes back with the entry from `take`.

Invariants: at most `max_entries` entries and `max_bytes` entry bytes wait at once (`add`
refuses beyond, with `LogUnavailable`, which the HTTP layer answers with 503); so is an entry
whose timestamp is too old to be sequenced and published within the maximum merge delay, or too
far in the future, is refused (RFC 6962 §3: an SCT promises inclusion within the MMD);
`take` returns entries in arrival order and never more than the batch bounds allow, except
that a single entry larger than `max_bytes` of a batch still goes out alone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

from ctlog.errors import LogUnavailable, UsageError
from ctlog.log.entry import PreparedEntry

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """How much may wait, and how old or new a timestamp may be when it arrives."""

    max_entries: int
    max_bytes: int
    max_age_ms: int  # older timestamps cannot be published within the MMD any more
    max_skew_ms: int  # a replica's clock this far ahead is broken, not early

    def __post_init__(self) -> None:
        for name in ("max_entries", "max_bytes", "max_age_ms", "max_skew_ms"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise UsageError(f"pool {name} must be a positive int, got {value!r}")


class Pool(Generic[T]):
    """Entries waiting for the sequencer, with the tokens of whoever waits for them."""

    def __init__(self, limits: PoolLimits) -> None:
        self.limits = limits
        self._queue: deque[tuple[PreparedEntry, T]] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def byte_size(self) -> int:
        return self._bytes

    def add(self, entry: PreparedEntry, token: T, *, now_ms: int) -> None:
        """Queue `entry`; `LogUnavailable` when full or its timestamp is out of range."""
        self.check_timestamp(entry.timestamp, now_ms)
        size = entry.byte_size
        limits = self.limits
        if len(self._queue) >= limits.max_entries or self._bytes + size > limits.max_bytes:
            raise LogUnavailable(
                f"the submission pool is full ({len(self._queue)} entries, {self._bytes} bytes); "
                "retry shortly"
            )
        self._queue.append((entry, token))
        self._bytes += size

    def check_timestamp(self, timestamp: int, now_ms: int) -> None:
        if timestamp > now_ms + self.limits.max_skew_ms:
            raise LogUnavailable(
                f"entry timestamp {timestamp} is {timestamp - now_ms} ms ahead of the leader's "
                "clock; the replicas' clocks disagree"
            )
        if timestamp < now_ms - self.limits.max_age_ms:
            raise LogUnavailable(
                f"entry timestamp {timestamp} is {now_ms - timestamp} ms old, too old to be "
                "published within the maximum merge delay; submit again"
            )

    def take(self, max_entries: int, max_bytes: int) -> list[tuple[PreparedEntry, T]]:
        """Remove and return the oldest entries: at most `max_entries` and `max_bytes`."""
        if max_entries < 1 or max_bytes < 1:
            raise UsageError("a batch holds at least one entry and one byte")
        batch: list[tuple[PreparedEntry, T]] = []
        used = 0
        while self._queue and len(batch) < max_entries:
            size = self._queue[0][0].byte_size
            if batch and used + size > max_bytes:
                break
            batch.append(self._queue.popleft())
            used += size
        self._bytes -= used
        return batch

    def take_all(self) -> list[tuple[PreparedEntry, T]]:
        """Empty the pool (leadership lost: the waiters retry elsewhere)."""
        items = list(self._queue)
        self._queue.clear()
        self._bytes = 0
        return items


__all__ = ["Pool", "PoolLimits"]
