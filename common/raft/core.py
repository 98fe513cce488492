"""The sans-I/O Raft core: one synchronous object per node (Raft paper, Ongaro's thesis).

Inputs are `tick()` (one logical tick), `step(msg)` (a message from the network) and the
client calls (`propose`, `propose_conf_change`, `read_index`, `transfer_leadership`,
`campaign`, `compact`). Outputs come only through `ready()`: the driver persists, sends and
applies what the Ready says, in the order its docstring gives, then calls `advance()`.
Time, randomness and parameters are inputs; this module and everything it imports from
`common.raft` perform no I/O and read no clock.

The protocol lives in small modules over one `NodeState`: `_election` (roles, votes,
pre-vote), `_step` (term rules and per-role dispatch), `_replication` and `_commit` (leader
side of AppendEntries), `_follower` (receiver side), `_snapshot`, `_read_only` (ReadIndex),
`_leader` (ticks, proposals, membership and leadership transfer), `_ready`.
"""

from __future__ import annotations

from common.raft import _election, _leader, _read_only, _ready, _snapshot, _step
from common.raft._log import RaftLog
from common.raft._membership import ConfHistory
from common.raft._state import NodeState, RandomSource
from common.raft.errors import CorruptState, RaftUsageError
from common.raft.params import RaftParams
from common.raft.types import (
    MAX_NODE_ID_LEN,
    ConfChange,
    ConfState,
    EntryType,
    Message,
    PersistentState,
    Ready,
    Role,
    Snapshot,
    SoftState,
)

__all__ = ["RaftCore", "RandomSource"]


def _restore(state: PersistentState) -> tuple[RaftLog, ConfHistory]:
    """Rebuild the log and membership from stable storage; CorruptState if inconsistent."""
    snap = state.snapshot
    snap_index, snap_term = (snap.meta.index, snap.meta.term) if snap else (0, 0)
    log = RaftLog(snap_index, snap_term, state.entries)
    hs = state.hard_state
    if hs.term < log.last_term:
        raise CorruptState(f"hard state term {hs.term} is older than log term {log.last_term}")
    if hs.commit > log.last_index:
        raise CorruptState(f"commit index {hs.commit} is beyond the last index {log.last_index}")
    if hs.vote and hs.term == 0:
        raise CorruptState(f"a vote for {hs.vote} is recorded in term 0")
    log.committed = max(hs.commit, snap_index)
    if snap is not None:
        base = snap.meta.conf
    else:
        base = state.conf if state.conf is not None else ConfState(frozenset())
    confs = ConfHistory(snap_index, base)
    for e in state.entries:
        if e.type is EntryType.CONF_CHANGE:
            confs.apply(e)
    return log, confs


class RaftCore:
    """One Raft node. Not thread-safe: one driver calls it from one task."""

    def __init__(
        self, node_id: str, params: RaftParams, state: PersistentState, rng: RandomSource
    ) -> None:
        if not node_id or len(node_id) > MAX_NODE_ID_LEN:
            raise RaftUsageError(f"node id must be 1..{MAX_NODE_ID_LEN} characters")
        log, confs = _restore(state)
        node = NodeState(node_id, params, rng, log, confs)
        node.term = state.hard_state.term
        node.vote = state.hard_state.vote
        node.role = node.follower_role()
        node.pending_conf_index = confs.last_index
        node.last_snapshot = state.snapshot
        node.reset_randomized_timeout()
        node.prev_hard = state.hard_state
        node.prev_soft = SoftState("", node.role, node.term)
        self._node = node

    # --- inputs -------------------------------------------------------------------------------

    def tick(self) -> None:
        if self._node.role is Role.LEADER:
            _leader.tick_leader(self._node)
        else:
            _election.tick_election(self._node)

    def step(self, msg: Message) -> None:
        _step.step(self._node, msg)

    def propose(self, data: bytes) -> tuple[int, int]:
        """Append a NORMAL entry; returns its (index, term). NotLeader, ProposalDropped."""
        if not isinstance(data, bytes):
            raise RaftUsageError(f"proposal data must be bytes, got {type(data).__name__}")
        return _leader.propose(self._node, data)

    def propose_conf_change(self, change: ConfChange) -> tuple[int, int]:
        """Append a single-server membership change (thesis §4.1); returns (index, term)."""
        return _leader.propose_conf_change(self._node, change)

    def read_index(self, context: bytes) -> None:
        """Start a ReadIndex read (thesis §6.4); answered by a ReadState in a later Ready."""
        _read_only.request_read(self._node, context)

    def transfer_leadership(self, target: str) -> None:
        _leader.transfer_leadership(self._node, target)

    def campaign(self) -> None:
        """Start an election now (with pre-vote if enabled); no-op for non-voters."""
        pre = self._node.params.pre_vote
        kind = _election.CampaignKind.PRE_ELECTION if pre else _election.CampaignKind.ELECTION
        _election.campaign(self._node, kind)

    def compact(self, index: int, data: bytes) -> None:
        """The application snapshotted its state through `index` (<= applied index)."""
        _snapshot.compact(self._node, index, data)

    # --- outputs ------------------------------------------------------------------------------

    def has_ready(self) -> bool:
        return _ready.has_ready(self._node)

    def ready(self) -> Ready:
        return _ready.build_ready(self._node)

    def advance(self, ready: Ready) -> None:
        _ready.advance(self._node, ready)

    # --- introspection ------------------------------------------------------------------------

    @property
    def node_id(self) -> str:
        return self._node.id

    @property
    def term(self) -> int:
        return self._node.term

    @property
    def role(self) -> Role:
        return self._node.role

    @property
    def leader_id(self) -> str:
        return self._node.leader_id

    @property
    def commit_index(self) -> int:
        return self._node.log.committed

    @property
    def applied_index(self) -> int:
        return self._node.log.applied

    @property
    def last_index(self) -> int:
        return self._node.log.last_index

    @property
    def snapshot_index(self) -> int:
        return self._node.log.snapshot_index

    @property
    def conf(self) -> ConfState:
        return self._node.conf

    @property
    def last_snapshot(self) -> Snapshot | None:
        """The newest snapshot this node holds (own compaction or installed from a leader)."""
        return self._node.last_snapshot

    def status(self) -> dict[str, object]:
        node, log = self._node, self._node.log
        status: dict[str, object] = {
            "id": node.id,
            "role": node.role.name,
            "term": node.term,
            "vote": node.vote,
            "leader": node.leader_id,
            "commit": log.committed,
            "applied": log.applied,
            "last_index": log.last_index,
            "snapshot_index": log.snapshot_index,
            "conf": {"voters": sorted(node.conf.voters), "learners": sorted(node.conf.learners)},
        }
        if node.role is Role.LEADER:
            status["transferee"] = node.lead_transferee
            status["progress"] = {
                peer: {
                    "match": pr.match,
                    "next": pr.next,
                    "state": pr.state.name,
                    "inflight": len(pr.inflights),
                    "recent_active": pr.recent_active,
                    "learner": pr.is_learner,
                    "caught_up": pr.match >= log.committed,
                }
                for peer, pr in sorted(node.progress.items())
            }
        return status
