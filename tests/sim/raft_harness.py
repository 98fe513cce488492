"""The 6.824 Raft tester (`config.go`) on the simulated cluster, in simulated time.

`ApplyLog` is 6.824's `applier` / `applierSnap`: it records every node's applied commands, fails
if two nodes apply different commands at one index, and (with snapshots) takes an application
snapshot every `SNAPSHOT_INTERVAL` applied entries, whose image is the applied log itself, so a
restored node's view can be checked against the others (`ingestSnap`).

`RaftHarness` ports the helpers with their semantics: `one`, `n_committed`, `wait`,
`check_one_leader`, `check_terms`, `check_no_leader`, `crash1`, `start1`, `connect`,
`disconnect`, `rpc_count`, `bytes_total`, `log_size`. Servers are numbered 0..n-1 as in Go and
named "s0".."s{n-1}" on the network. Commands are ints or strings, carried as their decimal /
UTF-8 bytes. Where real time passed in Go (`time.Sleep`) the simulated clock advances here.

Our core appends a NOOP entry when a leader takes office (Raft §8), which Go's solutions do
not; a log index therefore counts NOOPs too. `ApplyLog` records NOOP and membership entries as
`None`, and the tests state index expectations relative to the previous command.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any, NoReturn

import msgpack

from common.raft.errors import NotLeader, ProposalDropped
from common.raft.storage import RaftStorage
from common.raft.types import Entry, EntryType, ReadState, Role, Snapshot
from tests.sim.checkers import SafetyViolation
from tests.sim.cluster import RELIABLE, UNRELIABLE, SimCluster
from tests.sim.loop import TIMEOUT
from tests.sim.node import SimNode, raft_state_size

__all__ = ["MAX_LOG_SIZE", "SNAPSHOT_INTERVAL", "ApplyLog", "RaftHarness", "cmd_bytes"]

ELECTION_TIMEOUT_MS = 1000  # 6.824's RaftElectionTimeout
SNAPSHOT_INTERVAL = 10  # 6.824's SnapShotInterval: applied entries between snapshots
MAX_LOG_SIZE = 2000  # 6.824's MAXLOGSIZE: bound on persisted Raft state with snapshots

Cmd = int | str


def cmd_bytes(cmd: Cmd) -> bytes:
    return str(cmd).encode()


class ApplyLog:
    """The app of a node in the Raft tests: 6.824's applier (and applierSnap)."""

    def __init__(self, harness: RaftHarness, server: int, snapshots: bool) -> None:
        self.harness = harness
        self.server = server
        self.snapshots = snapshots
        self.last_applied = 0
        self.last_snapshot = 0
        harness.logs[server] = {}

    def restore(self, snapshot: Snapshot) -> None:
        """6.824's ingestSnap: the image is (lastIncludedIndex, the applied log)."""
        last_index, rows = msgpack.unpackb(snapshot.data)
        if last_index != snapshot.meta.index:
            raise SafetyViolation(
                "snapshot-index",
                {"server": self.server, "image": last_index, "meta": snapshot.meta.index},
            )
        log: dict[int, bytes | None] = {int(i): v for i, v in rows}
        applied = self.harness.cluster.checker.applied
        for index, value in log.items():
            known = applied.get(index)
            if known is not None and _value(known[1], known[2]) != value:
                raise SafetyViolation(
                    "snapshot-content",
                    {"server": self.server, "index": index, "image": value, "applied": known},
                )
        self.harness.logs[self.server] = log
        self.last_applied = self.last_snapshot = last_index

    def apply(self, entry: Entry) -> None:
        if entry.index != self.last_applied + 1:
            raise SafetyViolation(
                "apply-order",
                {"server": self.server, "expected": self.last_applied + 1, "got": entry.index},
            )
        value = _value(entry.type, entry.data)
        logs = self.harness.logs
        for other, log in enumerate(logs):
            old = log.get(entry.index, value)
            if old != value:
                raise SafetyViolation(
                    "apply-agreement",
                    {
                        "index": entry.index,
                        "server": self.server,
                        "value": value,
                        "other_server": other,
                        "other_value": old,
                    },
                )
        logs[self.server][entry.index] = value
        self.last_applied = entry.index
        self.harness.max_index = max(self.harness.max_index, entry.index)

    def receive(self, src: str, body: bytes) -> None:
        """The Raft tests have no clients on the network."""

    def read_states(self, states: tuple[ReadState, ...]) -> None:
        """The Raft tests issue no reads."""

    def after_advance(self, node: SimNode) -> None:
        """Nothing waits on this app."""

    def snapshot_due(self, node: SimNode) -> bytes | None:
        if not self.snapshots or self.last_applied - self.last_snapshot < SNAPSHOT_INTERVAL:
            return None
        core = node.core
        if core is None or core.applied_index != self.last_applied:
            return None
        log = self.harness.logs[self.server]
        rows = [[i, log.get(i)] for i in range(1, self.last_applied + 1)]
        self.last_snapshot = self.last_applied
        return bytes(msgpack.packb([self.last_applied, rows]))


def _value(kind: EntryType, data: bytes) -> bytes | None:
    return data if kind == EntryType.NORMAL else None


class RaftHarness:
    """6.824's `config` for `n` servers; `seed` determines the whole run."""

    def __init__(self, n: int, seed: int, *, unreliable: bool = False, snapshots: bool = False):
        self.n = n
        self.seed = seed
        self.rand = random.Random(seed ^ 0x6824)  # the test's own rand.Int()
        self.logs: list[dict[int, bytes | None]] = [{} for _ in range(n)]
        self.connected = [True] * n
        self.max_index = 0
        self.ids = [f"s{i}" for i in range(n)]
        self.cluster = SimCluster(
            seed,
            self.ids,
            lambda node: ApplyLog(self, self.ids.index(node.node_id), snapshots),
            faults=UNRELIABLE if unreliable else RELIABLE,
        )
        self.loop = self.cluster.loop

    # -- plumbing -----------------------------------------------------------------------------

    def fail(self, message: str) -> NoReturn:
        raise AssertionError(f"SEED={self.seed}: {message}")

    def sleep(self, ms: int) -> None:
        self.cluster.run_for(ms)

    def rand_int(self) -> int:
        return self.rand.getrandbits(62)

    def set_unreliable(self, unreliable: bool) -> None:
        self.cluster.set_faults(UNRELIABLE if unreliable else RELIABLE)

    def alive(self, i: int) -> bool:
        return self.cluster.nodes[self.ids[i]].core is not None

    def start(self, i: int, cmd: Cmd) -> tuple[int, int, bool]:
        """Raft.Start(cmd) on server i: (index, term, is_leader)."""
        node = self.cluster.nodes[self.ids[i]]
        core = node.core
        if core is None:
            return -1, -1, False
        try:
            index, term = core.propose(cmd_bytes(cmd))
        except (NotLeader, ProposalDropped):
            return -1, core.term, False
        node.drain()
        return index, term, True

    def get_state(self, i: int) -> tuple[int, bool]:
        core = self.cluster.nodes[self.ids[i]].core
        if core is None:
            return -1, False
        return core.term, core.role == Role.LEADER

    # -- servers and network ------------------------------------------------------------------

    def connect(self, i: int) -> None:
        self.connected[i] = True
        self.cluster.connect(self.ids[i])

    def disconnect(self, i: int) -> None:
        self.connected[i] = False
        self.cluster.disconnect(self.ids[i])

    def crash1(self, i: int) -> None:
        """Shut server i down; its disk keeps what it had synced."""
        self.disconnect(i)
        self.cluster.crash(self.ids[i])

    def start1(self, i: int) -> None:
        """(Re)start server i from its disk; like Go, it stays disconnected until connect(i)."""
        self.crash1(i)
        self.logs[i] = {}
        self.cluster.start(self.ids[i])

    def rpc_count(self, i: int) -> int:
        """RPCs server i started: its Raft requests (a reply is part of its RPC, as in Go)."""
        return self.cluster.raft_requests_by_node[self.ids[i]]

    def bytes_total(self) -> int:
        return int(self.cluster.net.bytes_sent)

    def log_size(self) -> int:
        """The largest persisted Raft state (log + hard state, no snapshot) of any server."""
        return max(raft_state_size(node.store) for node in self.cluster.nodes.values())

    def stored_log(self, i: int) -> tuple[Entry, ...]:
        """Server i's log as its disk holds it (what a restart would load)."""
        return RaftStorage(self.cluster.nodes[self.ids[i]].store).load(None).entries

    def command_position(self, i: int, index: int) -> int:
        """How many commands server i's log holds up to `index`: Go's index of that entry."""
        log = self.stored_log(i)
        if not log or log[0].index != 1:
            self.fail(f"server {i}'s log does not start at index 1 (compacted?)")
        return sum(1 for e in log if e.index <= index and e.type == EntryType.NORMAL)

    def command_number(self, index: int) -> int:
        """Go's index of the applied entry at raft `index`: commands at or before it."""
        for log in self.logs:
            if all(i in log for i in range(1, index + 1)):
                return sum(1 for i in range(1, index + 1) if log[i] is not None)
        self.fail(f"no server has applied every index up to {index}")
        return -1

    def n_committed_command(self, k: int) -> int:
        """How many servers have applied at least `k` commands (Go's nCommitted(k) > 0)."""
        return sum(1 for log in self.logs if sum(v is not None for v in log.values()) >= k)

    # -- 6.824 checks -------------------------------------------------------------------------

    def check_one_leader(self) -> int:
        for _ in range(10):
            self.sleep(450 + self.rand.randrange(100))
            leaders: dict[int, list[int]] = {}
            for i in range(self.n):
                if self.connected[i]:
                    term, is_leader = self.get_state(i)
                    if is_leader:
                        leaders.setdefault(term, []).append(i)
            for term, who in leaders.items():
                if len(who) > 1:
                    self.fail(f"term {term} has {len(who)} (>1) leaders: {who}")
            if leaders:
                return leaders[max(leaders)][0]
        self.fail("expected one leader, got none")
        return -1

    def check_terms(self) -> int:
        term = -1
        for i in range(self.n):
            if self.connected[i]:
                xterm, _ = self.get_state(i)
                if term == -1:
                    term = xterm
                elif term != xterm:
                    self.fail(f"servers disagree on term: {term} vs {xterm} (server {i})")
        return term

    def check_no_leader(self) -> None:
        for i in range(self.n):
            if self.connected[i] and self.get_state(i)[1]:
                self.fail(f"expected no leader among connected servers, but {i} claims to be")

    def n_committed(self, index: int) -> tuple[int, bytes | None]:
        """How many servers have applied `index`, and what (all must agree)."""
        count, cmd = 0, None
        for log in self.logs:
            if index in log:
                cmd1 = log[index]
                if count > 0 and cmd != cmd1:
                    self.fail(f"committed values do not match: index {index}, {cmd!r}, {cmd1!r}")
                count += 1
                cmd = cmd1
        return count, cmd

    def wait_proc(self, index: int, n: int, start_term: int) -> Generator[Any, Any, Any]:
        """Wait for >= n servers to apply `index`; -1 if some term passes `start_term`."""
        to = 10
        for _ in range(30):
            nd, _ = self.n_committed(index)
            if nd >= n:
                break
            yield to
            if to < 1000:
                to *= 2
            if start_term > -1:
                for i in range(self.n):
                    if self.get_state(i)[0] > start_term:
                        return -1
        nd, cmd = self.n_committed(index)
        if nd < n:
            self.fail(f"only {nd} decided for index {index}; wanted {n}")
        return cmd

    def wait(self, index: int, n: int, start_term: int) -> bytes | int | None:
        return self._run(self.wait_proc(index, n, start_term))

    def one_proc(self, cmd: Cmd, expected: int, retry: bool) -> Generator[Any, Any, int]:
        """A complete agreement on `cmd` by >= `expected` servers; returns its index."""
        data = cmd_bytes(cmd)
        t0 = self.loop.now
        starts = 0
        while self.loop.now - t0 < 10_000:
            index = -1
            for _ in range(self.n):
                starts = (starts + 1) % self.n
                if self.connected[starts]:
                    index1, _, ok = self.start(starts, cmd)
                    if ok:
                        index = index1
                        break
            if index != -1:
                t1 = self.loop.now
                while self.loop.now - t1 < 2000:
                    nd, cmd1 = self.n_committed(index)
                    if nd > 0 and nd >= expected and cmd1 == data:
                        return index
                    yield 20
                if not retry:
                    self.fail(f"one({cmd!r}) failed to reach agreement")
            else:
                yield 50
        self.fail(f"one({cmd!r}) failed to reach agreement")
        return -1

    def one(self, cmd: Cmd, expected: int, retry: bool) -> int:
        index: int = self._run(self.one_proc(cmd, expected, retry))
        return index

    def _run(self, proc: Generator[Any, Any, Any]) -> Any:
        result = self.loop.run_process(proc, 3_600_000)
        if result is TIMEOUT:
            self.fail("a helper did not finish within a simulated hour")
        return result
