"""`LevelStore`: the on-disk `Store`, on LevelDB through plyvel.

`sync=True` writes fsync LevelDB's log before returning; `sync=False` writes reach the OS page
cache and survive a process crash but not a power loss. A `WriteBatch` is written as one
LevelDB batch: all or nothing, even across a crash. Iterators and snapshots read an implicit
or explicit LevelDB snapshot, so writes made while iterating are not seen.

LevelDB allows one open handle per database directory (it locks `<path>/LOCK`); a second
open, from this process or another, raises `StoreError` naming the path. Closing the store
closes every iterator and snapshot taken from it; using one afterwards raises
`StoreClosedError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import plyvel

from common.closing import CloseOnExit
from common.store._batch import WriteBatch
from common.store._errors import StoreClosedError, StoreError, StoreTypeError, check_bytes
from common.store._protocol import key_range

__all__ = ["DEFAULT_CACHE_BYTES", "DEFAULT_WRITE_BUFFER_BYTES", "LevelSnapshot", "LevelStore"]

DEFAULT_CACHE_BYTES = 8 << 20  # LevelDB's own default block cache; callers size it per role
# LevelDB's own default memtable; a store taking megabytes per write (a chainstate's raw
# blocks) asks for more, or its background compactions rewrite the data many times over.
DEFAULT_WRITE_BUFFER_BYTES = 4 << 20
# Bits per key of each table's Bloom filter: a lookup of an absent key (deduplication checks,
# first writes) then skips most table reads; 10 bits gives about 1% false positives.
BLOOM_FILTER_BITS = 10
# How LevelDB words a LOCK held by this process / by another one (EAGAIN from fcntl).
_LOCK_MARKERS = ("already held by process", "temporarily unavailable")


class LevelStore(CloseOnExit):
    """A `Store` on a LevelDB database directory."""

    __slots__ = ("_closed", "_db", "_path")

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        write_buffer_bytes: int = DEFAULT_WRITE_BUFFER_BYTES,
    ) -> None:
        """`write_buffer_bytes` is LevelDB's memtable size (each table file is made a quarter
        of it); memory use and replay time after a crash grow with it."""
        self._path = os.fspath(path)
        self._closed = True
        for name, value, floor in (
            ("cache_bytes", cache_bytes, 0),
            ("write_buffer_bytes", write_buffer_bytes, 64 << 10),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < floor:
                raise StoreTypeError(name, value, expected=f"an int >= {floor}")
        if not create and not os.path.isdir(self._path):
            # Checked here because LevelDB would create the directory before refusing.
            raise StoreError(f"cannot open {self._path}: database does not exist (create=False)")
        try:
            self._db: Any = plyvel.DB(
                self._path,
                create_if_missing=create,
                lru_cache_size=cache_bytes,
                bloom_filter_bits=BLOOM_FILTER_BITS,
                write_buffer_size=write_buffer_bytes,
                max_file_size=max(DEFAULT_WRITE_BUFFER_BYTES // 2, write_buffer_bytes // 4),
            )
        except plyvel.Error as exc:
            raise _open_error(self._path, exc) from exc
        self._closed = False

    @property
    def path(self) -> str:
        """The database directory."""
        return self._path

    def get(self, key: bytes) -> bytes | None:
        self._check_open()
        check_bytes("key", key)
        try:
            value: bytes | None = self._db.get(key)
        except plyvel.Error as exc:
            raise _io_error(self._path, "read", exc) from exc
        return value

    def put(self, key: bytes, value: bytes, *, sync: bool = False) -> None:
        self._check_open()
        check_bytes("key", key)
        check_bytes("value", value)
        try:
            self._db.put(key, value, sync=sync)
        except plyvel.Error as exc:
            raise _io_error(self._path, "write", exc) from exc

    def delete(self, key: bytes, *, sync: bool = False) -> None:
        self._check_open()
        check_bytes("key", key)
        try:
            self._db.delete(key, sync=sync)
        except plyvel.Error as exc:
            raise _io_error(self._path, "write", exc) from exc

    def write(self, batch: WriteBatch, *, sync: bool = False) -> None:
        """Write every op of `batch` in order as one atomic LevelDB batch."""
        self._check_open()
        if not isinstance(batch, WriteBatch):
            raise StoreTypeError("batch", batch, expected="WriteBatch")
        level_batch = self._db.write_batch(sync=sync)
        for key, value in batch._ops:
            if value is None:
                level_batch.delete(key)
            else:
                level_batch.put(key, value)
        try:
            level_batch.write()
        except plyvel.Error as exc:
            raise _io_error(self._path, "write", exc) from exc

    def iterate(
        self,
        *,
        prefix: bytes = b"",
        start: bytes | None = None,
        stop: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Iterate over the store as it is now; later writes are not seen."""
        self._check_open()
        return _iterate(self._db, prefix, start, stop, reverse)

    def snapshot(self) -> LevelSnapshot:
        self._check_open()
        return LevelSnapshot(self._db.snapshot(), self)

    def close(self) -> None:
        """Close the database (releasing its lock) and every iterator and snapshot; idempotent."""
        if not self._closed:
            self._closed = True
            self._db.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<LevelStore {self._path!r} {state}>"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"store {self._path} is closed")


class LevelSnapshot(CloseOnExit):
    """A LevelDB snapshot of a `LevelStore`; see `StoreSnapshot`."""

    __slots__ = ("_closed", "_snapshot", "_store")

    def __init__(self, snapshot: Any, store: LevelStore) -> None:
        self._snapshot = snapshot
        self._store = store
        self._closed = False

    def get(self, key: bytes) -> bytes | None:
        self._check_open()
        check_bytes("key", key)
        value: bytes | None = self._snapshot.get(key)
        return value

    def iterate(
        self,
        *,
        prefix: bytes = b"",
        start: bytes | None = None,
        stop: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        self._check_open()
        return _iterate(self._snapshot, prefix, start, stop, reverse)

    def close(self) -> None:
        """Release the LevelDB snapshot; idempotent."""
        if not self._closed:
            self._closed = True
            if not self._store._closed:
                self._snapshot.close()

    def _check_open(self) -> None:
        if self._closed or self._store._closed:
            raise StoreClosedError(f"snapshot of {self._store._path} is closed")


def _iterate(
    source: Any, prefix: bytes, start: bytes | None, stop: bytes | None, reverse: bool
) -> Iterator[tuple[bytes, bytes]]:
    """Validate the bounds now, then lazily walk a plyvel iterator over them."""
    bounds = key_range(prefix, start, stop)
    if bounds is None:
        return iter(())
    low, high = bounds
    if not reverse:
        return _walk(source.iterator(start=low, stop=high), b"")
    # plyvel 1.5 drops the first item of a reverse scan when it equals `start`, so reverse
    # scans get no `start` and stop themselves below `low`.
    return _walk(source.iterator(stop=high, reverse=True), low)


def _walk(level_iterator: Any, low: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield from `level_iterator` until it ends or (reverse scans) a key falls below `low`."""
    try:
        for item in level_iterator:
            if item[0] < low:
                return
            yield item
    except RuntimeError as exc:  # plyvel: "Database or iterator is closed"
        raise StoreClosedError(f"iterator is closed: {exc}") from exc
    finally:
        level_iterator.close()


def _detail(exc: Exception) -> str:
    """plyvel's error text (it carries LevelDB's status message as bytes)."""
    if exc.args and isinstance(exc.args[0], bytes):
        return exc.args[0].decode(errors="replace")
    return str(exc)


def _io_error(path: str, action: str, exc: Exception) -> StoreError:
    return StoreError(f"cannot {action} {path}: {_detail(exc)}")


def _open_error(path: str, exc: Exception) -> StoreError:
    detail = _detail(exc)
    if isinstance(exc, plyvel.IOError) and any(m in detail.lower() for m in _LOCK_MARKERS):
        return StoreError(f"cannot open {path}: database is in use by another process ({detail})")
    return StoreError(f"cannot open {path}: {detail}")
