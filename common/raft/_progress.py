"""What the leader knows about each follower's log (etcd-io/raft's Progress, Raft §5.3).

- PROBE: the match point is unknown; one APPEND at a time (`probe_sent`) until one succeeds.
- REPLICATE: the match point is known; `next` is optimistic and up to `max_inflight` APPENDs
  are pipelined (`inflights` holds the last index of each unacknowledged APPEND).
- SNAPSHOT: the follower needs entries the leader has compacted; snapshot chunks are sent one
  at a time, `snapshot_offset` bytes are acknowledged and `snapshot_sent` bytes are sent.

Invariant: `match < next`; `match` only grows (a follower never loses persisted entries).
"""

from __future__ import annotations

from collections import deque
from enum import IntEnum

from common.raft.types import Snapshot


class ProgressState(IntEnum):
    PROBE = 0
    REPLICATE = 1
    SNAPSHOT = 2


class Progress:
    __slots__ = (
        "departing_at",
        "inflights",
        "is_learner",
        "match",
        "max_inflight",
        "next",
        "probe_sent",
        "recent_active",
        "sent_commit",
        "snapshot",
        "snapshot_offset",
        "snapshot_sent",
        "snapshot_stall_ticks",
        "state",
    )

    def __init__(self, next_index: int, max_inflight: int, *, is_learner: bool) -> None:
        self.match = 0
        self.next = next_index
        self.state = ProgressState.PROBE
        self.probe_sent = False
        self.inflights: deque[int] = deque()
        self.max_inflight = max_inflight
        self.recent_active = False  # heard from since the last check-quorum round (§6.2)
        self.is_learner = is_learner
        self.departing_at = 0  # index of the entry that removed it; replicated to until committed
        self.sent_commit = 0  # highest commit index sent, to skip redundant commit updates
        self.snapshot: Snapshot | None = None
        self.snapshot_offset = 0
        self.snapshot_sent = 0
        self.snapshot_stall_ticks = 0

    def is_paused(self) -> bool:
        if self.state is ProgressState.PROBE:
            return self.probe_sent
        if self.state is ProgressState.REPLICATE:
            return len(self.inflights) >= self.max_inflight
        return True

    def _reset_state(self, state: ProgressState) -> None:
        self.state = state
        self.probe_sent = False
        self.inflights.clear()
        self.snapshot = None
        self.snapshot_offset = self.snapshot_sent = self.snapshot_stall_ticks = 0

    def become_probe(self, next_index: int = 0) -> None:
        """Probe from `next_index` (at least match + 1; after a snapshot, past the snapshot)."""
        floor = self.match + 1
        if self.snapshot is not None:
            floor = max(floor, self.snapshot.meta.index + 1)
        self._reset_state(ProgressState.PROBE)
        self.next = max(floor, next_index)

    def become_replicate(self) -> None:
        self._reset_state(ProgressState.REPLICATE)
        self.next = self.match + 1

    def become_snapshot(self, snapshot: Snapshot) -> None:
        self._reset_state(ProgressState.SNAPSHOT)
        self.snapshot = snapshot

    def maybe_update(self, index: int) -> bool:
        """The follower has the leader's log through `index`; False if that is old news."""
        if index <= self.match:
            return False
        self.match = index
        self.next = max(self.next, index + 1)
        self.probe_sent = False
        return True

    def maybe_decr_to(self, rejected: int, estimate: int) -> bool:
        """An APPEND with prev index `rejected` failed; back `next` off unless it is stale."""
        if self.state is ProgressState.REPLICATE:
            if rejected <= self.match:
                return False  # an old rejection overtaken by a later success
        elif self.state is ProgressState.PROBE:
            if rejected != self.next - 1:
                return False  # probes go one at a time: this one is not the current probe
        else:
            return False
        self.next = max(self.match + 1, min(estimate, rejected))
        self.probe_sent = False
        return True

    def sent_entries(self, last_index: int, commit: int) -> None:
        """Record an APPEND ending at `last_index` (== next - 1 for an empty one)."""
        self.sent_commit = max(self.sent_commit, commit)
        if self.state is ProgressState.REPLICATE:
            if last_index >= self.next:
                self.next = last_index + 1
                self.inflights.append(last_index)
        else:
            self.probe_sent = True

    def free_inflights(self, index: int) -> None:
        inflights = self.inflights
        while inflights and inflights[0] <= index:
            inflights.popleft()
