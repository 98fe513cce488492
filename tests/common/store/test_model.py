"""Model-based test: every Store implementation against a plain dict.

One state machine drives puts, deletes, batches, ordered scans with prefix/start/stop/reverse,
snapshots (later writes must stay invisible to them), iteration interleaved with writes, and
close/reopen. Subclasses plug in MemoryStore, SimStore and LevelStore.
"""

from __future__ import annotations

import shutil
import tempfile

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)

from common.store import (
    LevelStore,
    MemoryStore,
    SimStore,
    Store,
    StoreClosedError,
    StoreSnapshot,
    WriteBatch,
)

# Few distinct bytes, including 0x00 and 0xff, so keys collide, share prefixes and hit the
# edges of prefix ranges.
keys = st.lists(st.sampled_from([0x00, 0x01, 0x61, 0xFF]), max_size=3).map(bytes)
values = st.binary(max_size=4)
bounds = st.none() | keys
batch_ops = st.lists(st.tuples(keys, st.none() | values), max_size=6)

Model = dict[bytes, bytes]
SnapshotEntry = tuple[StoreSnapshot, Model, int]


def expected_scan(
    model: Model, prefix: bytes, start: bytes | None, stop: bytes | None, reverse: bool
) -> list[tuple[bytes, bytes]]:
    """The reference: filter and sort the model, straight from the `iterate` contract."""
    items = [
        (k, v)
        for k, v in model.items()
        if k.startswith(prefix) and (start is None or k >= start) and (stop is None or k < stop)
    ]
    return sorted(items, reverse=reverse)


class StoreMachine(RuleBasedStateMachine):
    """Drives one store and a dict model in lockstep; as is, a MemoryStore.

    Subclasses override `open_store` and `reopened_model` to test another store.
    """

    snapshots = Bundle("snapshots")

    def __init__(self) -> None:
        super().__init__()
        self.model: Model = {}
        self.generation = 0
        self.store: Store = self.open_store()

    def open_store(self) -> Store:
        return MemoryStore()

    def reopened_model(self) -> Model:
        """What the store holds after close and reopen: nothing, for a MemoryStore."""
        return {}

    def after_write(self, sync: bool) -> None:
        """Subclasses track durability here."""

    @rule(key=keys, value=values, sync=st.booleans())
    def put(self, key: bytes, value: bytes, sync: bool) -> None:
        self.store.put(key, value, sync=sync)
        self.model[key] = value
        self.after_write(sync)

    @rule(key=keys, sync=st.booleans())
    def delete(self, key: bytes, sync: bool) -> None:
        self.store.delete(key, sync=sync)
        self.model.pop(key, None)
        self.after_write(sync)

    @rule(ops=batch_ops, sync=st.booleans())
    def write_batch(self, ops: list[tuple[bytes, bytes | None]], sync: bool) -> None:
        batch = WriteBatch()
        for key, value in ops:
            if value is None:
                batch.delete(key)
                self.model.pop(key, None)
            else:
                batch.put(key, value)
                self.model[key] = value
        assert len(batch) == len(ops)
        self.store.write(batch, sync=sync)
        self.after_write(sync)

    @rule(key=keys)
    def get(self, key: bytes) -> None:
        assert self.store.get(key) == self.model.get(key)

    @rule(prefix=keys, start=bounds, stop=bounds, reverse=st.booleans())
    def scan(self, prefix: bytes, start: bytes | None, stop: bytes | None, reverse: bool) -> None:
        got = list(self.store.iterate(prefix=prefix, start=start, stop=stop, reverse=reverse))
        assert got == expected_scan(self.model, prefix, start, stop, reverse)

    @rule(prefix=keys, reverse=st.booleans(), key=keys, value=values)
    def scan_while_writing(self, prefix: bytes, reverse: bool, key: bytes, value: bytes) -> None:
        expected = expected_scan(self.model, prefix, None, None, reverse)
        iterator = self.store.iterate(prefix=prefix, reverse=reverse)
        got = [item for _, item in zip(range(1), iterator, strict=False)]
        self.store.put(key, value)
        self.model[key] = value
        self.after_write(False)
        for existing in list(expected):
            self.store.delete(existing[0])
            self.model.pop(existing[0], None)
        self.after_write(False)
        got.extend(iterator)
        assert got == expected

    @rule(target=snapshots)
    def take_snapshot(self) -> SnapshotEntry:
        return self.store.snapshot(), dict(self.model), self.generation

    @rule(entry=snapshots, key=keys, prefix=keys, reverse=st.booleans())
    def read_snapshot(self, entry: SnapshotEntry, key: bytes, prefix: bytes, reverse: bool) -> None:
        snap, frozen, generation = entry
        if generation != self.generation:
            with pytest.raises(StoreClosedError):
                snap.get(key)
            return
        assert snap.get(key) == frozen.get(key)
        got = list(snap.iterate(prefix=prefix, reverse=reverse))
        assert got == expected_scan(frozen, prefix, None, None, reverse)

    @rule(entry=consumes(snapshots), key=keys)
    def close_snapshot(self, entry: SnapshotEntry, key: bytes) -> None:
        snap = entry[0]
        snap.close()
        snap.close()
        with pytest.raises(StoreClosedError):
            snap.get(key)
        with pytest.raises(StoreClosedError):
            snap.iterate()

    @rule(key=keys)
    def close_and_reopen(self, key: bytes) -> None:
        self.store.close()
        self.store.close()
        with pytest.raises(StoreClosedError):
            self.store.get(key)
        with pytest.raises(StoreClosedError):
            self.store.put(key, b"v")
        with pytest.raises(StoreClosedError):
            self.store.iterate()
        self.model = self.reopened_model()
        self.generation += 1
        self.store = self.open_store()

    @invariant()
    def full_scan_matches(self) -> None:
        assert list(self.store.iterate()) == sorted(self.model.items())

    def teardown(self) -> None:
        self.store.close()


class LevelStoreMachine(StoreMachine):
    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="levelstore-")
        super().__init__()

    def open_store(self) -> Store:
        return LevelStore(f"{self.directory}/db", cache_bytes=1 << 20)

    def reopened_model(self) -> Model:
        return self.model  # sync=False writes survive a clean close

    def teardown(self) -> None:
        super().teardown()
        shutil.rmtree(self.directory)


class SimStoreMachine(StoreMachine):
    """Also checks the durability model: the disk holds the state as of the last synced write."""

    def __init__(self) -> None:
        self.sim = SimStore()
        self.durable: Model = {}
        super().__init__()

    def open_store(self) -> Store:
        return self.sim  # after crash() the same object is the restarted disk

    def after_write(self, sync: bool) -> None:
        if sync:
            self.durable = dict(self.model)

    def reopened_model(self) -> Model:
        unsynced = self.sim.unsynced_writes
        assert self.sim.crash() == unsynced
        assert self.sim.unsynced_writes == 0
        return dict(self.durable)

    @invariant()
    def durable_view_matches(self) -> None:
        assert self.sim.durable_view() == self.durable


PROFILE = settings(max_examples=60, stateful_step_count=30, deadline=None)

TestMemoryStore = StoreMachine.TestCase
TestMemoryStore.settings = PROFILE
TestLevelStore = LevelStoreMachine.TestCase
TestLevelStore.settings = PROFILE
TestSimStore = SimStoreMachine.TestCase
TestSimStore.settings = PROFILE
