"""One simulated Raft node: a `RaftCore` over `RaftStorage` over a `SimStore`, plus an app.

The node carries out each `Ready` exactly as its docstring orders: persist (one batch, synced
iff `must_sync`) → send → restore snapshot / apply committed entries / hand over read states →
`core.advance`. The app (a recording apply list for the Raft tests, a KV server for the KV
tests) sees only committed entries, snapshots and read states, in that order.

Crash model: `crash()` drops the core and the app (all volatile state) and calls
`SimStore.crash`, which loses the writes not followed by a synced write (or keeps a random
prefix of them: a torn tail). `restart()` loads what the disk kept, restores the app from the
persisted snapshot, and builds a new core; the core then hands out the committed entries after
the snapshot again. The `SimStore` object survives: it is the disk.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from common.raft.core import RaftCore
from common.raft.params import RaftParams
from common.raft.storage import RaftStorage
from common.raft.types import ConfState, Entry, Message, ReadState, Ready, Role, Snapshot
from common.store import SimStore

__all__ = ["App", "NodeObserver", "SimNode", "raft_state_size", "snapshot_size"]

RAFT_PREFIX = b"raft/"  # RaftStorage's default key prefix (layout in common.raft.storage)
_SNAP_PREFIX = RAFT_PREFIX + b"snap/"  # snapshot meta and data: not part of the "Raft state"
_LOG_PREFIX = RAFT_PREFIX + b"log/"
_HS_KEY = RAFT_PREFIX + b"hs"


class App(Protocol):
    """The application side of one node incarnation (built anew at every restart).

    `receive` takes client frames; the cluster drains the node's Ready after them."""

    def receive(self, src: str, body: bytes) -> None: ...

    def restore(self, snapshot: Snapshot) -> None: ...

    def apply(self, entry: Entry) -> None: ...

    def read_states(self, states: tuple[ReadState, ...]) -> None: ...

    def after_advance(self, node: SimNode) -> None: ...

    def snapshot_due(self, node: SimNode) -> bytes | None: ...


class NodeObserver(Protocol):
    """The safety checkers' view of every node: called synchronously as things happen."""

    def on_leader(self, node_id: str, term: int) -> None: ...

    def on_restore(self, node_id: str, snapshot: Snapshot | None) -> None: ...

    def on_apply(self, node_id: str, entry: Entry) -> None: ...


def raft_state_size(store: SimStore) -> int:
    """Bytes of persisted Raft state (hard state + log), excluding the snapshot: 6.824's
    `RaftStateSize()`. Counts keys and values as stored."""
    size = 0
    for key, value in store.iterate(prefix=RAFT_PREFIX):
        if not key.startswith(_SNAP_PREFIX):
            size += len(key) + len(value)
    return size


def snapshot_size(store: SimStore) -> int:
    """Bytes of the persisted snapshot image (0 without one): 6.824's `SnapshotSize()`."""
    data = store.get(_SNAP_PREFIX + b"data")
    return 0 if data is None else len(data)


class SimNode:
    """A node of the simulated cluster; `core` and `app` are None while it is crashed."""

    def __init__(
        self,
        node_id: str,
        params: RaftParams,
        bootstrap: ConfState | None,
        rng: random.Random,
        send: Callable[[Message], None],
        make_app: Callable[[SimNode], App],
        observer: NodeObserver,
    ) -> None:
        self.node_id = node_id
        self.params = params
        self.bootstrap = bootstrap
        self.rng = rng
        self.store = SimStore()
        self.storage: RaftStorage | None = None
        self.core: RaftCore | None = None
        self.app: App | None = None
        self.incarnation = 0
        self._log_bytes: int | None = None  # stored log size; None = recount on next use
        self._send = send
        self._make_app = make_app
        self._observer = observer

    @property
    def alive(self) -> bool:
        return self.core is not None

    def start(self) -> None:
        """Boot (or reboot) from what the disk holds."""
        if self.core is not None:
            raise RuntimeError(f"node {self.node_id} is already running")
        self.incarnation += 1
        self._log_bytes = None
        self.storage = RaftStorage(self.store, prefix=RAFT_PREFIX)
        state = self.storage.load(self.bootstrap)
        self.app = self._make_app(self)
        self._observer.on_restore(self.node_id, state.snapshot)
        if state.snapshot is not None:
            self.app.restore(state.snapshot)
        node_rng = random.Random(self.rng.getrandbits(64))
        self.core = RaftCore(self.node_id, self.params, state, node_rng)
        self.drain()

    def crash(self, torn_tail_rng: random.Random | None = None) -> int:
        """Power loss: drop volatile state; returns how many unsynced writes were lost."""
        self.core = None
        self.app = None
        self.storage = None
        return self.store.crash(torn_tail_rng)

    def raft_state_bytes(self) -> int:
        """`raft_state_size(self.store)`, recounting the log only after a Ready changed it."""
        if self._log_bytes is None:
            self._log_bytes = sum(
                len(k) + len(v) for k, v in self.store.iterate(prefix=_LOG_PREFIX)
            )
        hard_state = self.store.get(_HS_KEY)
        return self._log_bytes + (0 if hard_state is None else len(_HS_KEY) + len(hard_state))

    # -- inputs -------------------------------------------------------------------------------

    def tick(self) -> None:
        core = self.core
        if core is not None:
            core.tick()
            self.drain()

    def drain(self) -> None:
        """Carry out every pending Ready, then let the app take a snapshot if it wants one."""
        core = self.core
        while core is not None:
            while core.has_ready():
                self._handle_ready(core, core.ready())
            app = self.app
            data = app.snapshot_due(self) if app is not None else None
            if data is None:
                return
            core.compact(core.applied_index, data)

    def _handle_ready(self, core: RaftCore, ready: Ready) -> None:
        storage, app = self.storage, self.app
        assert storage is not None and app is not None
        storage.save(ready)  # 1. persist, one batch, synced iff must_sync
        if ready.entries or ready.compacted_through or ready.snapshot is not None:
            self._log_bytes = None
        for msg in ready.messages:  # 2. only then send
            self._send(msg)
        observer = self._observer
        if ready.snapshot is not None:  # 3. restore, apply, read states
            observer.on_restore(self.node_id, ready.snapshot)
            app.restore(ready.snapshot)
        for entry in ready.committed_entries:
            observer.on_apply(self.node_id, entry)
            app.apply(entry)
        if ready.read_states:
            app.read_states(ready.read_states)
        core.advance(ready)  # 4.
        if core.role == Role.LEADER:
            observer.on_leader(self.node_id, core.term)
        app.after_advance(self)
