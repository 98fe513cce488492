"""Compaction and InstallSnapshot."""

from __future__ import annotations

import pytest

from common.raft import _snapshot
from common.raft.core import RaftCore
from common.raft.errors import RaftUsageError
from common.raft.params import RaftParams
from common.raft.types import Message, MessageType, Role, SnapshotMeta
from tests.common.raft.cluster import Cluster


def cluster(chunk: int = 8) -> Cluster:
    params = RaftParams(election_ticks=10, heartbeat_ticks=1, snapshot_chunk_bytes=chunk)
    return Cluster(["1", "2", "3"], params=params)


def follower_3_behind_a_compaction() -> tuple[Cluster, RaftCore]:
    """Node 3 misses four entries that leader 1 then compacts away: it can catch up only
    through InstallSnapshot, in chunks of 8 bytes. Node 3 is reachable again on return."""
    c = cluster(chunk=8)
    leader = c.elect("1")
    c.isolated = {"3"}
    for k in range(4):
        c.propose("1", b"v%d" % k)
    leader.compact(leader.applied_index, c.machines["1"].snapshot())
    c.stabilize()
    c.isolated = set()
    return c, leader


def test_compact_reports_local_snapshot_not_ready_snapshot() -> None:
    c = cluster()
    leader = c.elect("1")
    c.propose("1", b"a")
    leader.compact(2, c.machines["1"].snapshot())
    rd = leader.ready()
    assert rd.snapshot is None
    assert rd.local_snapshot is not None and rd.local_snapshot.meta.index == 2
    assert rd.local_snapshot.meta.conf == leader.conf
    assert rd.compacted_through == 2
    assert leader.last_snapshot == rd.local_snapshot
    assert leader.snapshot_index == 2
    leader.advance(rd)


def test_compact_misuse() -> None:
    c = cluster()
    leader = c.elect("1")
    with pytest.raises(RaftUsageError, match="only applied through 1"):
        leader.compact(2, b"")
    leader.compact(1, b"")
    with pytest.raises(RaftUsageError, match="already compacted through 1"):
        leader.compact(1, b"")


def test_lagging_follower_installs_snapshot_in_chunks_and_restarts_from_it() -> None:
    c, leader = follower_3_behind_a_compaction()
    chunks: list[Message] = []
    c.observers.append(
        lambda _id, rd: chunks.extend(m for m in rd.messages if m.type is MessageType.SNAPSHOT)
    )
    for _ in range(3):
        leader.tick()
        c.stabilize()
    assert len(chunks) >= 3 and chunks[-1].done
    assert [m.offset for m in chunks] == [8 * i for i in range(len(chunks))]
    follower = c.nodes["3"]
    assert follower.snapshot_index == 5 and follower.commit_index == 5
    assert c.applied_data("3") == [b"v0", b"v1", b"v2", b"v3"]
    c.propose("1", b"after")
    restarted = c.restart("3")
    assert restarted.snapshot_index == 5 and restarted.last_index == 6
    assert restarted.conf == leader.conf


def _chunk(meta: SnapshotMeta, offset: int, data: bytes, done: bool, src: str = "1") -> Message:
    return Message(
        MessageType.SNAPSHOT, src, "2", 1, snapshot_meta=meta, offset=offset, data=data, done=done
    )


def test_follower_checks_chunk_order() -> None:
    c = cluster()
    c.elect("1")
    follower = c.nodes["2"]
    meta = SnapshotMeta(9, 1, follower.conf)
    follower.step(_chunk(meta, 4, b"late", False))
    follower.step(_chunk(meta, 0, b"abcd", False))
    follower.step(_chunk(meta, 0, b"abcd", False))  # duplicate
    follower.step(_chunk(meta, 8, b"gap!", False))
    replies = [(m.offset, m.reject, m.done) for m in follower.ready().messages]
    assert replies == [(0, True, False), (4, False, False), (4, False, False), (4, True, False)]


def test_snapshot_size_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_snapshot, "MAX_SNAPSHOT_BYTES", 6)
    c = cluster()
    c.elect("1")
    follower = c.nodes["2"]
    meta = SnapshotMeta(9, 1, follower.conf)
    follower.step(_chunk(meta, 0, b"abcd", False))
    follower.step(_chunk(meta, 4, b"efgh", True))
    rd = follower.ready()
    assert [m.offset for m in rd.messages] == [4]  # the oversize chunk gets no answer
    assert rd.snapshot is None and follower.snapshot_index == 0


def test_snapshot_older_than_commit_is_acknowledged_not_installed() -> None:
    c = cluster()
    leader = c.elect("1")
    c.propose("1", b"a")
    c.propose("1", b"b")
    follower = c.nodes["2"]
    follower.step(Message(MessageType.HEARTBEAT, "1", "2", 1))  # commit stays
    meta = SnapshotMeta(2, 1, leader.conf)
    # commit of the follower is 3 already: an older snapshot is acknowledged, not installed
    follower.step(_chunk(meta, 0, b"x", True))
    rd = follower.ready()
    assert rd.snapshot is None
    assert [(m.type, m.done, m.log_index) for m in rd.messages][-1] == (
        MessageType.SNAPSHOT_RESP,
        True,
        2,
    )
    assert follower.last_index == 3 and follower.role is Role.FOLLOWER


def test_snapshot_whose_last_entry_is_in_the_log_keeps_the_suffix() -> None:
    c = cluster()
    leader = c.elect("1")
    leader.propose(b"a")
    leader.propose(b"b")
    c.process_ready("1")
    for m in c.take(lambda m: m.dst == "2"):
        c.deliver(m)
    c.process_ready("2")
    follower = c.nodes["2"]
    assert follower.last_index == 3 and follower.commit_index == 1
    follower.step(_chunk(SnapshotMeta(2, 1, leader.conf), 0, b"x", True))
    rd = follower.ready()
    assert rd.snapshot is None  # Raft §7: keep the log, which already has entry 2/1
    assert rd.hard_state is not None and rd.hard_state.commit == 2
    assert follower.last_index == 3 and follower.snapshot_index == 0
    assert [e.index for e in rd.committed_entries] == [2]


def test_delayed_duplicate_rejection_does_not_stall_the_transfer() -> None:
    c, leader = follower_3_behind_a_compaction()
    leader.tick()
    stale = None
    for _ in range(50):  # step by step until the follower holds two chunks
        for node_id in "123":
            c.process_ready(node_id)
        msgs, c.network = c.network, []
        for m in msgs:
            if m.type is MessageType.SNAPSHOT_RESP and stale is None:
                stale = Message(
                    MessageType.SNAPSHOT_RESP, "3", "1", m.term, log_index=m.log_index, reject=True
                )
            c.deliver(m)
        incoming = c.nodes["3"]._node.incoming
        if incoming is not None and len(incoming.data) >= 16:
            break
    assert stale is not None
    leader.step(stale)  # an old "start again from 0" arrives late
    c.stabilize()
    for _ in range(3):
        leader.tick()
        c.stabilize()
    assert c.nodes["3"].snapshot_index == 5
