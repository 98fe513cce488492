"""The nemesis of the random schedules: one process that injects faults from the run's rng.

Every `gap` ms (random) it picks one action and resolves its target against the cluster as it
is then (who leads, who is down), so a seed fixes the whole schedule:

- `faults`: new drop / duplicate / reorder / delay probabilities on every link;
- `pin`: a clerk may reach only a random subset of the servers (say, a deposed leader's side)
  until the next `heal`;
- `isolate`: cut one server off (peers and clients); `split`: a random majority/minority
  split of the servers; `ring`: Jepsen's majorities ring; `heal`: every link back;
- `crash`: power-fail a server (torn tail of unsynced writes half the time); `restart` one;
- `transfer`: ask the leader to hand leadership to another voter;
- `snapshot`: make a server compact its log at its applied index now;
- `member` (5 servers): one step of remove voter -> add a new machine as learner -> promote.

Each action is logged as `(time, text)`; `--verbose` prints the log, a failure prints its tail.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import Any

from common.net import LinkFaults
from common.raft.errors import RaftError
from common.raft.types import ConfChange, ConfChangeType
from tests.sim.cluster import RELIABLE, SimCluster
from tests.sim.kv_clerk import Clerk
from tests.sim.node import App, SimNode

__all__ = ["Nemesis"]

GAP_MS = (50, 500)  # time between two actions
MAX_DOWN_FRACTION = 0.5  # crash only while more than half of the servers would stay up

_ACTIONS = (
    ("faults", 3),
    ("isolate", 2),
    ("split", 2),
    ("ring", 1),
    ("heal", 3),
    ("pin", 2),
    ("crash", 3),
    ("restart", 3),
    ("transfer", 1),
    ("snapshot", 1),
    ("member", 4),
)


def random_faults(rng: random.Random) -> LinkFaults:
    if rng.random() < 0.3:
        return RELIABLE
    return LinkFaults(
        drop=rng.choice((0.0, 0.05, 0.1, 0.2, 0.3)),
        duplicate=rng.choice((0.0, 0.02, 0.1)),
        reorder=rng.choice((0.0, 0.05, 0.2)),
        delay_min=1,
        delay_max=rng.choice((3, 10, 30)),
        long_delay_max=rng.choice((50, 200, 800)),
    )


class Nemesis:
    """Injects faults into `cluster` until `stop` is set."""

    def __init__(
        self,
        cluster: SimCluster,
        rng: random.Random,
        make_app: Callable[[SimNode], App],
        on_new_server: Callable[[str], None],
        clerks: list[Clerk],
    ) -> None:
        self.cluster = cluster
        self.clerks = clerks
        self.rng = rng
        self.make_app = make_app
        self.on_new_server = on_new_server
        self.stop = False
        self.log: list[tuple[int, str]] = []
        self.member_step = 0  # 0: remove a voter, 1: add a learner, 2: promote it, 3: done
        self.new_server = ""
        names = [name for name, _ in _ACTIONS]
        weights = [w for _, w in _ACTIONS]
        if len(cluster.node_ids) < 5:
            weights[names.index("member")] = 0  # membership changes need 5 servers
        self._names, self._weights = names, weights

    def note(self, text: str) -> None:
        self.log.append((self.cluster.now, text))

    def run(self) -> Generator[Any, Any, None]:
        while not self.stop:
            yield self.rng.randint(*GAP_MS)
            if self.stop:
                return
            action = self.rng.choices(self._names, self._weights)[0]
            getattr(self, f"_do_{action}")()

    # -- actions ------------------------------------------------------------------------------

    def _do_faults(self) -> None:
        faults = random_faults(self.rng)
        self.cluster.set_faults(faults)
        self.note(f"faults {faults}")

    def _do_isolate(self) -> None:
        victim = self.rng.choice(self.cluster.node_ids)
        self.cluster.disconnect(victim)
        self.note(f"isolate {victim}")

    def _do_split(self) -> None:
        ids = list(self.cluster.node_ids)
        self.rng.shuffle(ids)
        cut = len(ids) // 2 + 1
        self.cluster.partition([ids[:cut], ids[cut:]])
        self.note(f"split majority={sorted(ids[:cut])} minority={sorted(ids[cut:])}")

    def _do_ring(self) -> None:
        ring = self.cluster.majorities_ring()
        self.note(f"majorities ring {ring}")

    def _do_heal(self) -> None:
        self.cluster.heal()
        self.unpin_all()
        self.note("heal")

    def _do_pin(self) -> None:
        clerk = self.rng.choice(self.clerks)
        ids = self.cluster.node_ids
        clerk.servers = sorted(self.rng.sample(ids, self.rng.randint(1, len(ids) - 1)))
        clerk.leader = 0
        self.note(f"pin {clerk.client_id} to {clerk.servers}")

    def unpin_all(self) -> None:
        """Every clerk reaches every server again."""
        for clerk in self.clerks:
            clerk.servers = list(self.cluster.node_ids)

    def _do_crash(self) -> None:
        live = self.cluster.live()
        if len(live) - 1 <= len(self.cluster.nodes) * MAX_DOWN_FRACTION:
            return
        victim = self.rng.choice(live).node_id
        torn = self.rng.random() < 0.5
        lost = self.cluster.crash(victim, torn_tail=torn)
        self.note(f"crash {victim} torn_tail={torn} lost_unsynced_writes={lost}")

    def _do_restart(self) -> None:
        down = [n.node_id for n in self.cluster.nodes.values() if n.core is None]
        if down:
            node_id = self.rng.choice(down)
            self.cluster.start(node_id)
            self.note(f"restart {node_id}")

    def _leader(self) -> SimNode | None:
        leaders = self.cluster.leaders()
        return max(leaders, key=lambda n: n.core.term if n.core else -1) if leaders else None

    def _do_transfer(self) -> None:
        leader = self._leader()
        if leader is None or leader.core is None:
            return
        voters = sorted(leader.core.conf.voters - {leader.node_id})
        if not voters:
            return
        target = self.rng.choice(voters)
        try:
            leader.core.transfer_leadership(target)
        except RaftError as exc:
            self.note(f"transfer {leader.node_id} -> {target} refused: {exc}")
            return
        leader.drain()
        self.note(f"transfer {leader.node_id} -> {target}")

    def _do_snapshot(self) -> None:
        node = self.rng.choice(self.cluster.live())
        core, app = node.core, node.app
        snapshot = getattr(app, "sm", None)
        if core is None or snapshot is None or core.applied_index <= core.snapshot_index:
            return
        core.compact(core.applied_index, snapshot.snapshot())
        node.drain()
        self.note(f"snapshot {node.node_id} at {core.applied_index}")

    def _do_member(self) -> None:
        leader = self._leader()
        if leader is None or leader.core is None or self.member_step >= 3:
            return
        conf = leader.core.conf
        if self.member_step == 0:
            victim = self.rng.choice(sorted(conf.voters - {leader.node_id}))
            change = ConfChange(ConfChangeType.REMOVE, victim)
        elif self.member_step == 1:
            self.new_server = self.new_server or f"s{len(self.cluster.node_ids)}"
            if self.new_server not in self.cluster.nodes:
                self.cluster.add_node(self.new_server, self.make_app)
                self.on_new_server(self.new_server)
            change = ConfChange(ConfChangeType.ADD_LEARNER, self.new_server)
        else:
            change = ConfChange(ConfChangeType.PROMOTE, self.new_server)
        try:
            leader.core.propose_conf_change(change)
        except RaftError as exc:
            self.note(f"member {change.type.name} {change.node_id} refused: {exc}")
            return
        leader.drain()
        self.member_step += 1
        self.note(f"member {change.type.name} {change.node_id} via {leader.node_id}")
