"""Where a log replica keeps its entries, and the reads the HTTP API makes (sans-I/O).

Key layout in the replica's log store (the Raft log lives in a separate store):

    ct/meta/state           applied Raft index (u64) || largest entry timestamp (u64)
    ct/meta/sth             the latest published SignedTreeHead (tree_size, timestamp,
                            root_hash, DigitallySigned), see `encode_sth_record`
    ct/e/<u64 index>        the entry as a static-ct-api TileLeaf (its TimestampedEntry carries
                            the leaf_index extension); a data tile is these values concatenated
    ct/id/<32 bytes>        entry identity (see `entry_identity`) -> u64 leaf index || u64
                            timestamp it was logged with (dedup answers from it)
    ct/lh/<32 bytes>        RFC 6962 §2.1 leaf hash -> u64 leaf index (get-proof-by-hash)
    ct/iss/<32 bytes>       SHA-256 fingerprint -> issuer certificate DER (static-ct issuers)
    merkle/...              the Merkle tree nodes (`ctlog.merkle.store.MerkleStore`)

Indexes are big-endian so entries sort by index. Every value is written by the state machine
in one batch per Raft entry, together with the applied index, so a crash leaves the state of
some applied prefix of the Raft log.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from common.store.api import Store
from ctlog.errors import CtlogError, InputError
from ctlog.leaf import LogEntryType, MerkleTreeLeaf, TileLeaf, encode_extra_data
from ctlog.log.entry import LoggedEntry
from ctlog.merkle import HASH_SIZE
from ctlog.sth import SignedTreeHead, TreeHead
from ctlog.tls import DigitallySigned, Reader, uint

STATE_KEY = b"ct/meta/state"
STH_KEY = b"ct/meta/sth"
ENTRY_PREFIX = b"ct/e/"
IDENTITY_PREFIX = b"ct/id/"
LEAF_HASH_PREFIX = b"ct/lh/"
ISSUER_PREFIX = b"ct/iss/"
MERKLE_PREFIX = b"merkle/"
_U64 = struct.Struct(">Q")
_STATE = struct.Struct(">QQ")
_LOGGED = struct.Struct(">QQ")  # an identity record: leaf index, timestamp


class CorruptLogState(CtlogError):
    """A stored value of the log is missing or malformed: the data directory is damaged."""


@dataclass(frozen=True, slots=True)
class LogState:
    """The small, always-loaded part of the replica state."""

    applied_index: int = 0
    max_timestamp: int = 0

    def encode(self) -> bytes:
        return _STATE.pack(self.applied_index, self.max_timestamp)

    @classmethod
    def decode(cls, raw: bytes) -> LogState:
        if len(raw) != _STATE.size:
            raise CorruptLogState(f"{STATE_KEY!r} is {len(raw)} bytes, not {_STATE.size}")
        return cls(*_STATE.unpack(raw))


def entry_key(index: int) -> bytes:
    return ENTRY_PREFIX + _U64.pack(index)


def identity_key(identity: bytes) -> bytes:
    return IDENTITY_PREFIX + identity


def leaf_hash_key(leaf_hash: bytes) -> bytes:
    return LEAF_HASH_PREFIX + leaf_hash


def issuer_key(fingerprint: bytes) -> bytes:
    return ISSUER_PREFIX + fingerprint


def encode_index(index: int) -> bytes:
    return _U64.pack(index)


def encode_logged(leaf_index: int, timestamp: int) -> bytes:
    """The identity record of an entry logged at `leaf_index` with `timestamp`."""
    return _LOGGED.pack(leaf_index, timestamp)


def decode_index(raw: bytes) -> int:
    if len(raw) != _U64.size:
        raise CorruptLogState(f"a stored leaf index is {len(raw)} bytes, not 8")
    value: int = _U64.unpack(raw)[0]
    return value


def encode_sth_record(sth: SignedTreeHead) -> bytes:
    head = sth.tree_head
    sizes = uint(head.tree_size, 8) + uint(head.timestamp, 8)
    return sizes + head.root_hash + sth.signature.serialize()


def decode_sth_record(raw: bytes) -> SignedTreeHead:
    try:
        reader = Reader(raw, "stored tree head")
        tree_size, timestamp = reader.u64(), reader.u64()
        head = TreeHead(tree_size, timestamp, reader.fixed(HASH_SIZE))
        signature = DigitallySigned.read(reader)
        reader.finish()
    except CtlogError as exc:
        raise CorruptLogState(f"the stored tree head is damaged: {exc}") from None
    return SignedTreeHead(head, signature)


class LogReader:
    """Reads of the stored log; every index asked for must be below a published tree size."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def tile_leaf_bytes(self, index: int) -> bytes:
        raw = self._store.get(entry_key(index))
        if raw is None:
            raise CorruptLogState(f"entry {index} is missing from the store")
        return raw

    def tile_leaf(self, index: int) -> TileLeaf:
        return self.parse_tile_leaf(self.tile_leaf_bytes(index))

    @staticmethod
    def parse_tile_leaf(raw: bytes) -> TileLeaf:
        try:
            return TileLeaf.deserialize(raw)
        except InputError as exc:
            raise CorruptLogState(f"a stored entry is damaged: {exc}") from None

    def tile_leaves_bytes(self, start: int, end: int) -> Iterator[bytes]:
        """The stored entries `start` .. `end - 1`, in order."""
        expected = start
        for _key, value in self._store.iterate(
            prefix=ENTRY_PREFIX, start=entry_key(start), stop=entry_key(end)
        ):
            yield value
            expected += 1
        if expected != end:
            raise CorruptLogState(f"entries {expected}..{end - 1} are missing from the store")

    def logged(self, identity: bytes) -> LoggedEntry | None:
        """The entry logged with this identity, marked a duplicate (what dedup answers)."""
        raw = self._store.get(identity_key(identity))
        if raw is None:
            return None
        if len(raw) != _LOGGED.size:
            raise CorruptLogState(f"identity record is {len(raw)} bytes, not {_LOGGED.size}")
        leaf_index, timestamp = _LOGGED.unpack(raw)
        return LoggedEntry(leaf_index, timestamp, duplicate=True)

    def index_of_leaf_hash(self, leaf_hash: bytes) -> int | None:
        raw = self._store.get(leaf_hash_key(leaf_hash))
        return None if raw is None else decode_index(raw)

    def issuer(self, fingerprint: bytes) -> bytes | None:
        return self._store.get(issuer_key(fingerprint))

    def leaf_input_and_extra_data(self, leaf: TileLeaf) -> tuple[bytes, bytes]:
        """RFC 6962 §4.6 `leaf_input` and `extra_data` of a stored entry."""
        issuers = []
        for fingerprint in leaf.certificate_chain:
            der = self.issuer(fingerprint)
            if der is None:
                raise CorruptLogState(f"issuer {fingerprint.hex()} is missing from the store")
            issuers.append(der)
        entry_type = leaf.timestamped_entry.entry_type
        if entry_type is LogEntryType.PRECERT_ENTRY:
            issuers.insert(0, leaf.pre_certificate)  # RFC 6962 §3.1 PrecertChainEntry
        leaf_input = MerkleTreeLeaf(leaf.timestamped_entry).serialize()
        return leaf_input, encode_extra_data(entry_type, issuers)


__all__ = [
    "ENTRY_PREFIX",
    "MERKLE_PREFIX",
    "CorruptLogState",
    "LogReader",
    "LogState",
    "decode_index",
    "decode_sth_record",
    "encode_index",
    "encode_logged",
    "encode_sth_record",
    "entry_key",
    "identity_key",
    "issuer_key",
    "leaf_hash_key",
]
