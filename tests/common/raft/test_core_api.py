"""The RaftCore API contract: restore, Ready/advance discipline, reads, status."""

from __future__ import annotations

import json

import pytest

from common.raft.core import RaftCore
from common.raft.errors import CorruptState, NotLeader, RaftUsageError
from common.raft.params import RaftParams
from common.raft.types import (
    ConfState,
    Entry,
    EntryType,
    HardState,
    PersistentState,
    ReadState,
    Role,
    Snapshot,
    SnapshotMeta,
)
from tests.common.raft.cluster import Cluster, MinRandom

CONF = ConfState(frozenset({"1", "2", "3"}))
PARAMS = RaftParams(election_ticks=10, heartbeat_ticks=1)


def core(state: PersistentState, node_id: str = "1") -> RaftCore:
    return RaftCore(node_id, PARAMS, state, MinRandom())


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (PersistentState(HardState(1, "", 3), None, (Entry(1, 1),), CONF), "beyond the last"),
        (PersistentState(HardState(1), None, (Entry(1, 1), Entry(3, 1)), CONF), "does not follow"),
        (PersistentState(HardState(1), None, (Entry(1, 2),), CONF), "older than log term"),
        (PersistentState(HardState(0, "2"), None, (), CONF), "recorded in term 0"),
        (
            PersistentState(
                HardState(3),
                Snapshot(SnapshotMeta(5, 2, CONF), b""),
                (Entry(5, 2),),
                None,
            ),
            "does not follow",
        ),
        (PersistentState(HardState(2), None, (Entry(1, 2), Entry(2, 1)), CONF), "does not follow"),
    ],
)
def test_corrupt_state_refused(state: PersistentState, message: str) -> None:
    with pytest.raises(CorruptState, match=message):
        core(state)


def test_restore_from_snapshot_and_entries() -> None:
    snap_conf = ConfState(frozenset({"1", "2"}), frozenset({"3"}))
    state = PersistentState(
        HardState(3, "2", 4),
        Snapshot(SnapshotMeta(3, 2, snap_conf), b"img"),
        (Entry(4, 2), Entry(5, 3)),
        CONF,  # ignored: the snapshot knows better
    )
    node = core(state)
    assert (node.term, node.commit_index, node.applied_index) == (3, 4, 3)
    assert (node.snapshot_index, node.last_index) == (3, 5)
    assert node.conf == snap_conf
    assert node.last_snapshot == state.snapshot
    rd = node.ready()
    assert [e.index for e in rd.committed_entries] == [4]
    assert rd.entries == ()  # everything loaded is already stable


def test_membership_comes_from_the_latest_conf_entry() -> None:
    from common.raft.codec import encode_conf_change
    from common.raft.types import ConfChange, ConfChangeType

    change = encode_conf_change(ConfChange(ConfChangeType.ADD_LEARNER, "4"))
    entries = (Entry(1, 1), Entry(2, 1, EntryType.CONF_CHANGE, change))
    node = core(PersistentState(HardState(1), None, entries, CONF), "4")
    assert node.conf.learners == {"4"} and node.role is Role.LEARNER


def test_ready_discipline() -> None:
    c = Cluster(["1"])
    node = c.nodes["1"]
    node.campaign()
    rd = node.ready()
    with pytest.raises(RaftUsageError, match="advance"):
        node.ready()
    assert not node.has_ready()
    node.advance(rd)
    with pytest.raises(RaftUsageError):
        node.advance(rd)


def test_single_voter_read_index_is_immediate_after_first_commit() -> None:
    c = Cluster(["1"])
    leader = c.nodes["1"]
    leader.campaign()
    leader.read_index(b"early")  # waits for the NOOP
    rd = leader.ready()
    assert rd.read_states == ()
    c.storage["1"].save(rd)
    leader.advance(rd)
    rd = leader.ready()
    assert rd.read_states == (ReadState(1, b"early"),)
    leader.advance(rd)
    leader.read_index(b"now")
    assert leader.ready().read_states == (ReadState(1, b"now"),)


def test_read_index_misuse() -> None:
    c = Cluster(["1", "2", "3"])
    c.elect("1")
    with pytest.raises(NotLeader) as info:
        c.nodes["2"].read_index(b"x")
    assert info.value.leader_hint == "1" and info.value.node_id == "2"
    with pytest.raises(RaftUsageError, match="read context"):
        c.nodes["1"].read_index(b"")


def test_read_lost_with_leadership_is_never_answered() -> None:
    c = Cluster(["1", "2", "3"])
    leader = c.elect("1")
    leader.read_index(b"r")
    c.isolated = {"1"}
    c.stabilize()
    for _ in range(20):
        leader.tick()
    assert leader.role is Role.FOLLOWER
    c.isolated = set()
    answered = []
    c.observers.append(lambda _id, rd: answered.extend(rd.read_states))
    for _ in range(30):
        c.tick_all()
        c.stabilize()
    assert answered == []


def test_status_is_json_friendly() -> None:
    c = Cluster(["1", "2", "3"], learners=["4"])
    leader = c.elect("1")
    status = leader.status()
    text = json.dumps(status)
    assert '"role": "LEADER"' in text
    progress = status["progress"]
    assert isinstance(progress, dict)
    assert set(progress) == {"2", "3", "4"}
    assert progress["4"]["learner"] is True and progress["4"]["caught_up"] is True
    assert "progress" not in c.nodes["2"].status()


def test_proposal_data_must_be_bytes() -> None:
    c = Cluster(["1"])
    leader = c.elect("1")
    with pytest.raises(RaftUsageError, match="bytes"):
        leader.propose("text")  # type: ignore[arg-type]


def test_bad_node_id() -> None:
    with pytest.raises(RaftUsageError):
        core(PersistentState(conf=CONF), "")
