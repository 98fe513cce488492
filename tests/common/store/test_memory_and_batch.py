"""WriteBatch bookkeeping, type checks shared by every store, and MemoryStore copy-on-write."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import UsageError
from common.store import (
    LevelStore,
    MemoryStore,
    SimStore,
    Store,
    StoreSnapshot,
    StoreTypeError,
    WriteBatch,
    prefix_successor,
)


def test_batch_counts_ops_and_bytes() -> None:
    batch = WriteBatch()
    assert len(batch) == 0 and batch.byte_size == 0
    batch.put(b"key", b"value")
    batch.delete(b"k2")
    batch.put(b"key", b"")
    assert len(batch) == 3
    assert batch.byte_size == 3 + 5 + 2 + 3
    assert list(batch) == [(b"key", b"value"), (b"k2", None), (b"key", b"")]
    assert repr(batch) == "<WriteBatch ops=3 byte_size=13>"


def test_batch_rejects_non_bytes() -> None:
    batch = WriteBatch()
    with pytest.raises(StoreTypeError) as caught:
        batch.put("key", b"v")  # type: ignore[arg-type]
    assert (caught.value.what, caught.value.expected, caught.value.found) == ("key", "bytes", "str")
    with pytest.raises(StoreTypeError) as caught:
        batch.put(b"key", bytearray(b"v"))  # type: ignore[arg-type]
    assert (caught.value.what, caught.value.found) == ("value", "bytearray")
    assert len(batch) == 0


def test_put_many_is_puts_in_order() -> None:
    batch = WriteBatch()
    batch.delete(b"k0")
    batch.put_many(iter([(b"k1", b"one"), (b"k2", b""), (b"k1", b"again")]))
    assert list(batch) == [(b"k0", None), (b"k1", b"one"), (b"k2", b""), (b"k1", b"again")]
    assert batch.byte_size == 2 + (2 + 3) + 2 + (2 + 5)


def test_put_many_adds_nothing_when_one_item_is_not_bytes() -> None:
    batch = WriteBatch()
    batch.put(b"k0", b"v")
    with pytest.raises(StoreTypeError) as caught:
        batch.put_many([(b"k1", b"v"), (b"k2", bytearray(b"v"))])  # type: ignore[list-item]
    assert (caught.value.what, caught.value.found) == ("value", "bytearray")
    with pytest.raises(StoreTypeError) as caught:
        batch.put_many([("k3", b"v")])  # type: ignore[list-item]
    assert caught.value.what == "key"
    assert list(batch) == [(b"k0", b"v")] and batch.byte_size == 3


@pytest.fixture(params=["memory", "sim", "level"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made: Store
    if request.param == "level":
        made = LevelStore(tmp_path / "db")
    else:
        made = MemoryStore() if request.param == "memory" else SimStore()
    request.addfinalizer(made.close)
    return made


def test_every_store_rejects_wrong_types(store: Store) -> None:
    with pytest.raises(StoreTypeError) as caught:
        store.put(b"k", "v")  # type: ignore[arg-type]
    assert caught.value.what == "value"
    assert isinstance(caught.value, UsageError) and isinstance(caught.value, TypeError)
    with pytest.raises(StoreTypeError) as caught:
        store.get(1)  # type: ignore[arg-type]
    assert (caught.value.what, caught.value.found) == ("key", "int")
    with pytest.raises(StoreTypeError) as caught:
        store.iterate(start="a")  # type: ignore[arg-type]
    assert caught.value.what == "start"
    with pytest.raises(StoreTypeError) as caught:
        store.write([(b"k", b"v")])  # type: ignore[arg-type]
    assert (caught.value.what, caught.value.expected) == ("batch", "WriteBatch")
    assert list(store.iterate()) == []


def test_every_store_satisfies_the_protocols(store: Store) -> None:
    assert isinstance(store, Store)
    with store.snapshot() as snap:
        assert isinstance(snap, StoreSnapshot)


def test_delete_everything_while_iterating(store: Store) -> None:
    for i in range(50):
        store.put(b"%02d" % i, b"v")
    seen = 0
    for key, _ in store.iterate():
        store.delete(key)
        seen += 1
    assert seen == 50
    assert list(store.iterate()) == []


def test_snapshot_is_isolated_from_later_writes(store: Store) -> None:
    store.put(b"a", b"1")
    with store.snapshot() as snap:
        store.put(b"a", b"2")
        store.put(b"b", b"3")
        store.delete(b"a")
        assert snap.get(b"a") == b"1"
        assert list(snap.iterate()) == [(b"a", b"1")]
    assert list(store.iterate()) == [(b"b", b"3")]


@pytest.mark.parametrize(
    ("prefix", "successor"),
    [(b"", None), (b"a", b"b"), (b"a\xff", b"b"), (b"\xff\xff", None), (b"a\x00", b"a\x01")],
)
def test_prefix_successor(prefix: bytes, successor: bytes | None) -> None:
    assert prefix_successor(prefix) == successor


def test_memory_snapshot_release_avoids_copies() -> None:
    store = MemoryStore()
    store.put(b"a", b"1")
    table = store._table
    store.snapshot().close()
    list(store.iterate())
    store.put(b"b", b"2")
    assert store._table is table  # no reader left pinned: written in place
    snap = store.snapshot()
    store.put(b"c", b"3")
    assert store._table is not table  # pinned: copied before the write
    assert list(snap.iterate()) == [(b"a", b"1"), (b"b", b"2")]
    snap.close()


def test_abandoned_iterator_unpins() -> None:
    store = MemoryStore()
    store.put(b"a", b"1")
    table = store._table
    iterator = store.iterate()
    assert next(iterator) == (b"a", b"1")
    del iterator
    store.put(b"b", b"2")
    assert store._table is table
