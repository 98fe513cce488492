"""Replication: progress states, flow control, batching, loss recovery, backlog limits."""

from __future__ import annotations

import pytest

from common.raft.errors import ProposalDropped
from common.raft.params import RaftParams
from common.raft.types import Message, MessageType
from tests.common.raft.cluster import Cluster


def progress(c: Cluster, leader: str, peer: str) -> dict[str, object]:
    table = c.nodes[leader].status()["progress"]
    assert isinstance(table, dict)
    entry = table[peer]
    assert isinstance(entry, dict)
    return entry


def appends_to(msgs: list[Message] | tuple[Message, ...], dst: str) -> list[Message]:
    return [m for m in msgs if m.type is MessageType.APPEND and m.dst == dst]


def test_probe_then_replicate_with_pipelining_bounded_by_inflight() -> None:
    params = RaftParams(election_ticks=10, heartbeat_ticks=1, max_inflight=3, max_msg_bytes=40)
    c = Cluster(["1", "2", "3"], params=params)
    leader = c.elect("1")
    assert progress(c, "1", "2")["state"] == "REPLICATE"
    for k in range(10):
        leader.propose(b"x%d" % k)
    rd = leader.ready()
    sent = appends_to(rd.messages, "2")
    # 40 bytes hold one 2-byte entry plus 16 bytes of framing at most twice: 2 per APPEND
    assert [len(m.entries) for m in sent] == [2, 2, 2]
    assert progress(c, "1", "2")["inflight"] == 3
    c.storage["1"].save(rd)
    leader.advance(rd)
    assert not appends_to(leader.ready().messages, "2")  # paused: inflight window is full


def test_acks_free_the_window() -> None:
    params = RaftParams(election_ticks=10, heartbeat_ticks=1, max_inflight=1)
    c = Cluster(["1", "2", "3"], params=params)
    leader = c.elect("1")
    for k in range(5):
        leader.propose(b"x%d" % k)
    c.stabilize()
    assert all(c.nodes[i].commit_index == 6 for i in "123")


def test_entries_are_sent_once_and_not_with_heartbeats() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.elect("1")
    leader.propose(b"x")
    c.process_ready("1")
    c.network.clear()  # every APPEND is lost in flight; the leader does not know yet
    for _ in range(3):
        leader.tick()
    rd = leader.ready()
    assert {m.type for m in rd.messages} == {MessageType.HEARTBEAT}
    assert all(m.log_index == 2 for m in rd.messages)  # names the last entry sent


def test_heartbeat_response_reveals_lost_append() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.elect("1")
    leader.propose(b"x")
    c.isolated = {"2"}  # the APPEND and the commit update that follows are lost
    c.stabilize()
    assert c.nodes["2"].last_index == 1 and leader.commit_index == 2
    assert progress(c, "1", "2")["state"] == "REPLICATE"
    c.isolated = set()
    leader.tick()
    c.stabilize()
    assert c.nodes["2"].last_index == 2 and c.nodes["2"].commit_index == 2


def test_lost_ack_recovered_from_heartbeat() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.elect("1")
    c.isolated = {"3"}
    leader.propose(b"x")
    c.process_ready("1")
    c.deliver_all()
    c.process_ready("2")
    c.network.clear()  # 2's acknowledgement is lost
    c.process_ready("1")
    assert leader.commit_index == 1
    leader.tick()
    c.stabilize()
    assert leader.commit_index == 2


def test_follower_acks_are_combined() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.elect("1")
    for k in range(3):
        leader.propose(b"x%d" % k)
        c.process_ready("1")
    to_two = c.take(lambda m: m.dst == "2")
    assert len(to_two) == 3
    for m in to_two:
        c.nodes["2"].step(m)
    rd = c.nodes["2"].ready()
    assert [(m.type, m.log_index) for m in rd.messages] == [(MessageType.APPEND_RESP, 4)]


def test_uncommitted_backlog_limit() -> None:
    params = RaftParams(election_ticks=10, heartbeat_ticks=1, max_uncommitted_bytes=10)
    c = Cluster(["1", "2", "3"], params=params)
    leader = c.elect("1")
    c.isolated = {"2", "3"}
    leader.propose(b"123456")  # the first proposal is always admitted
    with pytest.raises(ProposalDropped) as info:
        leader.propose(b"123456")
    assert "6 uncommitted bytes" in str(info.value)
    c.isolated = set()
    leader.tick()
    c.stabilize()
    assert leader.commit_index == 2
    leader.propose(b"123456")  # the backlog was released by the commit


def test_oversized_entry_refused() -> None:
    c = Cluster(["1"])
    leader = c.elect("1")
    from common.raft._replication import MAX_ENTRY_BYTES

    with pytest.raises(ProposalDropped, match="exceeds"):
        leader.propose(b"x" * (MAX_ENTRY_BYTES + 1))


def test_rejection_hint_skips_conflicting_term() -> None:
    from common.raft._log import RaftLog
    from common.raft.types import Entry

    terms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
    log = RaftLog(0, 0, [Entry(i + 1, t) for i, t in enumerate(terms)])
    assert log.last_index_of_term(4, 10) == 5
    assert log.last_index_of_term(5, 6) == 6
    assert log.last_index_of_term(3, 10) == 0
    assert log.first_index_of_term(6, 10) == 8
    assert log.first_index_of_term(4, 9) == 4
