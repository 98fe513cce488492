"""The log's replicated state machine: committed Raft entries in, log entries out (sans-I/O).

Every replica applies the same committed commands in the same order over its own store:

- BATCH: entries already logged (same `entry_identity`, from the store or earlier in the same
  batch) are skipped and answered with the logged leaf index and timestamp (dedup: a
  resubmitted chain gets the SCT of the entry already logged); the rest get the next leaf
  indexes, in batch order.
- STH: a tree head signed by the leader over committed state becomes the published one if it
  verifies under the log key, its root is the root of our tree at its size, and it is newer
  (size not smaller, timestamp larger) than the last; otherwise it is ignored. So published
  tree heads are the same sequence on every replica, monotonic in size and time.

Invariants: `apply` writes everything one command changes (entries, identity and leaf-hash
indexes, issuers, Merkle nodes, the applied Raft index, the tree head) in ONE store batch; a
failed write leaves the store and the in-memory view as they were. A Raft index at or below
the persisted applied index is skipped, so re-applying the log after a restart is harmless.
Undecodable command data is answered with `CommandRejected` and changes nothing else.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from common.store.api import Store, WriteBatch
from ctlog.errors import CtlogError, InputError
from ctlog.keys import LogPublicKey
from ctlog.leaf import MerkleTreeLeaf
from ctlog.log.codec import BatchCommand, decode_command
from ctlog.log.entry import LoggedEntry, PreparedEntry
from ctlog.log.storage import (
    MERKLE_PREFIX,
    STATE_KEY,
    STH_KEY,
    CorruptLogState,
    LogReader,
    LogState,
    decode_sth_record,
    encode_index,
    encode_logged,
    encode_sth_record,
    entry_key,
    identity_key,
    issuer_key,
    leaf_hash_key,
)
from ctlog.merkle import HASH_SIZE
from ctlog.merkle.store import MerkleStore
from ctlog.sth import SignedTreeHead

MAX_KNOWN_ISSUERS = 4096  # issuer fingerprints remembered in memory; the store has them all
_SNAPSHOT = struct.Struct(">QQ")  # applied Raft index, tree size; then the 32-byte root


class AlreadyApplied(enum.Enum):
    """The Raft index was applied before a restart; nothing was done."""

    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class BatchApplied:
    """Where each entry of a batch is, in batch order, and the tree size after it."""

    entries: tuple[LoggedEntry, ...]
    tree_size: int


@dataclass(frozen=True, slots=True)
class SthApplied:
    """Whether a proposed tree head became the published one, and if not why."""

    accepted: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CommandRejected:
    """The command data did not decode; the state only records the applied index."""

    reason: str


ApplyResult = BatchApplied | SthApplied | CommandRejected | AlreadyApplied


class LogStateMachine:
    """The replica's log: entries, Merkle tree and published tree head over one `Store`."""

    def __init__(self, store: Store, log_key: LogPublicKey) -> None:
        self._store = store
        self._log_key = log_key
        self.merkle = MerkleStore(store, MERKLE_PREFIX)
        self.reader = LogReader(store)
        raw_state = store.get(STATE_KEY)
        self._state = LogState.decode(raw_state) if raw_state is not None else LogState()
        raw_sth = store.get(STH_KEY)
        self._sth = decode_sth_record(raw_sth) if raw_sth is not None else None
        self._known_issuers: set[bytes] = set()
        self._fingerprints: dict[bytes, bytes] = {}

    @property
    def applied_index(self) -> int:
        return self._state.applied_index

    @property
    def tree_size(self) -> int:
        """Entries applied (committed); may run ahead of the published tree head."""
        return self.merkle.size

    @property
    def max_timestamp(self) -> int:
        """The largest timestamp of any applied entry (0 for an empty log)."""
        return self._state.max_timestamp

    @property
    def latest_sth(self) -> SignedTreeHead | None:
        """The published tree head every read is bounded by; None before the first."""
        return self._sth

    @property
    def published_size(self) -> int:
        """The size of the published tree head (0 before the first): what reads may see."""
        return 0 if self._sth is None else self._sth.tree_size

    def logged(self, identity: bytes) -> LoggedEntry | None:
        """The applied entry with this identity, if any (dedup before sequencing)."""
        return self.reader.logged(identity)

    def apply(self, index: int, data: bytes) -> ApplyResult:
        """Apply the committed Raft entry at `index`; never raises on bad `data`."""
        if index <= self._state.applied_index:
            return AlreadyApplied.SKIPPED
        try:
            command = decode_command(data)
        except InputError as exc:
            self._write(WriteBatch(), LogState(index, self._state.max_timestamp), None)
            return CommandRejected(str(exc))
        if isinstance(command, BatchCommand):
            return self._apply_batch(index, command.entries)
        return self._apply_sth(index, command.sth)

    def _apply_batch(self, index: int, entries: Sequence[PreparedEntry]) -> BatchApplied:
        batch = WriteBatch()
        first = self.merkle.size
        seen: dict[bytes, LoggedEntry] = {}
        results: list[LoggedEntry] = []
        leaf_hashes: list[bytes] = []
        max_timestamp = self._state.max_timestamp
        new_issuers: set[bytes] = set()
        for entry in entries:
            identity = entry.identity
            logged = seen.get(identity) or self.logged(identity)
            if logged is not None:
                results.append(LoggedEntry(logged.leaf_index, logged.timestamp, duplicate=True))
                continue
            leaf_index = first + len(leaf_hashes)
            leaf_hashes.append(self._put_entry(batch, leaf_index, identity, entry, new_issuers))
            seen[identity] = LoggedEntry(leaf_index, entry.timestamp, duplicate=True)
            results.append(LoggedEntry(leaf_index, entry.timestamp))
            max_timestamp = max(max_timestamp, entry.timestamp)
        if leaf_hashes:
            self.merkle.append(leaf_hashes, batch)
        self._write(batch, LogState(index, max_timestamp), None)
        self._remember_issuers(new_issuers)
        return BatchApplied(tuple(results), self.merkle.size)

    def _put_entry(
        self,
        batch: WriteBatch,
        leaf_index: int,
        identity: bytes,
        entry: PreparedEntry,
        new_issuers: set[bytes],
    ) -> bytes:
        """Add one new entry's records to `batch`; return its leaf hash."""
        fingerprints = [self._fingerprint(der) for der in entry.issuers]
        tile_leaf = entry.tile_leaf(leaf_index, fingerprints)
        leaf_hash = MerkleTreeLeaf(tile_leaf.timestamped_entry).leaf_hash()
        batch.put(entry_key(leaf_index), tile_leaf.serialize())
        batch.put(identity_key(identity), encode_logged(leaf_index, entry.timestamp))
        batch.put(leaf_hash_key(leaf_hash), encode_index(leaf_index))
        for fingerprint, der in zip(tile_leaf.certificate_chain, entry.issuers, strict=True):
            if fingerprint not in new_issuers and not self._has_issuer(fingerprint):
                batch.put(issuer_key(fingerprint), der)
                new_issuers.add(fingerprint)
        return leaf_hash

    def _fingerprint(self, der: bytes) -> bytes:
        """SHA-256 of an issuer's DER, remembered: a log sees few issuers, again and again."""
        fingerprint = self._fingerprints.get(der)
        if fingerprint is None:
            if len(self._fingerprints) >= MAX_KNOWN_ISSUERS:
                self._fingerprints.clear()
            fingerprint = self._fingerprints[der] = hashlib.sha256(der).digest()
        return fingerprint

    def _has_issuer(self, fingerprint: bytes) -> bool:
        if fingerprint in self._known_issuers:
            return True
        if self.reader.issuer(fingerprint) is None:
            return False
        self._remember_issuers({fingerprint})
        return True

    def _remember_issuers(self, fingerprints: set[bytes]) -> None:
        if len(self._known_issuers) + len(fingerprints) > MAX_KNOWN_ISSUERS:
            self._known_issuers.clear()
        self._known_issuers.update(fingerprints)

    def _apply_sth(self, index: int, sth: SignedTreeHead) -> SthApplied:
        reason = self._refusal(sth)
        state = LogState(index, self._state.max_timestamp)
        if reason:
            self._write(WriteBatch(), state, None)
            return SthApplied(False, reason)
        batch = WriteBatch()
        batch.put(STH_KEY, encode_sth_record(sth))
        self._write(batch, state, sth)
        return SthApplied(True)

    def _refusal(self, sth: SignedTreeHead) -> str:
        """Why a proposed tree head cannot be published; empty if it can."""
        last = self._sth
        if sth.tree_size > self.merkle.size:
            return f"tree size {sth.tree_size} is beyond the applied {self.merkle.size}"
        if last is not None and (sth.tree_size < last.tree_size or sth.timestamp <= last.timestamp):
            return f"not newer than the published tree head ({last.tree_size}, {last.timestamp})"
        if self.merkle.root(sth.tree_size) != sth.root_hash:
            return f"root hash is not the root of the tree at size {sth.tree_size}"
        try:
            sth.verify(self._log_key)
        except CtlogError as exc:
            return str(exc)
        return ""

    def snapshot(self) -> bytes:
        """A marker of the applied state: applied index, tree size and root.

        The entries themselves are already durable in this replica's store, so the marker is
        all a restart needs. It cannot bring a lagging replica up to date, which is why the
        log group never compacts its Raft log (see `ctlog.log.replica`).
        """
        size = self.merkle.size
        return _SNAPSHOT.pack(self._state.applied_index, size) + self.merkle.root(size)

    def restore(self, data: bytes) -> None:
        """Accept a marker this replica's own state already covers; refuse any other."""
        if len(data) != _SNAPSHOT.size + HASH_SIZE:
            raise CorruptLogState(f"a log snapshot marker is {_SNAPSHOT.size + HASH_SIZE} bytes")
        applied_index, size = _SNAPSHOT.unpack(data[: _SNAPSHOT.size])
        root = data[_SNAPSHOT.size :]
        if applied_index > self._state.applied_index or size > self.merkle.size:
            raise CorruptLogState(
                f"a snapshot at Raft index {applied_index} (tree size {size}) is ahead of this "
                f"replica ({self._state.applied_index}, {self.merkle.size}); copy a peer's data "
                "directory to catch up"
            )
        if self.merkle.root(size) != root:
            raise CorruptLogState(f"a snapshot's root for tree size {size} is not ours")

    def _write(self, batch: WriteBatch, state: LogState, sth: SignedTreeHead | None) -> None:
        """Write `batch` with the new applied state; on failure undo the in-memory view."""
        batch.put(STATE_KEY, state.encode())
        try:
            self._store.write(batch)
        except BaseException:
            self.merkle.reload()
            raise
        self._state = state
        if sth is not None:
            self._sth = sth


__all__ = [
    "MAX_KNOWN_ISSUERS",
    "AlreadyApplied",
    "ApplyResult",
    "BatchApplied",
    "CommandRejected",
    "LogStateMachine",
    "SthApplied",
]
