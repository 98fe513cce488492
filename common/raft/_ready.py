"""Building a Ready from the node's state and taking it back in `advance` (see `Ready`).

One Ready is outstanding at a time: `ready()` hands out everything that changed, `advance()`
records what the driver made durable (entries through the last one of the Ready) and applied.
APPEND acknowledgements to the same leader are combined (the highest index says it all).
"""

from __future__ import annotations

from dataclasses import replace

from common.raft._commit import maybe_commit
from common.raft._replication import flush
from common.raft._state import NodeState
from common.raft.errors import RaftUsageError
from common.raft.types import Message, MessageType, Ready, Role


def has_ready(node: NodeState) -> bool:
    if node.ready_pending:
        return False
    flush(node)
    log = node.log
    hard, soft = node.prev_hard, node.prev_soft
    return bool(
        node.msgs
        or node.read_states
        or log.stable_index < log.last_index
        or log.applied < log.committed
        or node.pending_snapshot is not None
        or node.local_snapshot is not None
        or node.compacted_through
        or log.committed != hard.commit
        or node.term != hard.term
        or node.vote != hard.vote
        or node.role is not soft.role
        or node.leader_id != soft.leader_id
    )


def build_ready(node: NodeState) -> Ready:
    if node.ready_pending:
        raise RaftUsageError("advance() the previous Ready before asking for another")
    flush(node)
    log = node.log
    prev, prev_soft = node.prev_hard, node.prev_soft
    vote_changed = node.term != prev.term or node.vote != prev.vote
    hard = None
    if vote_changed or log.committed != prev.commit:
        hard = node.prev_hard = node.hard_state()
    soft = None
    if (node.role, node.leader_id, node.term) != (
        prev_soft.role,
        prev_soft.leader_id,
        prev_soft.term,
    ):
        soft = node.prev_soft = node.soft_state()
    entries = log.unstable_entries()
    node.ready_seq += 1
    ready = Ready(
        soft_state=soft,
        hard_state=hard,
        entries=entries,
        snapshot=node.pending_snapshot,
        committed_entries=log.next_committed_entries(),
        messages=_combine_acks(node.msgs),
        read_states=tuple(node.read_states),
        must_sync=bool(entries) or node.pending_snapshot is not None or vote_changed,
        compacted_through=node.compacted_through,
        local_snapshot=node.local_snapshot,
        _seq=node.ready_seq,
    )
    node.msgs = []
    node.read_states = []
    node.pending_snapshot = node.local_snapshot = None
    node.compacted_through = 0
    node.ready_pending = True
    return ready


def advance(node: NodeState, ready: Ready) -> None:
    if not node.ready_pending or ready._seq != node.ready_seq:
        raise RaftUsageError("advance() takes the Ready most recently returned by ready()")
    node.ready_pending = False
    log = node.log
    if ready.committed_entries:
        log.applied = max(log.applied, ready.committed_entries[-1].index)
    if ready.entries:
        last = ready.entries[-1]
        log.stable_to(last.index, last.term)
        if node.role is Role.LEADER:
            maybe_commit(node)  # the leader's own copy now counts (Raft §5.4.2)


def _combine_acks(msgs: list[Message]) -> tuple[Message, ...]:
    """Keep one successful APPEND_RESP per (leader, term), with the highest index."""
    last_pos: dict[tuple[str, int], int] = {}
    best: dict[tuple[str, int], int] = {}
    duplicates = False
    for pos, m in enumerate(msgs):
        if m.type is MessageType.APPEND_RESP and not m.reject:
            key = (m.dst, m.term)
            duplicates = duplicates or key in last_pos
            last_pos[key] = pos
            best[key] = max(best.get(key, 0), m.log_index)
    if not duplicates:
        return tuple(msgs)
    out = []
    for pos, m in enumerate(msgs):
        if m.type is MessageType.APPEND_RESP and not m.reject:
            key = (m.dst, m.term)
            if last_pos[key] != pos:
                continue
            if m.log_index != best[key]:
                m = replace(m, log_index=best[key])
        out.append(m)
    return tuple(out)
