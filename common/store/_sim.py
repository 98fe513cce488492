"""`SimStore`: a `MemoryStore` that models what a disk keeps when the machine loses power.

Durability model (LevelDB's write-ahead log): every write (a put, a delete or a whole batch)
appends one record to the log; a write with `sync=True` fsyncs the log, which makes it and
every earlier record durable. A crash loses the unsynced records after the last synced one,
or, with a torn tail, all but a random *prefix* of them: records are never reordered and a
batch is one record, so it survives whole or not at all.

Invariants: `durable_view()` equals the contents as of the last synced write plus whatever a
crash kept; the unsynced records, replayed over it in order, give the live contents.

After `crash()` the same object is the restarted disk: it is open again, holds only durable
state, and every snapshot and iterator taken before the crash raises `StoreClosedError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from common.errors import UsageError
from common.store._batch import BatchOp
from common.store._memory import MemoryStore

__all__ = ["SimStore"]


class _Random(Protocol):
    """The part of `random.Random` a crash needs; pass the simulation's seeded instance."""

    def random(self) -> float: ...


class SimStore(MemoryStore):
    """An in-memory store that tracks which writes were synced, for crash simulation."""

    __slots__ = ("_durable", "_unsynced")

    def __init__(self) -> None:
        super().__init__()
        self._durable: dict[bytes, bytes] = {}
        self._unsynced: list[Sequence[BatchOp]] = []

    @property
    def unsynced_writes(self) -> int:
        """Number of write records a crash right now could lose."""
        return len(self._unsynced)

    def durable_view(self) -> dict[bytes, bytes]:
        """A copy of what the disk holds for certain: the contents as of the last synced write."""
        return dict(self._durable)

    def crash(self, rng: _Random | None = None, keep_prob: float = 0.5) -> int:
        """Lose power and restart; return how many unsynced write records were lost.

        Without `rng` every unsynced record is lost. With `rng` a torn tail is kept: each
        unsynced record, oldest first, survives with probability `keep_prob` provided every
        earlier one survived, so what survives is always a prefix. The store is open after.
        """
        if not 0.0 <= keep_prob <= 1.0:
            raise UsageError(f"keep_prob must be within [0, 1], found {keep_prob!r}")
        unsynced = self._unsynced
        kept = 0
        if rng is not None:
            while kept < len(unsynced) and rng.random() < keep_prob:
                kept += 1
        for record in unsynced[:kept]:
            _apply_to(self._durable, record)
        lost = len(unsynced) - kept
        self._unsynced = []
        self._replace_contents(dict(self._durable))
        return lost

    def _record(self, ops: Sequence[BatchOp], sync: bool) -> None:
        if not sync:
            # A batch may be reused by its caller after write(): keep our own copy.
            self._unsynced.append(tuple(ops))
            return
        durable = self._durable
        for record in self._unsynced:
            _apply_to(durable, record)
        self._unsynced.clear()
        _apply_to(durable, ops)


def _apply_to(data: dict[bytes, bytes], ops: Sequence[BatchOp]) -> None:
    for key, value in ops:
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
