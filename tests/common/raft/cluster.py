"""A deterministic in-process cluster of RaftCores for tests.

Each node has an in-memory model of stable storage that carries out Ready step 1 literally,
and a state machine that records the entries it applied (so tests can check that applied
entries never change). Messages go into one FIFO network queue; tests deliver, drop, isolate
or reorder them explicitly. Nothing depends on wall-clock time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import msgpack

from common.raft.core import RaftCore
from common.raft.params import RaftParams
from common.raft.types import (
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    PersistentState,
    Ready,
    Role,
    Snapshot,
)


class MinRandom:
    """A RandomSource that always returns the minimum: election timeout == election_ticks."""

    def randrange(self, start: int, stop: int) -> int:
        return start


@dataclass
class MemoryStorage:
    """Stable storage as the Ready contract describes it."""

    conf: ConfState | None
    hard_state: HardState = field(default_factory=HardState)
    snapshot: Snapshot | None = None
    entries: list[Entry] = field(default_factory=list)

    def save(self, rd: Ready) -> None:
        if rd.snapshot is not None:
            self.snapshot = rd.snapshot
            self.entries = []  # an installed snapshot replaces the whole log
        if rd.local_snapshot is not None:
            self.snapshot = rd.local_snapshot
        if rd.hard_state is not None:
            self.hard_state = rd.hard_state
        if rd.entries:
            first = rd.entries[0].index
            self.entries = [e for e in self.entries if e.index < first] + list(rd.entries)
        if rd.compacted_through:
            self.entries = [e for e in self.entries if e.index > rd.compacted_through]

    def load(self) -> PersistentState:
        return PersistentState(self.hard_state, self.snapshot, tuple(self.entries), self.conf)


@dataclass
class StateMachine:
    """Applied NORMAL entries by index; snapshots are msgpack of that map."""

    applied: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    applied_index: int = 0

    def apply(self, e: Entry) -> None:
        if e.type is EntryType.NORMAL:
            self.applied[e.index] = (e.term, e.data)
        self.applied_index = e.index

    def snapshot(self) -> bytes:
        items = sorted((i, t, d) for i, (t, d) in self.applied.items())
        return msgpack.packb([self.applied_index, items], use_bin_type=True)

    def restore(self, data: bytes) -> None:
        index, items = msgpack.unpackb(data, raw=False)
        self.applied = {i: (t, d) for i, t, d in items}
        self.applied_index = index


Observer = Callable[[str, Ready], None]


class Cluster:
    def __init__(
        self,
        voters: Iterable[str],
        learners: Iterable[str] = (),
        *,
        params: RaftParams | None = None,
        seed: int | None = None,
    ) -> None:
        self.params = params or RaftParams(election_ticks=10, heartbeat_ticks=1)
        self.seed = seed
        self.bootstrap = ConfState(frozenset(voters), frozenset(learners))
        self.nodes: dict[str, RaftCore] = {}
        self.storage: dict[str, MemoryStorage] = {}
        self.machines: dict[str, StateMachine] = {}
        self.network: list[Message] = []
        self.isolated: set[str] = set()
        self.down: set[str] = set()
        self.sent = 0
        self.observers: list[Observer] = []
        for node_id in sorted(self.bootstrap.members):
            self.add_node(node_id, self.bootstrap)

    def _rng(self, node_id: str) -> random.Random | MinRandom:
        if self.seed is None:
            return MinRandom()
        return random.Random(f"{self.seed}/{node_id}")

    def add_node(
        self, node_id: str, conf: ConfState | None, state: PersistentState | None = None
    ) -> RaftCore:
        storage = MemoryStorage(conf)
        if state is not None:
            storage.hard_state = state.hard_state
            storage.snapshot = state.snapshot
            storage.entries = list(state.entries)
        self.storage[node_id] = storage
        self.machines[node_id] = StateMachine()
        self.nodes[node_id] = RaftCore(node_id, self.params, storage.load(), self._rng(node_id))
        return self.nodes[node_id]

    def restart(self, node_id: str) -> RaftCore:
        """Crash (losing everything not persisted) and start again from storage."""
        storage = self.storage[node_id]
        machine = StateMachine()
        if storage.snapshot is not None:
            machine.restore(storage.snapshot.data)
        self.machines[node_id] = machine
        self.nodes[node_id] = RaftCore(node_id, self.params, storage.load(), self._rng(node_id))
        return self.nodes[node_id]

    # --- moving things along ------------------------------------------------------------------

    def process_ready(self, node_id: str) -> Ready | None:
        core = self.nodes[node_id]
        if node_id in self.down or not core.has_ready():
            return None
        rd = core.ready()
        for observer in self.observers:
            observer(node_id, rd)
        self.storage[node_id].save(rd)
        self.sent += len(rd.messages)
        for m in rd.messages:
            if not self.cut(m):
                self.network.append(m)
        machine = self.machines[node_id]
        if rd.snapshot is not None:
            machine.restore(rd.snapshot.data)
        for e in rd.committed_entries:
            machine.apply(e)
        core.advance(rd)
        return rd

    def cut(self, m: Message) -> bool:
        return bool({m.src, m.dst} & (self.isolated | self.down))

    def deliver(self, m: Message) -> None:
        if m.dst in self.nodes and not self.cut(m):
            self.nodes[m.dst].step(m)

    def take(self, pred: Callable[[Message], bool]) -> list[Message]:
        taken = [m for m in self.network if pred(m)]
        self.network = [m for m in self.network if not pred(m)]
        return taken

    def deliver_all(self) -> int:
        msgs, self.network = self.network, []
        for m in msgs:
            self.deliver(m)
        return len(msgs)

    def stabilize(self, max_rounds: int = 1000) -> None:
        for _ in range(max_rounds):
            progressed = False
            for node_id in sorted(self.nodes):
                while self.process_ready(node_id) is not None:
                    progressed = True
            if self.deliver_all():
                progressed = True
            if not progressed:
                return
        raise AssertionError("cluster did not stabilize")

    def tick(self, node_id: str, n: int = 1) -> None:
        for _ in range(n):
            self.nodes[node_id].tick()

    def tick_all(self, n: int = 1) -> None:
        for _ in range(n):
            for node_id in sorted(self.nodes):
                if node_id not in self.down:
                    self.nodes[node_id].tick()

    # --- shortcuts ----------------------------------------------------------------------------

    def elect(self, node_id: str) -> RaftCore:
        self.nodes[node_id].campaign()
        self.stabilize()
        assert self.nodes[node_id].role is Role.LEADER
        return self.nodes[node_id]

    def leaders(self) -> list[str]:
        return [i for i, c in sorted(self.nodes.items()) if c.role is Role.LEADER]

    def propose(self, node_id: str, data: bytes) -> tuple[int, int]:
        result = self.nodes[node_id].propose(data)
        self.stabilize()
        return result

    def log(self, node_id: str) -> list[Entry]:
        return list(self.storage[node_id].entries)

    def applied_data(self, node_id: str) -> list[bytes]:
        machine = self.machines[node_id]
        return [d for _i, (_t, d) in sorted(machine.applied.items())]
