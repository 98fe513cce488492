"""Snapshots: local compaction and InstallSnapshot in chunks (Raft §7).

Leader side: a follower whose `next` entry is compacted gets the leader's latest snapshot in
chunks of `snapshot_chunk_bytes`, one chunk in flight; the follower acknowledges the bytes it
holds, a rejection names the offset it wants, and a chunk unanswered for an election timeout
is sent again from the acknowledged offset. Follower side: chunks are assembled in order, from
one leader and term only, up to MAX_SNAPSHOT_BYTES; on the last chunk the snapshot replaces
the log unless the log already holds the snapshot's last entry.
"""

from __future__ import annotations

from common.raft._commit import on_progress
from common.raft._election import conf_changed
from common.raft._membership import ConfHistory
from common.raft._progress import Progress, ProgressState
from common.raft._state import MESSAGE_HEADER_BYTES, AppendNeed, IncomingSnapshot, NodeState
from common.raft.codec import MAX_MESSAGE_BYTES
from common.raft.errors import RaftUsageError
from common.raft.types import Message, MessageType, Snapshot, SnapshotMeta

MAX_SNAPSHOT_BYTES = 1 << 30  # a follower assembles a snapshot in memory; refuse anything larger
MAX_CHUNK_BYTES = MAX_MESSAGE_BYTES - MESSAGE_HEADER_BYTES  # a chunk must fit one message


# --- leader side ------------------------------------------------------------------------------


def start_snapshot(node: NodeState, to: str, pr: Progress) -> bool:
    """Switch `to` to SNAPSHOT and send the first chunk; False if that is not possible now."""
    snapshot = node.last_snapshot
    if snapshot is None or not pr.recent_active:
        return False  # wait until the follower answers at all (etcd-io/raft does the same)
    pr.become_snapshot(snapshot)
    send_chunk(node, to, pr)
    return True


def send_chunk(node: NodeState, to: str, pr: Progress) -> None:
    snapshot = pr.snapshot
    if snapshot is None:
        return
    size = min(node.params.snapshot_chunk_bytes, MAX_CHUNK_BYTES)
    offset = pr.snapshot_offset
    chunk = snapshot.data[offset : offset + size]
    end = offset + len(chunk)
    node.msgs.append(
        Message(
            MessageType.SNAPSHOT,
            node.id,
            to,
            node.term,
            snapshot_meta=snapshot.meta,
            offset=offset,
            data=chunk,
            done=end >= len(snapshot.data),
        )
    )
    pr.snapshot_sent = end
    pr.snapshot_stall_ticks = 0


def resend_stalled_chunk(node: NodeState, to: str, pr: Progress) -> None:
    """The follower is alive but our chunk got no answer for an election timeout: resend."""
    if pr.snapshot_stall_ticks >= node.params.election_ticks:
        send_chunk(node, to, pr)


def handle_snapshot_response(node: NodeState, m: Message) -> None:
    pr = node.progress.get(m.src)
    if pr is None:
        return
    pr.recent_active = True
    snapshot = pr.snapshot
    if pr.state is not ProgressState.SNAPSHOT or snapshot is None:
        return
    if m.log_index != snapshot.meta.index:
        return  # about another snapshot
    if m.done:
        pr.maybe_update(m.log_index)
        on_progress(node, m.src, pr, m.log_index)
        node.need_append(m.src, AppendNeed.COMMIT)
    elif m.reject or m.offset >= pr.snapshot_sent:
        # The follower wants another offset, or holds the chunk in flight (or more, after a
        # delayed duplicate made us go back): continue from what it holds.
        pr.snapshot_offset = min(m.offset, len(snapshot.data))
        send_chunk(node, m.src, pr)
    else:
        pr.snapshot_offset = max(pr.snapshot_offset, m.offset)  # an older chunk's answer


# --- follower side ----------------------------------------------------------------------------


def _reply(node: NodeState, m: Message, offset: int, *, reject: bool = False) -> None:
    meta = m.snapshot_meta
    index = meta.index if meta is not None else 0
    node.msgs.append(
        Message(
            MessageType.SNAPSHOT_RESP,
            node.id,
            m.src,
            node.term,
            log_index=index,
            offset=offset,
            reject=reject,
            done=index <= node.log.committed,
        )
    )


def handle_snapshot(node: NodeState, m: Message) -> None:
    meta = m.snapshot_meta
    if meta is None or meta.index < 1:
        return
    if meta.index <= node.log.committed:
        node.incoming = None
        _reply(node, m, m.offset + len(m.data))  # nothing to install: done
        return
    inc = node.incoming
    if inc is None or (inc.leader, inc.term, inc.meta) != (m.src, m.term, meta):
        if m.offset != 0:
            _reply(node, m, 0, reject=True)
            return
        inc = node.incoming = IncomingSnapshot(m.src, m.term, meta)
    received = len(inc.data)
    if m.offset != received:
        _reply(node, m, received, reject=m.offset > received)
        return
    if received + len(m.data) > MAX_SNAPSHOT_BYTES:
        node.incoming = None  # never installable here; the leader retries after a timeout
        return
    inc.data += m.data
    if m.done:
        node.incoming = None
        install(node, Snapshot(meta, bytes(inc.data)))
    _reply(node, m, len(inc.data))


def install(node: NodeState, snapshot: Snapshot) -> None:
    meta = snapshot.meta
    log = node.log
    if log.match_term(meta.index, meta.term):
        log.commit_to(meta.index)  # Raft §7: the log already has it; keep what follows
        return
    log.restore(meta.index, meta.term)
    node.confs = ConfHistory(meta.index, meta.conf)
    node.pending_snapshot = node.last_snapshot = snapshot
    node.local_snapshot = None  # superseded, and must not overwrite the installed one
    node.compacted_through = 0
    conf_changed(node)


# --- local compaction -------------------------------------------------------------------------


def compact(node: NodeState, index: int, data: bytes) -> None:
    log = node.log
    if index <= log.snapshot_index:
        raise RaftUsageError(
            f"cannot compact at {index}: already compacted through {log.snapshot_index}"
        )
    if index > log.applied:
        raise RaftUsageError(f"cannot compact at {index}: only applied through {log.applied}")
    term = log.term(index)
    if term is None:
        raise RaftUsageError(f"cannot compact at {index}: no such entry")
    snapshot = Snapshot(SnapshotMeta(index, term, node.confs.at(index)), data)
    log.compact(index)
    node.confs.compact(index)
    node.last_snapshot = node.local_snapshot = snapshot
    node.compacted_through = index
