"""Follower side of AppendEntries and heartbeats (Raft §5.3, Figure 2 receiver rules).

Rules kept here: entries are truncated only on a real conflict (same index, different term),
never because an APPEND is stale, duplicated or reordered; the commit index moves to at most
the last entry of the message that proved the match (Figure 2, rule 5); an acknowledgement
names the last index of that message. Replies leave through a Ready, i.e. after persistence.
"""

from __future__ import annotations

from common.raft._election import apply_conf_entries, conf_changed
from common.raft._state import NodeState
from common.raft.types import Entry, Message, MessageType


def _valid_entries(m: Message) -> bool:
    """Entries must follow `log_index` contiguously with sane terms; anything else is dropped."""
    index, term = m.log_index, m.log_term
    for e in m.entries:
        if e.index != index + 1 or e.term < term or e.term > m.term:
            return False
        index, term = e.index, e.term
    return True


def handle_append(node: NodeState, m: Message) -> None:
    if not _valid_entries(m):
        return
    log = node.log
    entries: tuple[Entry, ...] | list[Entry] = m.entries
    prev, prev_term = m.log_index, m.log_term
    if prev < log.committed:
        # The committed prefix is identical on every node (Raft §5.4): skip to its end.
        skip = log.committed - prev
        if skip >= len(entries):
            _ack(node, m, m.log_index + len(m.entries))  # all present; nothing to do
            return
        entries = entries[skip:]
        prev = log.committed
        prev_term = log.term(prev) or 0
    if not log.match_term(prev, prev_term):
        _reject(node, m)
        return
    last_new = prev + len(entries)
    conflict = log.find_conflict(entries)
    if conflict:  # > committed, since entries start after prev >= committed
        _append(node, entries[conflict - entries[0].index :])
    log.commit_to(min(m.commit, last_new))
    _ack(node, m, last_new)


def _append(node: NodeState, entries: tuple[Entry, ...] | list[Entry]) -> None:
    first = entries[0].index
    if first <= node.log.last_index and node.confs.truncate_from(first):
        conf_changed(node)  # the truncated suffix held a membership change: undo it
    node.log.append(entries)
    apply_conf_entries(node, entries)


def _ack(node: NodeState, m: Message, index: int) -> None:
    node.send(MessageType.APPEND_RESP, m.src, log_index=index)


def _reject(node: NodeState, m: Message) -> None:
    """Reject with a hint that lets the leader skip a whole conflicting term (Raft §5.3)."""
    log = node.log
    if m.log_index > log.last_index:
        hint_index, hint_term = log.last_index + 1, 0
    else:
        hint_term = log.term(m.log_index) or 0
        hint_index = max(log.first_index_of_term(hint_term, m.log_index), log.committed + 1)
    node.send(
        MessageType.APPEND_RESP,
        m.src,
        log_index=m.log_index,
        reject=True,
        hint_index=hint_index,
        hint_term=hint_term,
    )


def handle_heartbeat(node: NodeState, m: Message) -> None:
    """Take the commit index and tell the leader whether we hold what it has sent us.

    The leader sets `commit` to at most what it knows we hold; `log_index`/`log_term` name
    the last entry it sent us, which lets it notice lost APPENDs and lost acknowledgements.
    """
    log = node.log
    log.commit_to(min(m.commit, log.last_index))
    check = m.log_index
    reject = check > log.committed and not log.match_term(check, m.log_term)
    node.send(
        MessageType.HEARTBEAT_RESP,
        m.src,
        log_index=log.last_index,
        hint_index=check,
        reject=reject,
        context=m.context,
    )
