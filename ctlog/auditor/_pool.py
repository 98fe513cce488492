"""The auditor's pool of fresh signed tree heads to pollinate (pure, bounded).

Holds validly signed STHs of the audited logs, one entry per (log, size, timestamp, root),
at most `max_per_log` per log (the oldest timestamps go first), and drops STHs once they are
no longer fresh (draft-ietf-trans-gossip §8.2: fresh iff the timestamp is less than 14 days
in the past). `select` draws what to send: STHs seen since the last exchange first, then a
random rest, never handing a peer back what it sent.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from dataclasses import dataclass
from typing import Any, Protocol

from ctlog.auditor.observation import Observation, Source
from ctlog.auditor.pollination import GossipedSth

FRESH_MS = 14 * 24 * 3600 * 1000  # draft-ietf-trans-gossip §8.2: fresh iff < 14 days old
MAX_POOL_PER_LOG = 512  # > the draft's 336 fresh STHs a log issuing one an hour can have

PoolKey = tuple[bytes, int, int, bytes]  # (log id, tree size, timestamp, root)


class RandomSource(Protocol):
    """The part of `random.Random` the auditor uses; pass a seeded `random.Random`."""

    def random(self) -> float: ...

    def shuffle(self, x: MutableSequence[Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class PoolEntry:
    log_id: bytes
    seen: Observation

    def gossiped(self) -> GossipedSth:
        return GossipedSth(self.log_id, self.seen.sth)


class GossipPool:
    """Fresh STHs per log, bounded; see the module docstring."""

    def __init__(self, max_per_log: int = MAX_POOL_PER_LOG) -> None:
        self._max_per_log = max(1, max_per_log)
        self._by_log: dict[bytes, dict[PoolKey, PoolEntry]] = {}

    def add(self, log_id: bytes, seen: Observation) -> bool:
        """Add `seen`; False if the pool already holds this tree head."""
        sth = seen.sth
        key = (log_id, sth.tree_size, sth.timestamp, sth.root_hash)
        entries = self._by_log.setdefault(log_id, {})
        if key in entries:
            return False
        entries[key] = PoolEntry(log_id, seen)
        if len(entries) > self._max_per_log:
            oldest = min(entries, key=lambda k: (k[2], k[1]))
            del entries[oldest]
        return True

    def age_out(self, now_ms: int, max_age_ms: int = FRESH_MS) -> int:
        """Drop STHs whose timestamp is `max_age_ms` or more in the past; returns how many."""
        dropped = 0
        for entries in self._by_log.values():
            stale = [k for k in entries if k[2] <= now_ms - max_age_ms]
            for key in stale:
                del entries[key]
            dropped += len(stale)
        return dropped

    def select(
        self, rng: RandomSource, limit: int, *, newer_than_ms: int, exclude_peer: str | None
    ) -> list[GossipedSth]:
        """Up to `limit` STHs: those observed after `newer_than_ms` first, then others."""
        recent: list[PoolEntry] = []
        rest: list[PoolEntry] = []
        for entries in self._by_log.values():
            for entry in entries.values():
                seen = entry.seen
                if seen.source is Source.PEER and seen.origin == exclude_peer:
                    continue
                (recent if seen.observed_ms > newer_than_ms else rest).append(entry)
        rng.shuffle(recent)
        rng.shuffle(rest)
        return [entry.gossiped() for entry in (recent + rest)[: max(0, limit)]]

    def entries(self) -> list[PoolEntry]:
        return [e for entries in self._by_log.values() for e in entries.values()]

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_log.values())


__all__ = ["FRESH_MS", "MAX_POOL_PER_LOG", "GossipPool", "PoolEntry", "RandomSource"]
