"""The in-memory Raft log: a Python list of entries after the snapshot, with an index offset.

Invariants: `entries[i].index == snapshot_index + 1 + i`; terms never decrease along the log;
`snapshot_index <= applied <= committed <= last_index`; `stable_index <= last_index` is the
highest index known to be on stable storage (entries after it are reported in the next Ready).
Lookups by index are O(1); searches by term are binary searches (terms are sorted).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from operator import attrgetter

from common.raft.errors import CorruptState
from common.raft.types import Entry

ENTRY_OVERHEAD_BYTES = 16  # per-entry framing counted against max_msg_bytes (term, type, lengths)

_term_of = attrgetter("term")


class RaftLog:
    __slots__ = (
        "applied",
        "committed",
        "entries",
        "snapshot_index",
        "snapshot_term",
        "stable_index",
    )

    def __init__(self, snapshot_index: int, snapshot_term: int, entries: Sequence[Entry]) -> None:
        check_contiguous(snapshot_index, snapshot_term, entries)
        self.snapshot_index = snapshot_index
        self.snapshot_term = snapshot_term
        self.entries: list[Entry] = list(entries)
        self.committed = snapshot_index
        self.applied = snapshot_index
        self.stable_index = self.last_index

    # --- lookups ------------------------------------------------------------------------------

    @property
    def first_index(self) -> int:
        return self.snapshot_index + 1

    @property
    def last_index(self) -> int:
        return self.snapshot_index + len(self.entries)

    @property
    def last_term(self) -> int:
        return self.entries[-1].term if self.entries else self.snapshot_term

    def term(self, index: int) -> int | None:
        """Term of the entry at `index`; None if compacted away or beyond the end."""
        offset = index - self.snapshot_index
        if offset == 0:
            return self.snapshot_term
        if 0 < offset <= len(self.entries):
            return self.entries[offset - 1].term
        return None

    def entry(self, index: int) -> Entry:
        return self.entries[index - self.snapshot_index - 1]

    def match_term(self, index: int, term: int) -> bool:
        return self.term(index) == term

    def is_up_to_date(self, last_index: int, last_term: int) -> bool:
        """Is a candidate's log at least as up to date as ours? (Raft §5.4.1)"""
        mine = self.last_term
        return last_term > mine or (last_term == mine and last_index >= self.last_index)

    def first_index_of_term(self, term: int, upto: int) -> int:
        """First index in memory holding `term`, searching entries up to `upto` (fast backup)."""
        hi = min(upto, self.last_index) - self.snapshot_index
        pos = bisect_left(self.entries, term, 0, max(hi, 0), key=_term_of)
        return self.snapshot_index + 1 + pos

    def last_index_of_term(self, term: int, upto: int) -> int:
        """Last index <= `upto` holding `term`, or 0 if none is in memory (Raft §5.3 backup)."""
        hi = max(min(upto, self.last_index) - self.snapshot_index, 0)
        pos = bisect_right(self.entries, term, 0, hi, key=_term_of)
        if pos > 0 and self.entries[pos - 1].term == term:
            return self.snapshot_index + pos
        if pos == 0 and term == self.snapshot_term and self.snapshot_index > 0:
            return self.snapshot_index
        return 0

    def slice(self, lo: int, max_bytes: int, max_count: int) -> list[Entry]:
        """Entries from `lo` on, at least one if any, bounded by `max_bytes` and `max_count`."""
        start = lo - self.snapshot_index - 1
        stop = min(len(self.entries), start + max_count)
        if start >= stop:
            return []
        size = 0
        end = start
        while end < stop:
            size += len(self.entries[end].data) + ENTRY_OVERHEAD_BYTES
            if size > max_bytes and end > start:
                break
            end += 1
        return self.entries[start:end]

    def find_conflict(self, entries: Sequence[Entry]) -> int:
        """Index of the first entry not already in the log with the same term, or 0 (§5.3)."""
        for e in entries:
            if self.term(e.index) != e.term:
                return e.index
        return 0

    # --- changes ------------------------------------------------------------------------------

    def append(self, entries: Sequence[Entry]) -> None:
        """Append right after the last entry (leader) or replace a suffix (follower conflict)."""
        first = entries[0].index
        if first <= self.snapshot_index or first > self.last_index + 1:
            raise ValueError(f"cannot append at {first}: log spans {self.first_index}..")
        del self.entries[first - self.snapshot_index - 1 :]
        self.entries.extend(entries)
        self.stable_index = min(self.stable_index, first - 1)

    def commit_to(self, index: int) -> bool:
        if index <= self.committed:
            return False
        self.committed = min(index, self.last_index)
        return True

    def stable_to(self, index: int, term: int) -> None:
        """Entries through `index` were persisted, unless a later truncation replaced them."""
        if index > self.stable_index and self.term(index) == term:
            self.stable_index = index

    def unstable_entries(self) -> tuple[Entry, ...]:
        start = max(self.stable_index, self.snapshot_index) - self.snapshot_index
        return tuple(self.entries[start:])

    def next_committed_entries(self) -> tuple[Entry, ...]:
        start = self.applied - self.snapshot_index
        return tuple(self.entries[start : self.committed - self.snapshot_index])

    def compact(self, index: int) -> None:
        """Drop entries through `index` (the application snapshotted them)."""
        term = self.term(index)
        if term is None or index <= self.snapshot_index:
            raise ValueError(f"cannot compact at {index}: log spans {self.first_index}..")
        del self.entries[: index - self.snapshot_index]
        self.snapshot_index = index
        self.snapshot_term = term

    def restore(self, index: int, term: int) -> None:
        """Replace the whole log by a snapshot's position (Raft §7)."""
        self.entries = []
        self.snapshot_index = index
        self.snapshot_term = term
        self.committed = self.applied = self.stable_index = index


def check_contiguous(snapshot_index: int, snapshot_term: int, entries: Sequence[Entry]) -> None:
    """Raise CorruptState unless `entries` follow the snapshot with non-decreasing terms."""
    prev_index, prev_term = snapshot_index, snapshot_term
    for e in entries:
        if e.index != prev_index + 1 or e.term < prev_term:
            raise CorruptState(
                f"log entry {e.index} (term {e.term}) does not follow index {prev_index} "
                f"(term {prev_term})"
            )
        prev_index, prev_term = e.index, e.term
