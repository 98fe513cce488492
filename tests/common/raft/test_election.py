"""Election rules: timeouts, pre-vote, votes, stickiness, check-quorum, old-term messages."""

from __future__ import annotations

import random

from common.raft.core import RaftCore
from common.raft.params import RaftParams
from common.raft.types import (
    ConfState,
    Entry,
    HardState,
    Message,
    MessageType,
    PersistentState,
    Role,
)
from tests.common.raft.cluster import Cluster, MinRandom

VOTERS = ConfState(frozenset({"1", "2", "3"}))


def make(node_id: str = "1", state: PersistentState | None = None, **params: object) -> RaftCore:
    p = RaftParams(election_ticks=10, heartbeat_ticks=1, **params)  # type: ignore[arg-type]
    return RaftCore(node_id, p, state or PersistentState(conf=VOTERS), MinRandom())


def drain(core: RaftCore) -> list[Message]:
    msgs: list[Message] = []
    while core.has_ready():
        rd = core.ready()
        msgs.extend(rd.messages)
        core.advance(rd)
    return msgs


def test_randomized_timeout_within_range() -> None:
    for seed in range(30):
        params = RaftParams(election_ticks=10, heartbeat_ticks=1)
        core = RaftCore("1", params, PersistentState(conf=VOTERS), random.Random(seed))
        ticks = 0
        while core.role is Role.FOLLOWER:
            core.tick()
            ticks += 1
            assert ticks < 20
        assert 10 <= ticks < 20
        assert core.role is Role.PRE_CANDIDATE


def test_pre_vote_keeps_term_until_majority() -> None:
    core = make()
    core.campaign()
    msgs = drain(core)
    assert core.term == 0 and core.role is Role.PRE_CANDIDATE
    assert {(m.type, m.term) for m in msgs} == {(MessageType.PRE_VOTE, 1)}
    core.step(Message(MessageType.PRE_VOTE_RESP, "2", "1", 1))
    assert core.role is Role.CANDIDATE and core.term == 1
    votes = drain(core)
    assert {m.type for m in votes} == {MessageType.VOTE}


def test_pre_vote_rejections_make_a_follower_without_term_change() -> None:
    core = make()
    core.campaign()
    drain(core)
    core.step(Message(MessageType.PRE_VOTE_RESP, "2", "1", 0, reject=True))
    core.step(Message(MessageType.PRE_VOTE_RESP, "3", "1", 0, reject=True))
    assert core.role is Role.FOLLOWER and core.term == 0


def test_without_pre_vote_candidate_directly() -> None:
    core = make(pre_vote=False)
    core.campaign()
    assert core.role is Role.CANDIDATE and core.term == 1


def test_vote_is_durable_before_the_response_leaves() -> None:
    core = make("2")
    core.step(Message(MessageType.VOTE, "1", "2", 1))
    rd = core.ready()
    assert rd.hard_state == HardState(1, "1", 0)
    assert rd.must_sync
    assert [m.type for m in rd.messages] == [MessageType.VOTE_RESP]
    assert not rd.messages[0].reject


def test_one_vote_per_term() -> None:
    core = make("3")
    core.step(Message(MessageType.VOTE, "1", "3", 1))
    core.step(Message(MessageType.VOTE, "2", "3", 1))
    core.step(Message(MessageType.VOTE, "1", "3", 1))  # a retransmission is granted again
    replies = [(m.dst, m.reject) for m in drain(core)]
    assert replies == [("1", False), ("2", True), ("1", False)]


def test_vote_only_for_up_to_date_log() -> None:
    state = PersistentState(HardState(2, "", 0), None, (Entry(1, 1), Entry(2, 2)), VOTERS)
    core = make("3", state)
    core.step(Message(MessageType.VOTE, "1", "3", 3, log_index=5, log_term=1))  # older term
    core.step(Message(MessageType.VOTE, "2", "3", 3, log_index=1, log_term=2))  # shorter
    assert [m.reject for m in drain(core)] == [True, True]
    core.step(Message(MessageType.VOTE, "2", "3", 3, log_index=2, log_term=2))
    assert [m.reject for m in drain(core)] == [False]


def test_learner_and_non_member_never_campaign() -> None:
    conf = ConfState(frozenset({"1", "2"}), frozenset({"3"}))
    learner = make("3", PersistentState(conf=conf))
    outsider = make("9", PersistentState(conf=conf))
    for core in (learner, outsider):
        for _ in range(100):
            core.tick()
        core.campaign()
        assert drain(core) == []
    assert learner.role is Role.LEARNER
    assert outsider.role is Role.FOLLOWER


def test_leader_stickiness_ignores_pre_votes_but_not_transfer() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    follower = c.nodes["3"]
    follower.step(Message(MessageType.PRE_VOTE, "2", "3", 2, log_index=9, log_term=1))
    follower.step(Message(MessageType.VOTE, "2", "3", 2, log_index=9, log_term=1))
    assert drain(follower) == [] and follower.term == 1
    forced = Message(MessageType.VOTE, "2", "3", 2, log_index=9, log_term=1, context=b"transfer")
    follower.step(forced)
    assert [(m.type, m.reject) for m in drain(follower)] == [(MessageType.VOTE_RESP, False)]
    assert follower.term == 2


def test_stickiness_ends_after_an_election_timeout() -> None:
    c = Cluster(["1", "2", "3"], learners=["4"])  # a learner never campaigns on its own
    c.elect("1")
    learner = c.nodes["4"]
    pre_vote = Message(MessageType.PRE_VOTE, "2", "4", 2, log_index=9, log_term=1)
    for _ in range(9):
        learner.tick()
    learner.step(pre_vote)
    assert drain(learner) == []  # 9 ticks since the leader was heard: still in the lease
    learner.tick()
    learner.step(pre_vote)
    assert [(m.type, m.reject) for m in drain(learner)] == [(MessageType.PRE_VOTE_RESP, False)]


def test_lower_term_messages() -> None:
    state = PersistentState(HardState(5, "", 0), None, (), VOTERS)
    core = make("2", state)
    core.step(Message(MessageType.APPEND, "1", "2", 3))
    core.step(Message(MessageType.HEARTBEAT, "1", "2", 3))
    core.step(Message(MessageType.PRE_VOTE, "3", "2", 4))
    core.step(Message(MessageType.VOTE, "3", "2", 4))  # ignored
    core.step(Message(MessageType.APPEND_RESP, "3", "2", 4))  # ignored
    replies = [(m.type, m.term, m.reject) for m in drain(core)]
    # the two answers to the stale leader are combined into one
    assert replies == [(MessageType.APPEND_RESP, 5, False), (MessageType.PRE_VOTE_RESP, 5, True)]
    quiet = make("2", state, pre_vote=False, check_quorum=False)
    quiet.step(Message(MessageType.APPEND, "1", "2", 3))
    assert drain(quiet) == []


def test_stale_leader_steps_down_on_higher_term_response() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.elect("1")
    leader.step(Message(MessageType.APPEND_RESP, "2", "1", 7))
    assert leader.role is Role.FOLLOWER and leader.term == 7 and leader.leader_id == ""


def test_pre_vote_request_does_not_bump_term() -> None:
    core = make("2")
    core.step(Message(MessageType.PRE_VOTE, "1", "2", 4))
    assert core.term == 0
    assert [(m.term, m.reject) for m in drain(core)] == [(4, False)]


def test_check_quorum_steps_down() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.elect("1")
    c.isolated = {"1"}
    for _ in range(10):
        c.tick("1")
        c.stabilize()
    assert leader.role is Role.LEADER  # activity from before the partition still counts
    for _ in range(10):
        c.tick("1")
        c.stabilize()
    assert leader.role is Role.FOLLOWER and leader.term == 1


def test_misaddressed_and_malformed_messages_are_dropped() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    follower = c.nodes["2"]
    before = follower.last_index
    follower.step(Message(MessageType.APPEND, "1", "3", 1, entries=(Entry(2, 1),), log_index=1))
    follower.step(Message(MessageType.APPEND, "2", "2", 1, entries=(Entry(2, 1),), log_index=1))
    gap = Message(MessageType.APPEND, "1", "2", 1, log_index=1, log_term=1, entries=(Entry(3, 1),))
    future = Message(
        MessageType.APPEND, "1", "2", 1, log_index=1, log_term=1, entries=(Entry(2, 9),)
    )
    follower.step(gap)
    follower.step(future)
    follower.step(Message(MessageType.SNAPSHOT, "1", "2", 1))  # no metadata
    assert follower.last_index == before
    assert drain(follower) == []
