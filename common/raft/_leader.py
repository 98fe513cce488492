"""Leader-only inputs: ticks (heartbeats, check-quorum), proposals, membership changes and
leadership transfer (Raft §5.3, §6.2; thesis §3.10, §4.1, §6.2)."""

from __future__ import annotations

from common.raft._commit import maybe_commit
from common.raft._election import apply_conf_entries, become_follower
from common.raft._membership import validate_conf_change
from common.raft._progress import ProgressState
from common.raft._replication import MAX_ENTRY_BYTES, bcast_heartbeat
from common.raft._state import AppendNeed, NodeState
from common.raft.codec import encode_conf_change
from common.raft.errors import (
    ConfChangeInProgress,
    InvalidTransferTarget,
    NotLeader,
    ProposalDropped,
)
from common.raft.types import ConfChange, Entry, EntryType, MessageType, Role


def tick_leader(node: NodeState) -> None:
    node.heartbeat_elapsed += 1
    node.election_elapsed += 1
    for pr in node.progress.values():
        if pr.state is ProgressState.SNAPSHOT:
            pr.snapshot_stall_ticks += 1
    if node.election_elapsed >= node.params.election_ticks:
        node.election_elapsed = 0
        if node.params.check_quorum:
            if not _quorum_active(node):
                become_follower(node, node.term, "")  # thesis §6.2: we may be partitioned
                return
            for pr in node.progress.values():
                pr.recent_active = False
        node.lead_transferee = ""  # the transfer did not happen within an election timeout
    if node.heartbeat_elapsed >= node.params.heartbeat_ticks:
        node.heartbeat_elapsed = 0
        bcast_heartbeat(node, node.read_only.last_context())


def _quorum_active(node: NodeState) -> bool:
    active = 0
    for voter in node.conf.voters:
        if voter == node.id:
            active += 1
        else:
            pr = node.progress.get(voter)
            active += pr is not None and pr.recent_active
    return active >= node.quorum()


def _check_can_propose(node: NodeState) -> None:
    if node.role is not Role.LEADER:
        raise NotLeader(node.id, node.leader_id, node.term)
    if node.lead_transferee:
        raise ProposalDropped(f"leadership is moving to {node.lead_transferee}")
    if node.id not in node.conf.voters:
        raise ProposalDropped(f"{node.id} was removed and is about to step down")


def propose(node: NodeState, data: bytes, etype: EntryType = EntryType.NORMAL) -> tuple[int, int]:
    _check_can_propose(node)
    size = len(data)
    if size > MAX_ENTRY_BYTES:
        raise ProposalDropped(f"entry of {size} bytes exceeds {MAX_ENTRY_BYTES}")
    backlog = node.uncommitted_bytes
    if backlog > 0 and backlog + size > node.params.max_uncommitted_bytes:
        raise ProposalDropped(f"{backlog} uncommitted bytes: the leader is overloaded")
    log = node.log
    entry = Entry(log.last_index + 1, node.term, etype, data)
    log.append([entry])
    node.uncommitted_bytes += size
    node.need_append_all(AppendNeed.ENTRIES)
    if etype is EntryType.CONF_CHANGE:
        apply_conf_entries(node, (entry,))
        maybe_commit(node)  # a removal may shrink the quorum
    return entry.index, entry.term


def propose_conf_change(node: NodeState, change: ConfChange) -> tuple[int, int]:
    _check_can_propose(node)
    log = node.log
    if node.pending_conf_index > log.committed:
        raise ConfChangeInProgress(
            f"membership change at index {node.pending_conf_index} is not committed yet"
        )
    if log.term(log.committed) != node.term:
        # Ongaro's fix for single-server changes: first commit an entry of this term.
        raise ConfChangeInProgress(f"no entry of term {node.term} is committed yet")
    validate_conf_change(node.conf, change)
    return propose(node, encode_conf_change(change), EntryType.CONF_CHANGE)


def transfer_leadership(node: NodeState, target: str) -> None:
    """Thesis §3.10: stop taking proposals, catch the target up, tell it to campaign now."""
    if node.role is not Role.LEADER:
        raise NotLeader(node.id, node.leader_id, node.term)
    if target == node.id:
        return
    if target not in node.conf.voters:
        why = "it is a learner" if target in node.conf.learners else "it is not a member"
        raise InvalidTransferTarget(target, why)
    if node.lead_transferee == target:
        return
    node.lead_transferee = target
    node.election_elapsed = 0  # the transfer gets one election timeout
    pr = node.progress[target]
    if pr.match == node.log.last_index:
        node.send(MessageType.TIMEOUT_NOW, target)
    else:
        node.need_append(target, AppendNeed.ALWAYS)
