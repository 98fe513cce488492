"""SimStore crash model: unsynced writes are lost, synced ones kept, a torn tail is a prefix."""

from __future__ import annotations

import random

import pytest

from common.errors import UsageError
from common.store import SimStore, StoreClosedError, WriteBatch


class ScriptedRandom:
    """Returns the given draws in order, like a seeded `random.Random` would."""

    def __init__(self, draws: list[float]) -> None:
        self.draws = list(draws)

    def random(self) -> float:
        return self.draws.pop(0)


def key(i: int) -> bytes:
    return b"k%03d" % i


def test_unsynced_writes_are_lost() -> None:
    store = SimStore()
    store.put(b"a", b"1")
    store.delete(b"a")
    store.put(b"b", b"2")
    assert store.unsynced_writes == 3
    assert store.crash() == 3
    assert list(store.iterate()) == []
    assert store.unsynced_writes == 0


def test_synced_write_makes_earlier_writes_durable() -> None:
    store = SimStore()
    store.put(b"a", b"1")
    store.put(b"b", b"2", sync=True)
    store.put(b"c", b"3")
    store.delete(b"a")
    assert store.durable_view() == {b"a": b"1", b"b": b"2"}
    assert store.crash() == 2
    assert list(store.iterate()) == [(b"a", b"1"), (b"b", b"2")]


def test_synced_delete_is_durable() -> None:
    store = SimStore()
    store.put(b"a", b"1", sync=True)
    store.delete(b"a", sync=True)
    assert store.crash() == 0
    assert store.get(b"a") is None


def test_synced_batch_is_kept_whole() -> None:
    store = SimStore()
    batch = WriteBatch()
    for i in range(5):
        batch.put(key(i), b"v")
    batch.delete(key(0))
    store.write(batch, sync=True)
    batch.put(b"after", b"write")  # reusing the batch must not change what was written
    store.crash()
    assert [k for k, _ in store.iterate()] == [key(i) for i in range(1, 5)]


def test_torn_tail_keeps_a_prefix_of_unsynced_writes() -> None:
    store = SimStore()
    store.put(b"base", b"0", sync=True)
    for i in range(5):
        store.put(key(i), b"v")
    lost = store.crash(ScriptedRandom([0.1, 0.2, 0.9]), keep_prob=0.5)
    assert lost == 3
    assert [k for k, _ in store.iterate()] == [b"base", key(0), key(1)]
    assert store.durable_view() == {b"base": b"0", key(0): b"v", key(1): b"v"}


def test_torn_tail_never_splits_a_batch_or_reorders() -> None:
    for seed in range(40):
        store = SimStore()
        writes = 8
        for i in range(writes):
            batch = WriteBatch()
            batch.put(key(i), b"v")
            batch.put(b"mirror-" + key(i), b"v")
            store.write(batch)
        lost = store.crash(random.Random(seed), keep_prob=0.7)
        kept = writes - lost
        survivors = [k for k, _ in store.iterate(prefix=b"k")]
        mirrors = [k for k, _ in store.iterate(prefix=b"mirror-")]
        assert survivors == [key(i) for i in range(kept)], f"SEED={seed}"
        assert mirrors == [b"mirror-" + key(i) for i in range(kept)], f"SEED={seed}"


def test_crash_closes_old_handles_and_reopens() -> None:
    store = SimStore()
    store.put(b"a", b"1", sync=True)
    snapshot = store.snapshot()
    iterator = store.iterate()
    store.close()
    with pytest.raises(StoreClosedError):
        store.get(b"a")
    store.crash()
    assert store.get(b"a") == b"1"
    with pytest.raises(StoreClosedError) as caught:
        snapshot.get(b"a")
    assert "snapshot" in str(caught.value)
    with pytest.raises(StoreClosedError):
        next(iterator)


def test_durable_view_is_a_copy() -> None:
    store = SimStore()
    store.put(b"a", b"1", sync=True)
    view = store.durable_view()
    view[b"b"] = b"2"
    assert store.durable_view() == {b"a": b"1"}


@pytest.mark.parametrize("keep_prob", [-0.1, 1.5])
def test_keep_prob_out_of_range_is_misuse(keep_prob: float) -> None:
    store = SimStore()
    with pytest.raises(UsageError) as caught:
        store.crash(random.Random(1), keep_prob=keep_prob)
    assert repr(keep_prob) in str(caught.value)
