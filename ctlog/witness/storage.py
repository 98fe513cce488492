"""The witness's durable state on a `Store`: the latest cosigned (size, root) per origin.

One key per origin under `STATE_PREFIX`. `save` writes an update as one synced `WriteBatch`,
so a state the witness answered 200 for is on disk before the answer leaves (tlog-witness:
"MUST persist the new checkpoint before responding"), and a crash leaves an origin at either
its old or its new state. Corrupt values are refused with `CtlogError` naming the origin.
"""

from __future__ import annotations

from common.store.api import Store, WriteBatch
from ctlog.errors import CtlogError, InputError
from ctlog.witness.core import LogUpdate, TreeState

STATE_PREFIX = b"witness/state/"  # then the UTF-8 origin


class WitnessStore:
    """Loads and saves witness state through `store` (LevelStore in a process)."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def load(self) -> dict[str, TreeState]:
        """Every origin's latest cosigned state."""
        state: dict[str, TreeState] = {}
        for key, value in self._store.iterate(prefix=STATE_PREFIX):
            origin = key[len(STATE_PREFIX) :].decode("utf-8", errors="replace")
            try:
                state[origin] = TreeState.deserialize(value)
            except InputError as exc:
                raise CtlogError(f"stored witness state for {origin!r} is corrupt: {exc}") from None
        return state

    def save(self, update: LogUpdate) -> None:
        """Write `update.new` for its origin, durably (fsync) before returning."""
        batch = WriteBatch()
        batch.put(STATE_PREFIX + update.origin.encode(), update.new.serialize())
        self._store.write(batch, sync=True)


__all__ = ["STATE_PREFIX", "WitnessStore"]
