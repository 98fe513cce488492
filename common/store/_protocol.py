"""The `Store` and `StoreSnapshot` protocols, and the key-range rule they share.

A store maps `bytes` keys to `bytes` values in ascending byte order. `iterate` selects keys
that start with `prefix` and satisfy `start <= key < stop` (`start` and `stop` are full keys,
not relative to the prefix); it runs over a point-in-time view, so writes made while iterating
never change what the iterator yields. A snapshot is such a view kept open on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, runtime_checkable

from common.store._batch import WriteBatch
from common.store._errors import check_bytes

__all__ = ["Store", "StoreSnapshot", "key_range", "prefix_successor"]


@runtime_checkable
class StoreSnapshot(Protocol):
    """A consistent, read-only point-in-time view of a store."""

    def get(self, key: bytes) -> bytes | None: ...

    def iterate(
        self,
        *,
        prefix: bytes = b"",
        start: bytes | None = None,
        stop: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]: ...

    def close(self) -> None: ...

    def __enter__(self) -> StoreSnapshot: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class Store(Protocol):
    """An ordered bytes-to-bytes store; `sync=True` means durable on return (fsync)."""

    def get(self, key: bytes) -> bytes | None: ...

    def put(self, key: bytes, value: bytes, *, sync: bool = False) -> None: ...

    def delete(self, key: bytes, *, sync: bool = False) -> None: ...

    def write(self, batch: WriteBatch, *, sync: bool = False) -> None: ...

    def iterate(
        self,
        *,
        prefix: bytes = b"",
        start: bytes | None = None,
        stop: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]: ...

    def snapshot(self) -> StoreSnapshot: ...

    def close(self) -> None: ...


def prefix_successor(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with `prefix`; None if unbounded."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def key_range(
    prefix: bytes, start: bytes | None, stop: bytes | None
) -> tuple[bytes, bytes | None] | None:
    """Fold `prefix`, `start` and `stop` into one half-open range `[low, high)`.

    Returns None when the range is empty; `high` is None when it is unbounded above.
    Raises `StoreTypeError` if an argument is not bytes.
    """
    check_bytes("prefix", prefix)
    low = prefix
    if start is not None:
        check_bytes("start", start)
        low = max(low, start)
    high = prefix_successor(prefix)
    if stop is not None:
        check_bytes("stop", stop)
        high = stop if high is None else min(high, stop)
    if high is not None and low >= high:
        return None
    return low, high
