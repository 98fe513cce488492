"""Raft value types shared by the sans-I/O core, its drivers, the codec and the simulator.

Every type is frozen. Node ids are short strings. Indexes and terms are ints >= 0; index 0 and
term 0 mean "before the first entry". These types carry no behaviour beyond validation: the
protocol lives in `common.raft.core`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

MAX_NODE_ID_LEN = 64  # node ids travel in every message; keep them short and bounded


def _check_node_id(node_id: str, what: str) -> None:
    if not node_id or len(node_id) > MAX_NODE_ID_LEN:
        raise ValueError(f"{what} must be 1..{MAX_NODE_ID_LEN} characters, got {node_id!r}")


class EntryType(IntEnum):
    NORMAL = 0  # application command
    NOOP = 1  # appended by a new leader so it can commit entries of earlier terms (Raft §5.4.2, §8)
    CONF_CHANGE = 2  # data is an encoded ConfChange


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    term: int
    type: EntryType = EntryType.NORMAL
    data: bytes = b""

    def __post_init__(self) -> None:
        if self.index < 1 or self.term < 1:
            raise ValueError(
                f"entry index and term start at 1, got index={self.index} term={self.term}"
            )


@dataclass(frozen=True, slots=True)
class ConfState:
    """The cluster membership: voters count towards quorums, learners only receive the log."""

    voters: frozenset[str]
    learners: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for node_id in self.voters | self.learners:
            _check_node_id(node_id, "node id")
        if self.voters & self.learners:
            raise ValueError(
                f"nodes are both voter and learner: {sorted(self.voters & self.learners)}"
            )

    @property
    def members(self) -> frozenset[str]:
        return self.voters | self.learners


class ConfChangeType(IntEnum):
    ADD_LEARNER = 0  # joins as a non-voting member and catches up (Raft thesis §4.2.1)
    PROMOTE = 1  # an up-to-date learner becomes a voter
    REMOVE = 2  # voter or learner leaves


@dataclass(frozen=True, slots=True)
class ConfChange:
    """A single-server membership change (Raft thesis §4.1); one uncommitted at a time."""

    type: ConfChangeType
    node_id: str

    def __post_init__(self) -> None:
        _check_node_id(self.node_id, "conf change node id")


@dataclass(frozen=True, slots=True)
class HardState:
    """What must be on stable storage before a node answers a vote or append (Raft Figure 2)."""

    term: int = 0
    vote: str = ""  # "" means no vote cast in `term`
    commit: int = 0


@dataclass(frozen=True, slots=True)
class SnapshotMeta:
    index: int  # last log index covered by the snapshot
    term: int  # term of that entry
    conf: ConfState  # membership as of `index`


@dataclass(frozen=True, slots=True)
class Snapshot:
    meta: SnapshotMeta
    data: bytes  # the application's state machine image, opaque to Raft


@dataclass(frozen=True, slots=True)
class PersistentState:
    """What a driver loads from stable storage to restart a node (or bootstrap a new one).

    `entries` are the log entries after `snapshot.meta.index` (or from index 1 without a snapshot),
    contiguous and in order. `conf` is used only when the node has no snapshot and no
    CONF_CHANGE entries: it is the bootstrap membership from configuration.
    """

    hard_state: HardState = HardState()
    snapshot: Snapshot | None = None
    entries: tuple[Entry, ...] = ()
    conf: ConfState | None = None


class MessageType(IntEnum):
    PRE_VOTE = 0  # Raft thesis §9.6: would you vote for me? (no term change)
    PRE_VOTE_RESP = 1
    VOTE = 2  # RequestVote (Raft §5.2)
    VOTE_RESP = 3
    APPEND = 4  # AppendEntries with entries (Raft §5.3)
    APPEND_RESP = 5
    HEARTBEAT = 6  # AppendEntries without entries, carries commit and ReadIndex context
    HEARTBEAT_RESP = 7
    SNAPSHOT = 8  # InstallSnapshot chunk (Raft §7)
    SNAPSHOT_RESP = 9
    TIMEOUT_NOW = 10  # leadership transfer: start an election now (Raft thesis §3.10)


@dataclass(frozen=True, slots=True)
class Message:
    """One Raft RPC or reply. Fields unused by a type keep their defaults.

    - PRE_VOTE/VOTE: `log_index`/`log_term` = candidate's last log index/term; `term` is the
      proposed term for PRE_VOTE. `context` = b"transfer" when forced by leadership transfer.
    - *_RESP to votes: `reject`.
    - APPEND: `log_index`/`log_term` = prevLogIndex/prevLogTerm, `entries`, `commit`.
    - APPEND_RESP: `log_index` = last index now matching on success; on rejection
      `reject=True`, `hint_index`/`hint_term` = conflict index/term for fast backup (Raft §5.3)
      and `log_index` = the rejected prevLogIndex.
    - HEARTBEAT: `commit`, `context` (ReadIndex round). HEARTBEAT_RESP echoes `context`.
      A HEARTBEAT also names the last entry sent to that follower in `log_index`/`log_term`
      (0/0 if none); the HEARTBEAT_RESP echoes that index in `hint_index`, sets `reject` if the
      follower lacks that entry, and carries the follower's last index in `log_index`.
    - SNAPSHOT: `snapshot_meta`, `offset`, `data` (chunk), `done`.
      SNAPSHOT_RESP: `offset` = bytes received so far, `reject` if out of order,
      `log_index` = snapshot index (of the snapshot being received), `done` once installed
      (or once the follower is known to hold it already).
    """

    type: MessageType
    src: str
    dst: str
    term: int
    log_index: int = 0
    log_term: int = 0
    entries: tuple[Entry, ...] = ()
    commit: int = 0
    reject: bool = False
    hint_index: int = 0
    hint_term: int = 0
    context: bytes = b""
    snapshot_meta: SnapshotMeta | None = None
    offset: int = 0
    data: bytes = b""
    done: bool = False


class Role(IntEnum):
    FOLLOWER = 0
    PRE_CANDIDATE = 1
    CANDIDATE = 2
    LEADER = 3
    LEARNER = 4  # a non-voting member; never campaigns


@dataclass(frozen=True, slots=True)
class SoftState:
    """Volatile state the driver may report; not persisted."""

    leader_id: str  # "" when unknown
    role: Role
    term: int


@dataclass(frozen=True, slots=True)
class ReadState:
    """A ReadIndex request is confirmed: reads are linearizable once applied index >= `index`."""

    index: int
    context: bytes


@dataclass(frozen=True, slots=True)
class Ready:
    """Everything the driver must do after the core changed, in this order (Raft Figure 2):

    1. Persist `snapshot` (if any), then `hard_state` (if not None) and `entries` in ONE write
       batch: an entry at index i replaces every stored entry with index >= i. Delete stored
       entries with index <= `compacted_through`. The batch is synced (fsync) iff `must_sync`.
       A `snapshot` came from the leader and replaces the whole stored log (Raft §7). A
       `local_snapshot` is this node's own compaction (`core.compact`): store it as the node's
       snapshot in the same batch that deletes the entries it covers.
    2. Only then send `messages` (a vote or an append acknowledgement must never leave before
       the state it promises is durable).
    3. Restore the state machine from `snapshot` if any, then apply `committed_entries` in
       order, then serve `read_states` whose index <= the applied index.
    4. Call `core.advance(ready)`.
    """

    soft_state: SoftState | None = None
    hard_state: HardState | None = None
    entries: tuple[Entry, ...] = ()
    snapshot: Snapshot | None = None
    committed_entries: tuple[Entry, ...] = ()
    messages: tuple[Message, ...] = ()
    read_states: tuple[ReadState, ...] = ()
    must_sync: bool = False
    compacted_through: int = 0
    local_snapshot: Snapshot | None = None
    _seq: int = field(default=0, repr=False)  # lets advance() check it gets the latest Ready
