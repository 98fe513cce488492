"""Single-server membership changes (thesis §4.1)."""

from __future__ import annotations

import pytest

from common.raft._membership import ConfHistory, apply_conf_change
from common.raft.codec import encode_conf_change
from common.raft.errors import (
    ConfChangeInProgress,
    InvalidConfChange,
    InvalidTransferTarget,
    UsageError,
)
from common.raft.types import (
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    Message,
    MessageType,
    Role,
)
from tests.common.raft.cluster import Cluster

ADD, PROMOTE, REMOVE = ConfChangeType.ADD_LEARNER, ConfChangeType.PROMOTE, ConfChangeType.REMOVE


def conf_entry(index: int, kind: ConfChangeType, node: str, term: int = 1) -> Entry:
    return Entry(index, term, EntryType.CONF_CHANGE, encode_conf_change(ConfChange(kind, node)))


def test_invalid_changes_carry_reason() -> None:
    c = Cluster(["1", "2"], learners=["3"])
    leader = c.elect("1")
    cases = [
        (ConfChange(ADD, "2"), "2 is already a member"),
        (ConfChange(PROMOTE, "2"), "2 is not a learner"),
        (ConfChange(REMOVE, "9"), "9 is not a member"),
    ]
    for change, reason in cases:
        with pytest.raises(InvalidConfChange) as info:
            leader.propose_conf_change(change)
        assert info.value.change == change and info.value.reason == reason
        assert isinstance(info.value, UsageError)


def test_last_voter_cannot_be_removed() -> None:
    c = Cluster(["1"])
    leader = c.elect("1")
    with pytest.raises(InvalidConfChange) as info:
        leader.propose_conf_change(ConfChange(REMOVE, "1"))
    assert info.value.reason == "1 is the last voter"


def test_one_change_at_a_time_and_only_after_a_current_term_commit() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.nodes["1"]
    leader.campaign()
    while leader.role is not Role.LEADER:
        c.process_ready("1")
        c.deliver_all()
        for i in "23":
            c.process_ready(i)
        c.deliver_all()
    with pytest.raises(ConfChangeInProgress, match="no entry of term 1 is committed"):
        leader.propose_conf_change(ConfChange(ADD, "4"))
    c.stabilize()
    leader.propose_conf_change(ConfChange(ADD, "4"))
    with pytest.raises(ConfChangeInProgress, match="index 2 is not committed"):
        leader.propose_conf_change(ConfChange(ADD, "5"))


def test_change_takes_effect_on_append_and_learner_does_not_count() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.elect("1")
    c.isolated = {"2", "3"}
    leader.propose_conf_change(ConfChange(ADD, "4"))
    assert leader.conf.learners == {"4"}  # before it commits
    c.add_node("4", c.bootstrap)
    c.stabilize()
    assert leader.commit_index == 1  # the learner's acknowledgement does not make a quorum
    assert c.nodes["4"].last_index == 2 and c.nodes["4"].role is Role.LEARNER


def test_transfer_to_learner_refused() -> None:
    c = Cluster(["1", "2"], learners=["3"])
    leader = c.elect("1")
    with pytest.raises(InvalidTransferTarget) as info:
        leader.transfer_leadership("3")
    assert info.value.target == "3" and info.value.reason == "it is a learner"


def test_follower_undoes_a_truncated_change() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    follower = c.nodes["2"]
    change = conf_entry(2, ADD, "4")
    follower.step(
        Message(MessageType.APPEND, "1", "2", 1, log_index=1, log_term=1, entries=(change,))
    )
    assert follower.conf.learners == {"4"}  # in effect once appended, before any commit
    noop = Entry(2, 2, EntryType.NOOP)
    follower.step(
        Message(MessageType.APPEND, "3", "2", 2, log_index=1, log_term=1, entries=(noop,))
    )
    assert follower.conf.learners == frozenset()  # the truncated change is undone
    assert follower.leader_id == "3" and follower.last_index == 2


def test_conf_history() -> None:
    base = ConfState(frozenset({"1", "2"}))
    history = ConfHistory(0, base)
    assert history.apply(conf_entry(3, ADD, "3"))
    assert history.apply(conf_entry(5, PROMOTE, "3"))
    assert history.at(2) == base
    assert history.at(4).learners == {"3"}
    assert history.at(9).voters == {"1", "2", "3"}
    history.compact(4)
    assert history.at(4).learners == {"3"} and history.last_index == 5
    assert history.truncate_from(5)
    assert history.current.learners == {"3"}
    assert not history.truncate_from(5)


def test_apply_is_total() -> None:
    conf = ConfState(frozenset({"1"}), frozenset({"2"}))
    assert apply_conf_change(conf, ConfChange(ADD, "1")) == conf
    assert apply_conf_change(conf, ConfChange(REMOVE, "9")) == conf
    assert apply_conf_change(conf, ConfChange(PROMOTE, "2")).voters == {"1", "2"}


def test_bad_conf_payload_is_ignored_everywhere() -> None:
    history = ConfHistory(0, ConfState(frozenset({"1"})))
    assert not history.apply(Entry(1, 1, EntryType.CONF_CHANGE, b"\xff"))
    assert history.current.voters == {"1"}
