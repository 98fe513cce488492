"""Random fault schedules over a KV cluster: a safety phase, then a liveness phase, per seed.

Safety phase (`FAULT_MS`): clients run a random get/put/append/delete/cas workload on a few
keys (GETs through the log or ReadIndex, per client) while the `Nemesis` injects faults. The
`SafetyChecker` runs continuously (one leader per term, in-order applies, no two different
entries applied at one index). Liveness phase: heal every link, make the network reliable,
restart every server, and require a leader within `LIVENESS_LEADER_MS` and every client's
last operation answered within `LIVENESS_MS`. Then the end checks: disks agree with the applied
history (Log Matching), every acknowledged write is there, the history is linearizable, and
all replicas converge to one state.

`run_seed(seed)` returns a `SeedResult`; a failure names the checker and its evidence and
prints as `SEED=n ...`; `run_seed` with the same arguments replays it exactly.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from common.raft.params import RaftParams
from tests.sim.checkers import (
    SafetyViolation,
    check_acked_writes,
    check_committed_prefixes,
    check_linearizable,
)
from tests.sim.cluster import RELIABLE, SimCluster
from tests.sim.kv_clerk import Clerk, History
from tests.sim.kv_service import READ_INDEX, READ_LOG, KvServer
from tests.sim.loop import TIMEOUT, Future
from tests.sim.node import SimNode
from tests.sim.schedule import Nemesis

__all__ = ["RUNNER_PARAMS", "SeedResult", "run_seed"]

# Faster than 6.824's timing (elections in 300-600 ms, heartbeats every 50 ms), so a few
# simulated seconds hold many elections; the ratio heartbeat : election stays 1 : 6.
RUNNER_PARAMS = RaftParams(election_ticks=30, heartbeat_ticks=5, tick_ms=10)
FAULT_MS = 5000  # safety phase: clients and the nemesis run this long
LIVENESS_LEADER_MS = 10_000  # after healing, a leader within ~15 election timeouts
LIVENESS_MS = 20_000  # ... and every client answered within this
CONVERGE_MS = 5_000  # replicas catch up with the leader's commit index within this
KEYS = ("a", "b", "c", "d")
CLIENTS = 3
SNAPSHOT_BOUNDS = (-1, 1500, 4000)  # maxraftstate choices; -1 = no snapshots


@dataclass(slots=True)
class SeedResult:
    seed: int
    nodes: int
    checker: str = ""  # "" when every check passed
    evidence: str = ""
    sim_ms: int = 0
    messages: int = 0
    operations: int = 0
    nemesis_log: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.checker

    def report(self, tail: int = 15) -> str:
        lines = [f"SEED={self.seed} nodes={self.nodes} FAILED {self.checker}: {self.evidence}"]
        if self.nemesis_log:
            lines.append(f"  last nemesis actions (of {len(self.nemesis_log)}):")
            lines += [f"    t={t} {text}" for t, text in self.nemesis_log[-tail:]]
        lines.append(f"  replay: python -m tests.sim --seed {self.seed} --nodes {self.nodes}")
        return "\n".join(lines)


class _Run:
    """One seed's cluster, workload and nemesis."""

    def __init__(self, seed: int, nodes: int, server: type[KvServer]) -> None:
        self.server = server
        self.rng = random.Random(seed ^ 0x5EED)
        self.maxraftstate = self.rng.choice(SNAPSHOT_BOUNDS)
        self.cluster = SimCluster(
            seed, [f"s{i}" for i in range(nodes)], self.make_app, params=RUNNER_PARAMS
        )
        self.history = History()
        self.stop = False
        self.clerks: list[Clerk] = []
        self.clients: list[Future] = []
        for c in range(CLIENTS):
            mode = self.rng.choice((READ_LOG, READ_INDEX))
            clerk = Clerk(
                self.cluster, f"c{c}", list(self.cluster.node_ids), self.history, read_mode=mode
            )
            self.clerks.append(clerk)
        self.nemesis = Nemesis(self.cluster, self.rng, self.make_app, self.add_server, self.clerks)

    def make_app(self, node: SimNode) -> KvServer:
        return self.server(
            node, lambda s, d, b: self.cluster.send_client(s, d, b), self.maxraftstate
        )

    def add_server(self, node_id: str) -> None:
        for clerk in self.clerks:
            clerk.servers.append(node_id)

    def client(self, clerk: Clerk, rng: random.Random) -> Generator[Any, Any, None]:
        seen: dict[str, bytes | None] = {}
        n = 0
        while not self.stop:
            key = rng.choice(KEYS)
            n += 1
            value = f"{clerk.client_id}.{n};".encode()
            r = rng.random()
            if r < 0.35:
                seen[key] = yield from clerk.read(key)
            elif r < 0.55:
                yield from clerk.append(key, value)
            elif r < 0.75:
                yield from clerk.put(key, value)
            elif r < 0.85:
                yield from clerk.delete(key)
            else:
                yield from clerk.cas(key, seen.get(key), value)
            yield rng.randrange(30)  # think time

    def run(self) -> None:
        loop = self.cluster.loop
        self.clients = [
            loop.spawn(self.client(clerk, random.Random(self.rng.getrandbits(64))))
            for clerk in self.clerks
        ]
        loop.spawn(self.nemesis.run())
        self.cluster.run_for(FAULT_MS)
        self.liveness()
        self.end_checks()

    def liveness(self) -> None:
        cluster = self.cluster
        self.nemesis.stop = True
        self.stop = True
        cluster.heal()
        self.nemesis.unpin_all()
        cluster.set_faults(RELIABLE)
        for node_id in list(cluster.nodes):
            cluster.restart(node_id, torn_tail=True)
        self.nemesis.note("liveness: healed, reliable, every server restarted")
        start = cluster.now
        if not cluster.run_for(LIVENESS_LEADER_MS, lambda: bool(cluster.leaders())):
            raise SafetyViolation("liveness-leader", {"waited_ms": LIVENESS_LEADER_MS})
        if not cluster.run_for(LIVENESS_MS, lambda: all(c.done for c in self.clients)):
            pending = self.history.pending()
            raise SafetyViolation(
                "liveness-clients",
                {"waited_ms": cluster.now - start, "pending": [(p.client, p.op) for p in pending]},
            )
        reader = Clerk(cluster, "final", list(cluster.node_ids), self.history)
        for key in KEYS:  # a fresh reader sees every acknowledged write (lincheck decides)
            if cluster.loop.run_process(reader.read(key), LIVENESS_MS) is TIMEOUT:
                raise SafetyViolation("liveness-final-read", {"key": key})
        self.converge()

    def converge(self) -> None:
        """All members catch up with the leader, and their state machines are identical."""
        cluster = self.cluster

        def caught_up() -> bool:
            leaders = cluster.leaders()
            if not leaders or leaders[0].core is None:
                return False
            core = leaders[0].core
            members = core.conf.members
            nodes = [n for n in cluster.live() if n.node_id in members]
            return all(
                n.core is not None and n.core.applied_index == core.commit_index for n in nodes
            )

        if not cluster.run_for(CONVERGE_MS, caught_up):
            raise SafetyViolation("liveness-converge", {"waited_ms": CONVERGE_MS})
        leader = cluster.leaders()[0]
        assert leader.core is not None
        digests = {
            n.node_id: n.app.sm.digest().hex()[:16]
            for n in cluster.live()
            if n.node_id in leader.core.conf.members and isinstance(n.app, KvServer)
        }
        if len(set(digests.values())) > 1:
            raise SafetyViolation("replica-divergence", {"digests": digests})

    def end_checks(self) -> None:
        checker = self.cluster.checker
        check_committed_prefixes(checker, {i: n.store for i, n in self.cluster.nodes.items()})
        check_acked_writes(checker, self.history.acked)
        check_linearizable(self.history.operations())


def run_seed(seed: int, nodes: int = 3, server: type[KvServer] = KvServer) -> SeedResult:
    """Run one random schedule; never raises for a failed check (see `SeedResult.checker`).

    `server` is the KV server class; tests pass a deliberately broken one to show that the
    checkers catch it."""
    result = SeedResult(seed, nodes)
    run = None
    try:
        run = _Run(seed, nodes, server)
        run.run()
    except SafetyViolation as exc:
        result.checker = exc.checker
        result.evidence = str(exc)
    except AssertionError as exc:
        result.checker = "assertion"
        result.evidence = str(exc)
    except Exception:  # a crash of the code under test is a failure with its traceback
        result.checker = "exception"
        result.evidence = traceback.format_exc()
    if run is not None:
        result.sim_ms = run.cluster.now
        result.messages = int(run.cluster.net.messages_sent)
        result.operations = len(run.history.records)
        result.nemesis_log = run.nemesis.log
    return result
