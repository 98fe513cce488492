"""`WriteBatch`: an ordered list of puts and deletes applied atomically by any `Store`.

Invariants: ops are kept in the order they were added and applied in that order, so a later
op on the same key wins; every key and value is `bytes` (checked when the op is added, so a
bad batch never reaches a store half-applied); `byte_size` is the sum of the lengths of every
key and value added (a delete counts its key).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from common.store._errors import check_bytes

__all__ = ["BatchOp", "WriteBatch"]

BatchOp = tuple[bytes, bytes | None]
"""One op of a batch: `(key, value)` for a put, `(key, None)` for a delete."""


class WriteBatch:
    """Puts and deletes to apply together with `Store.write` (all or nothing)."""

    __slots__ = ("_byte_size", "_ops")

    def __init__(self) -> None:
        self._ops: list[BatchOp] = []
        self._byte_size = 0

    def put(self, key: bytes, value: bytes) -> None:
        """Add a put of `value` under `key`."""
        check_bytes("key", key)
        check_bytes("value", value)
        self._ops.append((key, value))
        self._byte_size += len(key) + len(value)

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Add a put per `(key, value)`, in order; all of them, or none if one is not bytes."""
        ops = list(items)
        size = 0
        for key, value in ops:
            if not (isinstance(key, bytes) and isinstance(value, bytes)):
                check_bytes("key", key)
                check_bytes("value", value)
            size += len(key) + len(value)
        self._ops.extend(ops)
        self._byte_size += size

    def delete(self, key: bytes) -> None:
        """Add a delete of `key` (deleting a missing key is not an error)."""
        check_bytes("key", key)
        self._ops.append((key, None))
        self._byte_size += len(key)

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[BatchOp]:
        """The ops in the order they were added."""
        return iter(self._ops)

    @property
    def byte_size(self) -> int:
        """Sum of the lengths of all keys and values in the batch."""
        return self._byte_size

    def __repr__(self) -> str:
        return f"<WriteBatch ops={len(self._ops)} byte_size={self._byte_size}>"
