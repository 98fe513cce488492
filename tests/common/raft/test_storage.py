"""RaftStorage: every Ready is one atomic batch, and load() gives back what was saved."""

from __future__ import annotations

import random

import pytest

from common.raft import ConfState, CorruptState, Entry, HardState, Ready, Snapshot, SnapshotMeta
from common.raft.storage import RaftStorage
from common.store import MemoryStore, SimStore

CONF = ConfState(voters=frozenset({"a", "b", "c"}))


def entries(first: int, last: int, term: int) -> tuple[Entry, ...]:
    return tuple(Entry(i, term, data=f"{i}@{term}".encode()) for i in range(first, last + 1))


def test_round_trip_hard_state_and_entries() -> None:
    store = MemoryStore()
    storage = RaftStorage(store)
    assert storage.load(CONF).entries == ()
    storage.save(Ready(hard_state=HardState(3, "b", 2), entries=entries(1, 5, 3), must_sync=True))
    loaded = RaftStorage(store).load(CONF)
    assert loaded.hard_state == HardState(3, "b", 2)
    assert loaded.entries == entries(1, 5, 3)
    assert loaded.conf == CONF and loaded.snapshot is None


def test_conflicting_append_truncates_the_stored_suffix() -> None:
    store = MemoryStore()
    storage = RaftStorage(store)
    storage.load(None)
    storage.save(Ready(entries=entries(1, 6, 1)))
    storage.save(Ready(entries=entries(4, 4, 2)))  # index 4 replaced; 5 and 6 must go
    assert RaftStorage(store).load(None).entries == entries(1, 3, 1) + entries(4, 4, 2)


def test_append_with_a_gap_is_refused() -> None:
    storage = RaftStorage(MemoryStore())
    storage.load(None)
    storage.save(Ready(entries=entries(1, 2, 1)))
    with pytest.raises(CorruptState, match="gap after stored index 2"):
        storage.save(Ready(entries=entries(5, 5, 1)))


def test_local_snapshot_and_compaction() -> None:
    store = MemoryStore()
    storage = RaftStorage(store)
    storage.load(None)
    storage.save(Ready(entries=entries(1, 10, 1)))
    snap = Snapshot(SnapshotMeta(7, 1, CONF), b"image")
    storage.save(Ready(local_snapshot=snap, compacted_through=7))
    loaded = RaftStorage(store).load(None)
    assert loaded.snapshot == snap
    assert loaded.entries == entries(8, 10, 1)
    assert [k for k, _ in store.iterate(prefix=b"raft/log/")] == [
        b"raft/log/" + i.to_bytes(8, "big") for i in range(8, 11)
    ]


def test_installed_snapshot_replaces_the_whole_log() -> None:
    store = MemoryStore()
    storage = RaftStorage(store)
    storage.load(None)
    storage.save(Ready(entries=entries(1, 20, 1)))
    snap = Snapshot(SnapshotMeta(12, 2, CONF), b"leader image")
    storage.save(Ready(snapshot=snap, entries=entries(13, 14, 2)))
    loaded = RaftStorage(store).load(None)
    assert loaded.snapshot == snap
    assert loaded.entries == entries(13, 14, 2)


def test_a_crash_keeps_whole_readies_only() -> None:
    for seed in range(30):
        store = SimStore()
        storage = RaftStorage(store)
        storage.load(None)
        storage.save(
            Ready(hard_state=HardState(1, "a", 0), entries=entries(1, 3, 1), must_sync=True)
        )
        storage.save(Ready(hard_state=HardState(2, "b", 1), entries=entries(4, 6, 2)))
        store.crash(random.Random(seed), keep_prob=0.5)
        loaded = RaftStorage(store).load(None)
        if loaded.hard_state.term == 2:
            assert loaded.entries == entries(1, 3, 1) + entries(4, 6, 2)
        else:
            assert (loaded.hard_state, loaded.entries) == (HardState(1, "a", 0), entries(1, 3, 1))


def test_gap_in_stored_log_is_reported() -> None:
    store = MemoryStore()
    storage = RaftStorage(store)
    storage.load(None)
    storage.save(Ready(entries=entries(1, 3, 1)))
    store.delete(b"raft/log/" + (2).to_bytes(8, "big"))
    with pytest.raises(CorruptState, match="expected index 2, found 3"):
        RaftStorage(store).load(None)


def test_commit_only_change_rides_with_the_next_batch() -> None:
    store = SimStore()
    storage = RaftStorage(store)
    storage.load(None)
    assert storage.save(
        Ready(hard_state=HardState(1, "a", 0), entries=entries(1, 2, 1), must_sync=True)
    )
    assert storage.save(Ready(hard_state=HardState(1, "a", 2))) is False  # commit moved only
    assert store.unsynced_writes == 0
    assert RaftStorage(store).load(None).hard_state == HardState(1, "a", 0)
    storage.save(Ready(entries=entries(3, 3, 1), must_sync=True))
    assert RaftStorage(store).load(None).hard_state == HardState(1, "a", 2)


def test_flush_writes_a_deferred_commit_and_term_changes_are_never_deferred() -> None:
    store = MemoryStore()
    storage = RaftStorage(store)
    storage.load(None)
    storage.save(Ready(hard_state=HardState(1, "a", 0), must_sync=True))
    storage.save(Ready(hard_state=HardState(1, "a", 4)))
    storage.flush()
    assert RaftStorage(store).load(None).hard_state == HardState(1, "a", 4)
    assert storage.save(Ready(hard_state=HardState(2, "", 4)))  # a new term is written at once
    assert RaftStorage(store).load(None).hard_state == HardState(2, "", 4)
