"""`MemoryStore`: the in-memory twin of `LevelStore`, with identical semantics.

Layout: a `_Table` holds a dict (key -> value) and a sorted list of the same keys. Reads are
dict lookups; ordered scans bisect the key list. Appending keys in ascending order (log
indices) costs O(1); inserting elsewhere or deleting is one list memmove.

Snapshots and iterators are copy-on-write: they pin the current table (`readers > 0`), and
the next write to a pinned table first copies it, so a pinned table never changes. Taking a
snapshot is O(1); the first write after it is O(n). Invariants: `keys` is strictly ascending
and holds exactly the keys of `data`; a table with `readers > 0` is never mutated.

Every handle remembers the store's `generation`; `close()` (and `SimStore.crash()`) bumps it,
so snapshots and iterators taken before raise `StoreClosedError`.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator, Sequence

from common.closing import CloseOnExit
from common.store._batch import BatchOp, WriteBatch
from common.store._errors import StoreClosedError, StoreTypeError, check_bytes
from common.store._protocol import key_range

__all__ = ["MemorySnapshot", "MemoryStore"]


class _Table:
    """One version of the store's contents; frozen while `readers > 0`."""

    __slots__ = ("data", "keys", "readers")

    def __init__(self, data: dict[bytes, bytes], keys: list[bytes]) -> None:
        self.data = data
        self.keys = keys
        self.readers = 0


class _TableIterator(Iterator[tuple[bytes, bytes]]):
    """Walks `keys[low:high]` of a pinned table, forwards or backwards; unpins when done."""

    __slots__ = ("_check", "_data", "_end", "_keys", "_next", "_step", "_table")

    def __init__(
        self, table: _Table, bounds: tuple[bytes, bytes | None] | None, reverse: bool, check: _Check
    ) -> None:
        self._table: _Table | None = None
        self._data = table.data
        self._keys = table.keys
        self._check = check
        low, high = _index_range(table.keys, bounds)
        self._next, self._end, self._step = (high - 1, low - 1, -1) if reverse else (low, high, 1)
        self._table = table
        table.readers += 1

    def __next__(self) -> tuple[bytes, bytes]:
        self._check.check_open()
        i = self._next
        if i == self._end:
            self.close()
            raise StopIteration
        self._next = i + self._step
        key = self._keys[i]
        return key, self._data[key]

    def close(self) -> None:
        """Unpin the table; further `next()` calls stop the iteration."""
        table = self._table
        if table is not None:
            self._table = None
            table.readers -= 1
            self._next = self._end

    def __del__(self) -> None:
        self.close()


class _Check:
    """Raises `StoreClosedError` once the owner is closed or the store's generation moved on."""

    __slots__ = ("_closed", "_generation", "_store", "_what")

    def __init__(self, store: MemoryStore, what: str) -> None:
        self._store = store
        self._generation = store._generation
        self._what = what
        self._closed = False

    def check_open(self) -> None:
        if self._closed or self._store._generation != self._generation:
            raise StoreClosedError(f"{self._what} is closed")


def _index_range(keys: list[bytes], bounds: tuple[bytes, bytes | None] | None) -> tuple[int, int]:
    if bounds is None:
        return 0, 0
    low_key, high_key = bounds
    low = bisect_left(keys, low_key)
    high = len(keys) if high_key is None else bisect_left(keys, high_key, low)
    return low, max(low, high)


class MemorySnapshot(CloseOnExit):
    """A point-in-time view of a `MemoryStore`; see `StoreSnapshot`."""

    __slots__ = ("_check", "_table")

    def __init__(self, store: MemoryStore, table: _Table) -> None:
        self._check = _Check(store, "snapshot")
        self._table = table
        table.readers += 1

    def get(self, key: bytes) -> bytes | None:
        self._check.check_open()
        check_bytes("key", key)
        return self._table.data.get(key)

    def iterate(
        self,
        *,
        prefix: bytes = b"",
        start: bytes | None = None,
        stop: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        self._check.check_open()
        return _TableIterator(self._table, key_range(prefix, start, stop), reverse, self._check)

    def close(self) -> None:
        """Release the view; idempotent."""
        if not self._check._closed:
            self._check._closed = True
            self._table.readers -= 1

    def __del__(self) -> None:
        self.close()


class MemoryStore(CloseOnExit):
    """An in-memory `Store`: sorted keys, atomic batches, copy-on-write snapshots.

    `sync` is accepted and ignored: nothing here outlives the process (see `SimStore` for a
    store that models durability).
    """

    __slots__ = ("_closed", "_generation", "_table")

    def __init__(self) -> None:
        self._table = _Table({}, [])
        self._closed = False
        self._generation = 0

    def get(self, key: bytes) -> bytes | None:
        if self._closed:
            raise StoreClosedError("store is closed")
        check_bytes("key", key)
        return self._table.data.get(key)

    def put(self, key: bytes, value: bytes, *, sync: bool = False) -> None:
        if self._closed:
            raise StoreClosedError("store is closed")
        check_bytes("key", key)
        check_bytes("value", value)
        self._set(key, value)
        self._record(((key, value),), sync)

    def delete(self, key: bytes, *, sync: bool = False) -> None:
        if self._closed:
            raise StoreClosedError("store is closed")
        check_bytes("key", key)
        self._remove(key)
        self._record(((key, None),), sync)

    def write(self, batch: WriteBatch, *, sync: bool = False) -> None:
        """Apply every op of `batch` in order; ops were validated when added, so none fails."""
        if self._closed:
            raise StoreClosedError("store is closed")
        if not isinstance(batch, WriteBatch):
            raise StoreTypeError("batch", batch, expected="WriteBatch")
        ops = batch._ops
        self._apply(ops)
        self._record(ops, sync)

    def iterate(
        self,
        *,
        prefix: bytes = b"",
        start: bytes | None = None,
        stop: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Iterate over the store as it is now; later writes are not seen."""
        if self._closed:
            raise StoreClosedError("store is closed")
        bounds = key_range(prefix, start, stop)
        return _TableIterator(self._table, bounds, reverse, _Check(self, "iterator"))

    def snapshot(self) -> MemorySnapshot:
        if self._closed:
            raise StoreClosedError("store is closed")
        return MemorySnapshot(self, self._table)

    def close(self) -> None:
        """Close the store and every snapshot and iterator taken from it; idempotent."""
        self._closed = True
        self._generation += 1

    def _record(self, ops: Sequence[BatchOp], sync: bool) -> None:
        """Hook called after each write with its ops; `SimStore` tracks durability here."""

    def _writable(self) -> _Table:
        table = self._table
        if table.readers:
            table = _Table(dict(table.data), list(table.keys))
            self._table = table
        return table

    def _set(self, key: bytes, value: bytes) -> None:
        table = self._writable()
        if key not in table.data:
            keys = table.keys
            if not keys or key > keys[-1]:
                keys.append(key)
            else:
                insort(keys, key)
        table.data[key] = value

    def _remove(self, key: bytes) -> None:
        if key not in self._table.data:
            return
        table = self._writable()
        del table.data[key]
        del table.keys[bisect_left(table.keys, key)]

    def _apply(self, ops: Sequence[BatchOp]) -> None:
        for key, value in ops:
            if value is None:
                self._remove(key)
            else:
                self._set(key, value)

    def _replace_contents(self, data: dict[bytes, bytes]) -> None:
        """Start over with `data` as the whole contents (used by `SimStore.crash`)."""
        self._table = _Table(data, sorted(data))
        self._closed = False
        self._generation += 1
