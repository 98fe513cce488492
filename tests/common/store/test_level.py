"""LevelStore on disk: persistence, the single-open lock, open errors, closed handles."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import UsageError
from common.store import LevelStore, StoreClosedError, StoreError, WriteBatch
from tests.common.holder import held_by_another_process

HOLDER = """
import sys
from common.store import LevelStore
store = LevelStore(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()
store.close()
"""


def test_writes_survive_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with LevelStore(path) as store:
        store.put(b"synced", b"1", sync=True)
        store.put(b"unsynced", b"2")
        batch = WriteBatch()
        batch.put(b"b1", b"x")
        batch.put(b"b2", b"y")
        batch.delete(b"b1")
        store.write(batch, sync=True)
        store.delete(b"unsynced")
    with LevelStore(path, create=False) as store:
        assert list(store.iterate()) == [(b"b2", b"y"), (b"synced", b"1")]


def test_second_open_in_same_process_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with LevelStore(path), pytest.raises(StoreError) as caught:
        LevelStore(path)
    assert str(path) in str(caught.value)
    assert "database is in use by another process" in str(caught.value)


def test_second_open_from_another_process_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "db"
    LevelStore(path).close()
    with held_by_another_process(HOLDER, path):
        with pytest.raises(StoreError) as caught:
            LevelStore(path)
        assert str(path) in str(caught.value)
        assert "database is in use by another process" in str(caught.value)
    with LevelStore(path) as store:  # the lock is released with the holder
        assert store.get(b"k") is None


def test_missing_database_without_create(tmp_path: Path) -> None:
    path = tmp_path / "absent"
    with pytest.raises(StoreError) as caught:
        LevelStore(path, create=False)
    assert str(path) in str(caught.value)
    assert "does not exist" in str(caught.value)
    assert not path.exists()


def test_bad_cache_size_is_caller_misuse(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        LevelStore(tmp_path / "db", cache_bytes=-1)
    assert "cache_bytes" in str(caught.value)


@pytest.mark.parametrize("size", [-1, 1024, True, 2.0])
def test_bad_write_buffer_size_is_caller_misuse(tmp_path: Path, size: object) -> None:
    with pytest.raises(UsageError) as caught:
        LevelStore(tmp_path / "db", write_buffer_bytes=size)  # type: ignore[arg-type]
    assert "write_buffer_bytes" in str(caught.value)
    assert not (tmp_path / "db").exists()


def test_a_large_write_buffer_still_persists_every_write(tmp_path: Path) -> None:
    with LevelStore(tmp_path / "db", write_buffer_bytes=64 << 20) as store:
        for i in range(100):
            store.put(b"k%03d" % i, bytes(10_000))
    with LevelStore(tmp_path / "db") as store:  # reopened: the log is replayed
        assert sum(1 for _ in store.iterate()) == 100


def test_iterator_fails_after_store_close(tmp_path: Path) -> None:
    store = LevelStore(tmp_path / "db")
    for i in range(3):
        store.put(bytes([i]), b"v")
    iterator = store.iterate()
    assert next(iterator) == (b"\x00", b"v")
    snapshot = store.snapshot()
    store.close()
    with pytest.raises(StoreClosedError):
        next(iterator)
    with pytest.raises(StoreClosedError) as caught:
        snapshot.get(b"\x00")
    assert str(tmp_path / "db") in str(caught.value)
    snapshot.close()
    assert repr(store) == f"<LevelStore {str(tmp_path / 'db')!r} closed>"


def test_reverse_scan_includes_start_key(tmp_path: Path) -> None:
    with LevelStore(tmp_path / "db") as store:
        for key in (b"", b"a", b"b", b"c"):
            store.put(key, key)
        assert [k for k, _ in store.iterate(start=b"a", stop=b"c", reverse=True)] == [b"b", b"a"]
        assert [k for k, _ in store.iterate(reverse=True)] == [b"c", b"b", b"a", b""]
        with store.snapshot() as snap:
            assert [k for k, _ in snap.iterate(start=b"b", reverse=True)] == [b"c", b"b"]
