"""The mutable state of one Raft node, shared by the protocol modules.

`RaftCore` owns one `NodeState`; the `_election`, `_replication`, `_snapshot`, `_read_only`
and `_step` modules are functions over it. Nothing here performs I/O: outgoing messages are
queued in `msgs`, and followers that need an APPEND are queued in `pending_append` so that
APPENDs are built once per Ready (every proposal since the last Ready goes in one message).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Protocol

from common.raft._log import RaftLog
from common.raft._membership import ConfHistory
from common.raft._progress import Progress
from common.raft._read_only import ReadOnly
from common.raft.params import RaftParams
from common.raft.types import (
    ConfState,
    HardState,
    Message,
    MessageType,
    ReadState,
    Role,
    Snapshot,
    SnapshotMeta,
    SoftState,
)

CAMPAIGN_TRANSFER = b"transfer"  # vote context of an election forced by leadership transfer
MESSAGE_HEADER_BYTES = 4096  # room for a message's other fields next to entries or a chunk


class RandomSource(Protocol):
    """What the core needs from a random generator; `random.Random` satisfies it."""

    def randrange(self, start: int, stop: int) -> int: ...


class AppendNeed(IntEnum):
    """Why a follower is queued in `pending_append`; the strongest reason wins."""

    ENTRIES = 0  # send new entries if there are any
    COMMIT = 1  # also send an empty APPEND if the follower has not heard the commit index
    ALWAYS = 2  # send an APPEND even if empty (a probe)


class IncomingSnapshot:
    """A snapshot being received in chunks (Raft §7)."""

    __slots__ = ("data", "leader", "meta", "term")

    def __init__(self, leader: str, term: int, meta: SnapshotMeta) -> None:
        self.leader = leader  # two leaders may encode the same snapshot differently:
        self.term = term  # never mix their chunks
        self.meta = meta
        self.data = bytearray()


class NodeState:
    def __init__(
        self, node_id: str, params: RaftParams, rng: RandomSource, log: RaftLog, confs: ConfHistory
    ) -> None:
        self.id = node_id
        self.params = params
        self.rng = rng
        self.log = log
        self.confs = confs
        self.term = 0
        self.vote = ""
        self.leader_id = ""
        self.role = Role.FOLLOWER
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_timeout = params.election_ticks
        self.votes: dict[str, bool] = {}
        self.progress: dict[str, Progress] = {}
        self.pending_append: dict[str, AppendNeed] = {}
        self.msgs: list[Message] = []
        self.read_states: list[ReadState] = []
        self.read_only = ReadOnly()
        self.lead_transferee = ""
        self.stepping_down = False  # removed by a committed change: hand over at the next flush
        self.departing = False  # some progress entry belongs to a node being removed
        self.pending_conf_index = 0
        self.uncommitted_bytes = 0
        self.last_snapshot: Snapshot | None = None
        self.pending_snapshot: Snapshot | None = None  # received from a leader, to persist
        self.local_snapshot: Snapshot | None = None  # from compact(), to persist
        self.compacted_through = 0
        self.incoming: IncomingSnapshot | None = None
        self.prev_hard = HardState()  # as last handed out in a Ready
        self.prev_soft = SoftState("", Role.FOLLOWER, 0)
        self.ready_seq = 0  # sequence number of the last Ready handed out
        self.ready_pending = False  # a Ready was handed out and not advanced yet

    @property
    def conf(self) -> ConfState:
        return self.confs.current

    def promotable(self) -> bool:
        """May this node campaign? Voters may; learners and removed nodes may not (§4.2.2).

        A node whose removal is appended but not known to be committed still may: it can hold
        the longest log (a leader that removed itself and lost leadership before committing
        the change), and without its campaign the remaining voters could never elect anyone.
        It then counts votes of its latest configuration only, which excludes itself.
        """
        if self.id in self.confs.current.voters:
            return True
        return self.id in self.confs.at(self.log.committed).voters

    def quorum(self) -> int:
        return len(self.confs.current.voters) // 2 + 1

    def follower_role(self) -> Role:
        return Role.LEARNER if self.id in self.confs.current.learners else Role.FOLLOWER

    def reset_randomized_timeout(self) -> None:
        ticks = self.params.election_ticks
        self.randomized_timeout = self.rng.randrange(ticks, 2 * ticks)  # Raft §5.2

    def hard_state(self) -> HardState:
        return HardState(self.term, self.vote, self.log.committed)

    def soft_state(self) -> SoftState:
        return SoftState(self.leader_id, self.role, self.term)

    def send(
        self,
        mtype: MessageType,
        to: str,
        *,
        term: int = -1,
        log_index: int = 0,
        log_term: int = 0,
        reject: bool = False,
        hint_index: int = 0,
        hint_term: int = 0,
        context: bytes = b"",
    ) -> None:
        """Queue a message without entries or snapshot data (those are built by their owners)."""
        self.msgs.append(
            Message(
                mtype,
                self.id,
                to,
                self.term if term < 0 else term,
                log_index=log_index,
                log_term=log_term,
                reject=reject,
                hint_index=hint_index,
                hint_term=hint_term,
                context=context,
            )
        )

    def need_append(self, to: str, need: AppendNeed) -> None:
        if self.pending_append.get(to, AppendNeed.ENTRIES) <= need:
            self.pending_append[to] = need

    def need_append_all(self, need: AppendNeed) -> None:
        for to in self.progress:
            self.need_append(to, need)
