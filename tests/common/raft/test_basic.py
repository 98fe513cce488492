"""Election, replication and commit on small in-process clusters."""

from __future__ import annotations

import pytest

from common.raft.errors import NotLeader
from common.raft.params import RaftParams
from common.raft.types import EntryType, MessageType, Role
from tests.common.raft.cluster import Cluster


def test_single_node_elects_itself_and_commits() -> None:
    c = Cluster(["1"])
    leader = c.elect("1")
    assert leader.term == 1
    index, term = c.propose("1", b"x")
    assert (index, term) == (2, 1)
    assert leader.commit_index == 2
    assert c.applied_data("1") == [b"x"]


def test_three_nodes_elect_replicate_commit() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    assert [c.nodes[i].role for i in "123"] == [Role.LEADER, Role.FOLLOWER, Role.FOLLOWER]
    assert all(c.nodes[i].leader_id == "1" for i in "23")
    for k in range(5):
        c.nodes["1"].propose(b"v%d" % k)
    c.stabilize()
    for i in "123":
        assert c.nodes[i].commit_index == 6
        assert c.applied_data(i) == [b"v0", b"v1", b"v2", b"v3", b"v4"]
    assert c.log("2")[0].type is EntryType.NOOP


def test_follower_rejects_proposals_with_hint() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    with pytest.raises(NotLeader) as info:
        c.nodes["2"].propose(b"x")
    assert info.value.leader_hint == "1"
    assert info.value.term == 1


def test_election_message_budget() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    assert c.sent <= 30


def test_agreement_message_budget_batched() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    before = c.sent
    for k in range(12):
        c.nodes["1"].propose(b"cmd%d" % k)
    c.stabilize()
    assert all(c.nodes[i].commit_index == 13 for i in "123")
    assert c.sent - before <= 12


def test_idle_leader_only_heartbeats() -> None:
    c = Cluster(["1", "2", "3"], params=None)
    c.elect("1")
    before = c.sent
    for _ in range(10):
        c.tick_all()
        c.stabilize()
    # heartbeat_ticks=1: per tick one heartbeat and one response per follower
    assert c.sent - before == 10 * 4


def test_leader_counts_itself_only_after_persisting() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    leader = c.nodes["1"]
    leader.propose(b"x")
    rd = leader.ready()
    assert [e.data for e in rd.entries] == [b"x"]
    appends = [m for m in rd.messages if m.type is MessageType.APPEND]
    assert len(appends) == 2
    # both followers acknowledge before the leader persisted: 2 of 3 is a quorum anyway
    for m in appends:
        c.nodes[m.dst].step(m)
    for i in "23":
        frd = c.nodes[i].ready()
        c.nodes[i].advance(frd)
        for m in frd.messages:
            leader.step(m)
    assert leader.commit_index == 2  # acks from followers suffice for 3 nodes


def test_leader_self_ack_needed_with_one_follower_ack() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    leader = c.nodes["1"]
    leader.propose(b"x")
    rd = leader.ready()
    m = next(m for m in rd.messages if m.dst == "2")
    c.nodes["2"].step(m)
    frd = c.nodes["2"].ready()
    c.nodes["2"].advance(frd)
    for resp in frd.messages:
        leader.step(resp)
    assert leader.commit_index == 1  # leader has not persisted index 2 yet
    c.storage["1"].save(rd)
    leader.advance(rd)
    assert leader.commit_index == 2


SIM_PARAMS = RaftParams(election_ticks=100, heartbeat_ticks=10)  # 10 ms ticks, as in 6.824


def test_idle_second_costs_at_most_60_messages() -> None:
    c = Cluster(["1", "2", "3"], params=SIM_PARAMS, seed=1)
    c.elect("1")
    before = c.sent
    for _ in range(100):  # one second of 10 ms ticks
        c.tick_all()
        c.stabilize()
    assert c.leaders() == ["1"]
    assert c.sent - before <= 60


def test_6824_count_budget() -> None:
    c = Cluster(["1", "2", "3"], params=SIM_PARAMS, seed=2)
    for _ in range(300):
        c.tick_all()
        c.stabilize()
        if c.leaders():
            break
    assert c.sent <= 30
    leader = c.nodes[c.leaders()[0]]
    before = c.sent
    start, _ = leader.propose(b"1")
    for k in range(11):
        leader.propose(b"%d" % k)
    while any(c.nodes[i].commit_index < start + 11 for i in "123"):
        c.tick_all()
        c.stabilize()
    assert c.sent - before <= (10 + 1 + 3) * 3
