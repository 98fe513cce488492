"""Raft stable storage over any `common.store.Store` (LevelDB in production, SimStore in tests).

Key layout under `prefix` (default b"raft/"):
    hs              HardState
    snap/meta       SnapshotMeta of the latest snapshot (local or installed from the leader)
    snap/data       its state machine image
    log/<u64 BE>    Entry at that index; indexes sort numerically because they are big-endian

Invariants kept by `save`: every Ready is written as ONE atomic batch (synced iff
`ready.must_sync`), so a crash leaves either the state before or after that Ready; stored log
entries are contiguous and start right after the snapshot index.

A Ready whose only change is a higher commit index is not written on its own: the commit
index need not be durable (a restarted node relearns it from the leader, Raft Figure 2 lists
it as volatile), and a separate write would queue behind an fsync in progress. It rides
along with the next batch, or `flush()` writes it at shutdown.
"""

from __future__ import annotations

import struct

from common.raft.codec import (
    decode_entry,
    decode_hard_state,
    decode_snapshot_meta,
    encode_entry,
    encode_hard_state,
    encode_snapshot_meta,
)
from common.raft.errors import CorruptState
from common.raft.types import ConfState, Entry, HardState, PersistentState, Ready, Snapshot
from common.store import Store, WriteBatch

_INDEX = struct.Struct(">Q")


class RaftStorage:
    """Loads and saves one node's Raft state; keeps the stored log bounds in memory."""

    def __init__(self, store: Store, *, prefix: bytes = b"raft/") -> None:
        self._store = store
        self._hs_key = prefix + b"hs"
        self._meta_key = prefix + b"snap/meta"
        self._data_key = prefix + b"snap/data"
        self._log_prefix = prefix + b"log/"
        self._pending_hs: HardState | None = None  # a commit-only change not yet written
        self._stored_hs = HardState()
        self._first_index = 1  # first stored entry index (snapshot index + 1)
        self._last_index = 0  # last stored entry index; < first_index when the log is empty

    def _log_key(self, index: int) -> bytes:
        return self._log_prefix + _INDEX.pack(index)

    def load(self, bootstrap_conf: ConfState | None) -> PersistentState:
        """Read everything back; raise CorruptState when the stored log has a gap."""
        raw_hs = self._store.get(self._hs_key)
        hard_state = decode_hard_state(raw_hs) if raw_hs is not None else HardState()
        snapshot = self._load_snapshot()
        snap_index = snapshot.meta.index if snapshot else 0
        entries = self._load_entries(snap_index)
        self._first_index = snap_index + 1
        self._last_index = entries[-1].index if entries else snap_index
        self._stored_hs, self._pending_hs = hard_state, None
        return PersistentState(
            hard_state=hard_state, snapshot=snapshot, entries=entries, conf=bootstrap_conf
        )

    def _load_snapshot(self) -> Snapshot | None:
        raw_meta = self._store.get(self._meta_key)
        if raw_meta is None:
            return None
        data = self._store.get(self._data_key)
        if data is None:
            raise CorruptState("snapshot metadata is stored but its data is missing")
        return Snapshot(meta=decode_snapshot_meta(raw_meta), data=data)

    def _load_entries(self, snap_index: int) -> tuple[Entry, ...]:
        start = self._log_key(snap_index + 1)
        entries: list[Entry] = []
        for _key, value in self._store.iterate(prefix=self._log_prefix, start=start):
            entry = decode_entry(value)
            expected = snap_index + 1 + len(entries)
            if entry.index != expected:
                raise CorruptState(
                    f"stored log has a gap: expected index {expected}, found {entry.index}"
                )
            entries.append(entry)
        return tuple(entries)

    def save(self, ready: Ready) -> bool:
        """Persist what `ready` asks for, as one batch (Ready ordering contract, step 1).

        Returns False when nothing had to be written now (only the commit index moved).
        """
        hard_state = ready.hard_state or self._pending_hs
        if self._commit_only(ready, hard_state):
            self._pending_hs = hard_state
            return False
        batch = WriteBatch()
        if ready.snapshot is not None:
            self._put_installed_snapshot(batch, ready.snapshot)
        local = ready.local_snapshot
        if local is not None:
            self._put_snapshot(batch, local)
        if hard_state is not None and hard_state != self._stored_hs:
            batch.put(self._hs_key, encode_hard_state(hard_state))
        if ready.entries:
            self._put_entries(batch, ready.entries)
        if ready.compacted_through >= self._first_index:
            self._delete_range(batch, self._first_index, ready.compacted_through)
            self._first_index = ready.compacted_through + 1
        if len(batch):
            self._store.write(batch, sync=ready.must_sync)
        if hard_state is not None:
            self._stored_hs, self._pending_hs = hard_state, None
        return bool(len(batch))

    def _commit_only(self, ready: Ready, hard_state: HardState | None) -> bool:
        if hard_state is None or ready.must_sync or ready.entries:
            return False
        if ready.snapshot is not None or ready.local_snapshot is not None:
            return False
        if ready.compacted_through >= self._first_index:
            return False
        stored = self._stored_hs
        return (hard_state.term, hard_state.vote) == (stored.term, stored.vote)

    def flush(self) -> None:
        """Write a deferred commit index (call on clean shutdown)."""
        if self._pending_hs is not None and self._pending_hs != self._stored_hs:
            self._store.put(self._hs_key, encode_hard_state(self._pending_hs), sync=True)
            self._stored_hs, self._pending_hs = self._pending_hs, None

    def _put_snapshot(self, batch: WriteBatch, snapshot: Snapshot) -> None:
        batch.put(self._meta_key, encode_snapshot_meta(snapshot.meta))
        batch.put(self._data_key, snapshot.data)

    def _put_installed_snapshot(self, batch: WriteBatch, snapshot: Snapshot) -> None:
        """A snapshot from the leader replaces the whole log (Raft §7)."""
        self._put_snapshot(batch, snapshot)
        self._delete_range(batch, self._first_index, self._last_index)
        self._first_index = snapshot.meta.index + 1
        self._last_index = snapshot.meta.index

    def _put_entries(self, batch: WriteBatch, entries: tuple[Entry, ...]) -> None:
        first, last = entries[0].index, entries[-1].index
        if first > self._last_index + 1:
            raise CorruptState(
                f"append at index {first} would leave a gap after stored index {self._last_index}"
            )
        # Entries at index >= first are replaced: delete any stored suffix beyond the new end.
        self._delete_range(batch, last + 1, self._last_index)
        for entry in entries:
            batch.put(self._log_key(entry.index), encode_entry(entry))
        self._last_index = last

    def _delete_range(self, batch: WriteBatch, first: int, last: int) -> None:
        for index in range(first, last + 1):
            batch.delete(self._log_key(index))


__all__ = ["RaftStorage"]
