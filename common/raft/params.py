"""Raft tuning parameters, passed in as one frozen value (no module globals change behaviour).

Time is counted in logical ticks; the driver decides how long a tick is (`tick_ms`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_MSG_BYTES = (
    1 << 20
)  # one AppendEntries stays well below the transport's 4 MiB frame limit
DEFAULT_MAX_INFLIGHT = 256  # appends in flight per follower before the leader waits (flow control)
DEFAULT_SNAPSHOT_CHUNK_BYTES = 512 << 10  # InstallSnapshot chunks stay well below the frame limit


@dataclass(frozen=True, slots=True)
class RaftParams:
    election_ticks: int = 10  # followers time out after a random number of ticks in [n, 2n)
    heartbeat_ticks: int = 1  # leader heartbeat interval; must be < election_ticks
    max_msg_bytes: int = DEFAULT_MAX_MSG_BYTES  # bound on the entries bytes in one APPEND
    max_inflight: int = DEFAULT_MAX_INFLIGHT  # bound on unacknowledged APPENDs per follower
    snapshot_chunk_bytes: int = DEFAULT_SNAPSHOT_CHUNK_BYTES
    max_uncommitted_bytes: int = 64 << 20  # leader refuses proposals beyond this backlog
    pre_vote: bool = True  # Raft thesis §9.6
    check_quorum: bool = True  # leader steps down without a quorum of recent contact (§6.2)
    tick_ms: int = 10  # only for drivers and reports; the core never reads a clock

    def __post_init__(self) -> None:
        if self.heartbeat_ticks < 1 or self.election_ticks <= self.heartbeat_ticks:
            raise ValueError(
                f"need 1 <= heartbeat_ticks < election_ticks, got {self.heartbeat_ticks}, "
                f"{self.election_ticks}"
            )
        for name in ("max_msg_bytes", "max_inflight", "snapshot_chunk_bytes", "tick_ms"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
