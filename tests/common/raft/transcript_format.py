"""Formatting Raft values for transcript tests: one short line per message or Ready part."""

from __future__ import annotations

from common.raft.codec import decode_conf_change
from common.raft.types import Entry, EntryType, Message, MessageType, Ready, SnapshotMeta


def fmt_ids(ids: frozenset[str] | list[str]) -> str:
    return "(" + ",".join(sorted(ids)) + ")"


def fmt_entry(e: Entry) -> str:
    if e.type is EntryType.NOOP:
        return f"{e.index}/{e.term} NOOP"
    if e.type is EntryType.CONF_CHANGE:
        change = decode_conf_change(e.data)
        kind = change.type.name.lower().replace("_", "-")
        return f"{e.index}/{e.term} CONF {kind} {change.node_id}"
    return f"{e.index}/{e.term} {e.data.decode(errors='replace')!r}"


def fmt_entries(entries: tuple[Entry, ...] | list[Entry]) -> str:
    return "[" + ", ".join(fmt_entry(e) for e in entries) + "]"


def fmt_meta(meta: SnapshotMeta) -> str:
    conf = meta.conf
    return (
        f"index={meta.index} term={meta.term} voters={fmt_ids(conf.voters)}"
        f" learners={fmt_ids(conf.learners)}"
    )


def fmt_message(m: Message) -> str:
    t = MessageType
    head = f"{m.src}->{m.dst} {m.type.name} term={m.term}"
    if m.type in (t.PRE_VOTE, t.VOTE):
        s = f"{head} last={m.log_index}/{m.log_term}"
        return s + (f" context={m.context.decode()}" if m.context else "")
    if m.type in (t.PRE_VOTE_RESP, t.VOTE_RESP):
        return head + (" rejected" if m.reject else "")
    if m.type is t.APPEND:
        s = f"{head} prev={m.log_index}/{m.log_term} commit={m.commit}"
        return s + (f" entries={fmt_entries(m.entries)}" if m.entries else "")
    if m.type is t.APPEND_RESP:
        if m.reject:
            return f"{head} rejected index={m.log_index} hint={m.hint_index}/{m.hint_term}"
        return f"{head} index={m.log_index}"
    if m.type is t.HEARTBEAT:
        s = f"{head} sent={m.log_index}/{m.log_term} commit={m.commit}"
        return s + (f" context={m.context.decode()}" if m.context else "")
    if m.type is t.HEARTBEAT_RESP:
        s = f"{head} last={m.log_index} checked={m.hint_index}"
        s += " rejected" if m.reject else ""
        return s + (f" context={m.context.decode()}" if m.context else "")
    if m.type is t.SNAPSHOT:
        assert m.snapshot_meta is not None
        s = f"{head} snapshot={m.snapshot_meta.index}/{m.snapshot_meta.term}"
        return s + f" offset={m.offset} bytes={len(m.data)}" + (" done" if m.done else "")
    if m.type is t.SNAPSHOT_RESP:
        s = f"{head} snapshot={m.log_index} offset={m.offset}"
        return s + (" rejected" if m.reject else "") + (" done" if m.done else "")
    return head


def fmt_ready(node_id: str, rd: Ready, dropped: set[int]) -> list[str]:
    out = [f"> {node_id} handling Ready" + (" (sync)" if rd.must_sync else "")]
    if rd.soft_state is not None:
        ss = rd.soft_state
        out.append(f"  State: {ss.role.name} term={ss.term} leader={ss.leader_id or '-'}")
    if rd.hard_state is not None:
        hs = rd.hard_state
        out.append(f"  HardState: term={hs.term} vote={hs.vote or '-'} commit={hs.commit}")
    if rd.snapshot is not None:
        out.append(f"  Snapshot: {fmt_meta(rd.snapshot.meta)}")
    if rd.entries:
        out.append(f"  Entries: {fmt_entries(rd.entries)}")
    if rd.local_snapshot is not None:
        out.append(f"  LocalSnapshot: {fmt_meta(rd.local_snapshot.meta)}")
    if rd.compacted_through:
        out.append(f"  CompactedThrough: {rd.compacted_through}")
    if rd.committed_entries:
        out.append(f"  Committed: {fmt_entries(rd.committed_entries)}")
    for rs in rd.read_states:
        out.append(f"  ReadState: index={rs.index} context={rs.context.decode()}")
    for pos, m in enumerate(rd.messages):
        out.append(f"  {fmt_message(m)}" + (" (dropped)" if pos in dropped else ""))
    return out
