"""Randomized safety: seeded schedules of 3-5 nodes with drops, duplicates, reordering,
partitions, crashes with restart from persisted state, compactions, membership changes and
leadership transfers. Checked after every step:

- Election Safety: at most one leader per term.
- State Machine Safety: every node applies the same entry at a given index, including after a
  restart (applied entries never change), and a new leader holds every applied entry.
After the faults stop, the cluster must elect a leader and commit a new entry everywhere.
A failure names its seed: `pytest -k "seed_17"` replays it.
"""

from __future__ import annotations

import random

import pytest

from common.raft.core import RaftCore
from common.raft.errors import RaftError
from common.raft.params import RaftParams
from common.raft.types import ConfChange, ConfChangeType, Entry, Ready, Role
from tests.common.raft.cluster import Cluster

SEEDS = 300
STEPS = 250


class Checker:
    def __init__(self, cluster: Cluster, seed: int) -> None:
        self.cluster = cluster
        self.seed = seed
        self.leader_of_term: dict[int, str] = {}
        self.applied: dict[int, tuple[int, int, bytes]] = {}
        self.commit_term_bound: dict[int, int] = {}
        self.checked_leaders: set[tuple[int, str]] = set()
        cluster.observers.append(self.on_ready)

    def fail(self, why: str) -> None:
        raise AssertionError(f"SEED={self.seed}: {why}")

    def on_ready(self, node_id: str, rd: Ready) -> None:
        machine = self.cluster.machines[node_id]
        expected = machine.applied_index + 1
        if rd.snapshot is not None:
            expected = rd.snapshot.meta.index + 1
        for e in rd.committed_entries:
            if e.index != expected:
                self.fail(f"{node_id} applies {e.index} but expected {expected}")
            self.check_entry(node_id, e)
            expected += 1

    def check_entry(self, node_id: str, e: Entry) -> None:
        record = (e.term, int(e.type), e.data)
        seen = self.applied.get(e.index)
        if seen is None:
            self.applied[e.index] = record
            # The entry was committed in some term <= the highest term any node has now.
            self.commit_term_bound[e.index] = max(c.term for c in self.cluster.nodes.values())
        elif seen != record:
            self.fail(f"{node_id} applied {record} at {e.index}, another node applied {seen}")

    def check_roles(self) -> None:
        for node_id, core in self.cluster.nodes.items():
            if core.role is not Role.LEADER:
                continue
            known = self.leader_of_term.setdefault(core.term, node_id)
            if known != node_id:
                self.fail(f"two leaders in term {core.term}: {known} and {node_id}")
            if (core.term, node_id) not in self.checked_leaders:
                self.checked_leaders.add((core.term, node_id))
                self.check_leader_completeness(node_id, core)

    def check_leader_completeness(self, node_id: str, core: RaftCore) -> None:
        """Raft §5.4.1: a leader holds every entry committed in an earlier term."""
        log = core._node.log
        for index, (term, _type, _data) in self.applied.items():
            if self.commit_term_bound[index] >= core.term or index <= log.snapshot_index:
                continue
            if log.term(index) != term:
                self.fail(f"leader {node_id} of term {core.term} lacks committed entry {index}")


def _params(rng: random.Random) -> RaftParams:
    return RaftParams(
        election_ticks=rng.choice([5, 10]),
        heartbeat_ticks=rng.choice([1, 2]),
        max_msg_bytes=rng.choice([64, 1 << 20]),
        max_inflight=rng.choice([1, 4, 64]),
        snapshot_chunk_bytes=rng.choice([16, 1 << 16]),
        pre_vote=rng.random() < 0.8,
        check_quorum=rng.random() < 0.8,
    )


def _deliver_some(c: Cluster, rng: random.Random) -> None:
    """Deliver most queued messages: some dropped, duplicated, delayed or reordered."""
    msgs, c.network = c.network, []
    if rng.random() < 0.3:
        rng.shuffle(msgs)
    for m in msgs:
        roll = rng.random()
        if roll < 0.1:
            continue  # dropped
        if roll < 0.25:
            c.network.append(m)  # delayed past later messages
            continue
        if roll < 0.3:
            c.network.append(m)  # duplicated
        c.deliver(m)


def _client_action(c: Cluster, rng: random.Random, ids: list[str], counter: list[int]) -> None:
    leaders = c.leaders()
    node_id = leaders[-1] if leaders and rng.random() < 0.9 else rng.choice(ids)
    core = c.nodes[node_id]
    roll = rng.random()
    try:
        if roll < 0.7:
            counter[0] += 1
            core.propose(b"c%d" % counter[0])
        elif roll < 0.8:
            applied = c.machines[node_id].applied_index
            if core.snapshot_index < applied <= core.applied_index:
                core.compact(applied, c.machines[node_id].snapshot())
        elif roll < 0.9:
            other = rng.choice(ids)
            kind = rng.choice(list(ConfChangeType))
            core.propose_conf_change(ConfChange(kind, other))
        elif roll < 0.95:
            core.transfer_leadership(rng.choice(ids))
        else:
            core.read_index(b"r%d" % counter[0])
    except RaftError:
        pass


def _step(c: Cluster, rng: random.Random, ids: list[str], counter: list[int]) -> None:
    roll = rng.random()
    if roll < 0.25:
        c.tick_all()
    elif roll < 0.35:
        c.tick(rng.choice(ids))
    elif roll < 0.75:
        _client_action(c, rng, ids, counter)
    elif roll < 0.80:
        c.isolated = {rng.choice(ids)} if rng.random() < 0.6 else set()
    elif roll < 0.82:
        c.restart(rng.choice(ids))  # loses whatever was not persisted
    for node_id in ids:
        if rng.random() < 0.8:
            c.process_ready(node_id)
    _deliver_some(c, rng)


def _current_leader(c: Cluster) -> str | None:
    """The leader of the highest term. A removed node can stay a stale leader forever without
    check-quorum (nobody writes to it any more), as in etcd-io/raft; it does not count."""
    leaders = sorted(c.leaders(), key=lambda i: c.nodes[i].term)
    return leaders[-1] if leaders else None


def _liveness(c: Cluster, checker: Checker, seed: int) -> None:
    """Without faults, a leader emerges and a new entry reaches every member."""
    c.isolated = set()
    proposed: tuple[str, int] | None = None
    for _ in range(400):
        c.tick_all()
        c.stabilize()
        checker.check_roles()
        leader = _current_leader(c)
        if proposed is not None and leader != proposed[0]:
            proposed = None  # leadership changed: the proposal may be lost, propose again
        if proposed is None and leader is not None:
            try:
                proposed = (leader, c.nodes[leader].propose(b"final")[0])
            except RaftError:
                continue  # e.g. a leadership transfer is still in progress
        if proposed is not None:
            members = c.nodes[proposed[0]].conf.members
            if all(c.machines[i].applied_index >= proposed[1] for i in members):
                return
    raise AssertionError(f"SEED={seed}: no progress after healing: {proposed}, {c.leaders()}")


def run(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice([3, 3, 4, 5])
    ids = [str(i) for i in range(1, n + 1)]
    c = Cluster(ids, params=_params(rng), seed=seed)
    checker = Checker(c, seed)
    counter = [0]
    for _ in range(STEPS):
        _step(c, rng, ids, counter)
        checker.check_roles()
    _liveness(c, checker, seed)


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed_{s}") for s in range(SEEDS)])
def test_random_schedule(seed: int) -> None:
    run(seed)
