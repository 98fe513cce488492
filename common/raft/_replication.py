"""Leader side of log replication (Raft §5.3) with etcd-io/raft's flow control.

APPENDs are not built when a proposal arrives but once per Ready (`flush`), so every proposal
since the last Ready travels in one message per follower. Each entry is sent to a follower
about once: entries are resent only after a rejection, after a heartbeat response shows that
APPENDs sent before that heartbeat never arrived, or when a probe gets no answer by the next
heartbeat response.
"""

from __future__ import annotations

from common.raft._commit import on_progress
from common.raft._election import become_follower
from common.raft._progress import Progress, ProgressState
from common.raft._read_only import handle_read_ack
from common.raft._snapshot import resend_stalled_chunk, start_snapshot
from common.raft._state import MESSAGE_HEADER_BYTES, AppendNeed, NodeState
from common.raft.codec import MAX_ENTRIES_PER_MESSAGE, MAX_MESSAGE_BYTES
from common.raft.types import Message, MessageType

MAX_ENTRY_BYTES = MAX_MESSAGE_BYTES - MESSAGE_HEADER_BYTES  # an entry must fit one APPEND


def flush(node: NodeState) -> None:
    """Build the APPENDs queued since the last Ready, then any ReadIndex heartbeat round."""
    if node.pending_append:
        pending, node.pending_append = node.pending_append, {}
        committed = node.log.committed
        for to, need in pending.items():
            pr = node.progress.get(to)
            if pr is None:
                continue
            empty_ok = need is AppendNeed.ALWAYS or (
                need is AppendNeed.COMMIT and pr.sent_commit < committed
            )
            while send_append(node, to, pr, empty_ok=empty_ok):
                empty_ok = False
    if node.read_only.unsent:
        node.read_only.unsent = False
        bcast_heartbeat(node, node.read_only.last_context())
    if node.departing:
        _forget_departed(node)
    if node.stepping_down:
        _hand_over(node)


def _forget_departed(node: NodeState) -> None:
    committed = node.log.committed
    gone = [p for p, pr in node.progress.items() if 0 < pr.departing_at <= committed]
    for peer in gone:
        del node.progress[peer]
    node.departing = any(pr.departing_at for pr in node.progress.values())


def _hand_over(node: NodeState) -> None:
    """A leader whose removal committed steps down (thesis §4.2.2), first asking the most
    up-to-date voter to campaign at once instead of waiting for an election timeout."""
    voters = node.conf.voters
    ranked = sorted((pr.match, peer) for peer, pr in node.progress.items() if peer in voters)
    if ranked and ranked[-1][0] == node.log.last_index:
        node.send(MessageType.TIMEOUT_NOW, ranked[-1][1])
    become_follower(node, node.term, "")


def send_append(node: NodeState, to: str, pr: Progress, *, empty_ok: bool) -> bool:
    """Send `to` the next batch of entries (or a snapshot chunk); False if nothing was sent."""
    if pr.is_paused():
        return False
    log = node.log
    pr.next = min(pr.next, log.last_index + 1)
    prev = pr.next - 1
    prev_term = log.term(prev)
    if prev_term is None:  # the entries it needs are compacted: send the snapshot (§7)
        return start_snapshot(node, to, pr)
    max_bytes = min(node.params.max_msg_bytes, MAX_ENTRY_BYTES)
    entries = log.slice(pr.next, max_bytes, MAX_ENTRIES_PER_MESSAGE)
    if not entries and not empty_ok:
        return False
    commit = log.committed
    node.msgs.append(
        Message(
            MessageType.APPEND,
            node.id,
            to,
            node.term,
            log_index=prev,
            log_term=prev_term,
            entries=tuple(entries),
            commit=commit,
        )
    )
    pr.sent_entries(prev + len(entries), commit)
    return True


def bcast_heartbeat(node: NodeState, context: bytes) -> None:
    """Heartbeats carry a safe commit index and the last entry sent, to detect losses."""
    log = node.log
    for to, pr in node.progress.items():
        check = check_term = 0
        if pr.state is not ProgressState.SNAPSHOT:
            term = log.term(pr.next - 1)
            if term is not None:
                check, check_term = pr.next - 1, term
        node.msgs.append(
            Message(
                MessageType.HEARTBEAT,
                node.id,
                to,
                node.term,
                log_index=check,
                log_term=check_term,
                commit=min(pr.match, log.committed),
                context=context,
            )
        )


def _next_from_hint(node: NodeState, m: Message) -> int:
    """Where to probe next after a rejection (Raft §5.3 'optimization', 6.824 style)."""
    if m.hint_term == 0:
        return m.hint_index  # the follower's log is too short: continue after its end
    last_of_term = node.log.last_index_of_term(m.hint_term, m.log_index)
    return last_of_term + 1 if last_of_term > 0 else m.hint_index


def handle_append_response(node: NodeState, m: Message) -> None:
    pr = node.progress.get(m.src)
    if pr is None:
        return
    pr.recent_active = True
    if m.reject:
        if pr.maybe_decr_to(m.log_index, _next_from_hint(node, m)):
            if pr.state is ProgressState.REPLICATE:
                pr.become_probe(pr.next)
            node.need_append(m.src, AppendNeed.ALWAYS)
        return
    probe_answered = pr.state is ProgressState.PROBE and pr.match == m.log_index
    if pr.maybe_update(m.log_index) or probe_answered:
        on_progress(node, m.src, pr, m.log_index)


def _lost_appends(node: NodeState, pr: Progress, m: Message) -> bool:
    """Does a heartbeat response show that APPENDs sent before the heartbeat were lost?"""
    if pr.state is not ProgressState.REPLICATE:
        return False
    if m.hint_index > 0:
        return m.reject and m.hint_index == pr.next - 1  # it lacks the last entry we sent
    # We could not name the last entry sent: it is compacted, so whatever happened to our
    # APPENDs the follower now needs the snapshot; probing from its last index gets there.
    return node.log.term(pr.next - 1) is None


def handle_heartbeat_response(node: NodeState, m: Message) -> None:
    pr = node.progress.get(m.src)
    if pr is None:
        return
    pr.recent_active = True
    if m.context:
        handle_read_ack(node, m.src, m.context)
    if pr.state is ProgressState.SNAPSHOT:
        resend_stalled_chunk(node, m.src, pr)
        return
    if not m.reject and m.hint_index > 0:
        # The follower holds the entry we named, hence everything before it (Raft §5.3):
        # this also recovers from a lost acknowledgement.
        probe_answered = pr.state is ProgressState.PROBE and pr.match == m.hint_index
        if pr.maybe_update(m.hint_index) or probe_answered:
            on_progress(node, m.src, pr, m.hint_index)
            return
    if pr.state is ProgressState.PROBE:
        pr.probe_sent = False  # the probe may be lost: send it again
    elif _lost_appends(node, pr, m):
        pr.become_probe(min(m.log_index + 1, pr.next - 1))
    if pr.match < node.log.last_index:
        probing = pr.state is ProgressState.PROBE
        node.need_append(m.src, AppendNeed.ALWAYS if probing else AppendNeed.ENTRIES)
