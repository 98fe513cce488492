"""The 6.824 kvraft tester (`config.go` + `GenericTest`) on the simulated cluster.

Servers are numbered 0..n-1 ("s0".."s{n-1}"), clerks "c0", "c1", ... A test body is straight
code that advances the simulated clock (`sleep`, `run`); concurrent clients and the
partitioner are generator processes on the same loop. Every clerk operation goes into one
`History`, checked for linearizability and acknowledged writes by `finish()`, together with the
cluster-wide safety checks (one leader per term, agreeing applies, Log Matching on disk).
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any, NoReturn

from tests.sim.checkers import (
    check_acked_writes,
    check_committed_prefixes,
    check_linearizable,
)
from tests.sim.cluster import RELIABLE, UNRELIABLE, SimCluster
from tests.sim.kv_clerk import Clerk, History
from tests.sim.kv_service import READ_LOG, KvServer
from tests.sim.loop import TIMEOUT, Future
from tests.sim.node import SimNode, raft_state_size, snapshot_size

__all__ = ["ELECTION_TIMEOUT_MS", "KvHarness", "check_clnt_appends", "check_concurrent_appends"]

ELECTION_TIMEOUT_MS = 1000  # 6.824's electionTimeout
WAIT_LIMIT_MS = 120_000  # a clerk operation still pending after this long fails the test


def check_clnt_appends(fail: Any, clnt: int, v: bytes, count: int) -> None:
    """All `count` appends of client `clnt` are in `v`, once each, in order."""
    lastoff = -1
    for j in range(count):
        wanted = f"x {clnt} {j} y".encode()
        off = v.find(wanted)
        if off < 0:
            fail(f"{clnt} missing element {wanted!r} in Append result {v!r}")
        if v.rfind(wanted) != off:
            fail(f"duplicate element {wanted!r} in Append result")
        if off <= lastoff:
            fail(f"wrong order for element {wanted!r} in Append result")
        lastoff = off


def check_concurrent_appends(fail: Any, v: bytes, counts: list[int]) -> None:
    for i, count in enumerate(counts):
        check_clnt_appends(fail, i, v, count)


class KvHarness:
    """6.824's kvraft `config` for `n` servers; `seed` determines the whole run."""

    def __init__(
        self,
        n: int,
        seed: int,
        *,
        unreliable: bool = False,
        maxraftstate: int = -1,
        read_mode: int = READ_LOG,
    ) -> None:
        self.n = n
        self.seed = seed
        self.rand = random.Random(seed ^ 0x4B56)
        self.maxraftstate = maxraftstate
        self.read_mode = read_mode
        self.ids = [f"s{i}" for i in range(n)]
        self.history = History()
        self.clerks: list[Clerk] = []
        self.cluster = SimCluster(
            seed, self.ids, self._make_server, faults=UNRELIABLE if unreliable else RELIABLE
        )
        self.loop = self.cluster.loop

    def _make_server(self, node: SimNode) -> KvServer:
        return KvServer(node, lambda s, d, b: self.cluster.send_client(s, d, b), self.maxraftstate)

    # -- plumbing -----------------------------------------------------------------------------

    def fail(self, message: str) -> NoReturn:
        raise AssertionError(f"SEED={self.seed}: {message}")

    def sleep(self, ms: int) -> None:
        self.cluster.run_for(ms)

    def spawn(self, proc: Generator[Any, Any, Any]) -> Future:
        return self.loop.spawn(proc)

    def run(self, proc: Generator[Any, Any, Any], limit_ms: int = WAIT_LIMIT_MS) -> Any:
        """Run one clerk operation (or any process) to completion, within `limit_ms`."""
        result = self.loop.run_process(proc, limit_ms)
        if result is TIMEOUT:
            self.fail(f"operation did not complete within {limit_ms} simulated ms")
        return result

    def wait_all(self, futures: list[Future], limit_ms: int = WAIT_LIMIT_MS) -> None:
        if not self.cluster.run_for(limit_ms, lambda: all(f.done for f in futures)):
            pending = sum(not f.done for f in futures)
            self.fail(f"{pending} client(s) did not finish within {limit_ms} simulated ms")

    # -- clerks -------------------------------------------------------------------------------

    def make_client(self, servers: list[int], history: History | None = None) -> Clerk:
        """A clerk that reaches `servers`, recording into `history` (default: the test's)."""
        clerk = Clerk(
            self.cluster,
            f"c{len(self.clerks)}",
            [self.ids[i] for i in servers],
            self.history if history is None else history,
            read_mode=self.read_mode,
        )
        self.clerks.append(clerk)
        return clerk

    def connect_client(self, clerk: Clerk, servers: list[int]) -> None:
        clerk.servers = [self.ids[i] for i in servers]

    def all(self) -> list[int]:
        return list(range(self.n))

    def get(self, clerk: Clerk, key: str) -> bytes:
        value: bytes = self.run(clerk.get(key))
        return value

    def put(self, clerk: Clerk, key: str, value: bytes) -> None:
        self.run(clerk.put(key, value))

    def append(self, clerk: Clerk, key: str, value: bytes) -> None:
        self.run(clerk.append(key, value))

    def check(self, clerk: Clerk, key: str, value: bytes) -> None:
        v = self.get(clerk, key)
        if v != value:
            self.fail(f"Get({key!r}): expected:\n{value!r}\nreceived:\n{v!r}")

    # -- servers and network ------------------------------------------------------------------

    def partition(self, p1: list[int], p2: list[int]) -> None:
        self.cluster.partition([[self.ids[i] for i in p1], [self.ids[i] for i in p2]])

    def connect_all(self) -> None:
        self.cluster.heal()

    def shutdown_server(self, i: int) -> None:
        self.cluster.crash(self.ids[i])

    def start_server(self, i: int) -> None:
        self.cluster.start(self.ids[i])

    def leader(self) -> int | None:
        for i, node_id in enumerate(self.ids):
            if self.cluster.nodes[node_id] in self.cluster.leaders():
                return i
        return None

    def make_partition(self) -> tuple[list[int], list[int]]:
        """6.824: a majority without the leader, and a minority that holds the leader."""
        leader = self.leader()
        if leader is None:
            self.fail("make_partition: no leader")
            return [], []
        others = [i for i in range(self.n) if i != leader]
        size1 = self.n // 2 + 1
        return others[:size1], [*others[size1:], leader]

    def log_size(self) -> int:
        return max(raft_state_size(node.store) for node in self.cluster.nodes.values())

    def snapshot_size(self) -> int:
        return max(snapshot_size(node.store) for node in self.cluster.nodes.values())

    # -- the end of every test ----------------------------------------------------------------

    def finish(self) -> None:
        """Safety checks over the whole run: disk logs, acknowledged writes, linearizability."""
        checker = self.cluster.checker
        for node in self.cluster.live():  # the snapshot trigger's cached size is exact
            assert node.raft_state_bytes() == raft_state_size(node.store), node.node_id
        check_committed_prefixes(checker, {i: n.store for i, n in self.cluster.nodes.items()})
        check_acked_writes(checker, self.history.acked)
        check_linearizable(self.history.operations())
