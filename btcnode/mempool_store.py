"""Mempool persistence (Core's mempool.dat, kept up to date instead of written at shutdown).

`MempoolStore` keeps the pool's transactions in a `Store` of their own (the node process
gives it its own LevelDB, so its keys never meet the chainstate's):

    b"t" + sequence (8 bytes, big-endian) -> version byte, entry time (8 bytes), raw tx
    b"i" + txid                            -> sequence (8 bytes)

Keys sort by sequence, so iterating `b"t"` gives the transactions in the order they entered.
An addition is written with `sync=True` (durable before the call that accepted the
transaction returns); a removal is written without sync: a crash that loses it only makes
the reload offer a transaction that is gone, and the reload drops what no longer fits.

`MempoolRecorder` is the node listener that keeps the store equal to the pool;
`reload_mempool` offers the stored transactions to a fresh node in their order and then
rewrites the store to what the pool accepted, in one synced batch.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from btcnode.consensus.errors import ChainMisuse, SerializationError
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx
from btcnode.mempool import Mempool
from btcnode.node import Node, NodeEvent, TxAdded, TxRemoved
from common.store.api import Store, WriteBatch

__all__ = [
    "CorruptMempoolRecord",
    "MempoolRecorder",
    "MempoolStore",
    "ReloadSummary",
    "StoredTx",
    "reload_mempool",
]

TX_PREFIX = b"t"
INDEX_PREFIX = b"i"
RECORD_VERSION = 1  # the first byte of every tx record; a new layout takes a new number
_SEQUENCE = struct.Struct(">Q")
_RECORD_HEAD = struct.Struct(">BQ")  # version, entry time


class CorruptMempoolRecord(ChainMisuse):
    """A stored record does not decode; `key` names it. The reload drops such records."""

    def __init__(self, key: bytes, why: str) -> None:
        self.key = key
        super().__init__(f"mempool record {key.hex()}: {why}")


@dataclass(frozen=True, slots=True)
class StoredTx:
    """A pooled transaction as stored: its place in the order and when it entered."""

    sequence: int
    time: int
    tx: Tx

    def __post_init__(self) -> None:
        if not 0 <= self.sequence < 2**64 or not 0 <= self.time < 2**64:
            raise ChainMisuse(f"sequence {self.sequence} / time {self.time} out of range")


def encode_record(time: int, tx: Tx) -> bytes:
    return _RECORD_HEAD.pack(RECORD_VERSION, time) + tx.serialize()


def decode_record(key: bytes, value: bytes) -> StoredTx:
    """The record under `key`; `CorruptMempoolRecord` for anything that does not decode."""
    if len(key) != len(TX_PREFIX) + _SEQUENCE.size or len(value) < _RECORD_HEAD.size:
        raise CorruptMempoolRecord(key, f"{len(key)}-byte key, {len(value)}-byte value")
    version, time = _RECORD_HEAD.unpack_from(value)
    if version != RECORD_VERSION:
        raise CorruptMempoolRecord(key, f"version {version}, expected {RECORD_VERSION}")
    try:
        tx = Tx.deserialize(value[_RECORD_HEAD.size :])
    except (SerializationError, ValueError) as exc:
        raise CorruptMempoolRecord(key, f"transaction does not decode: {exc}") from exc
    (sequence,) = _SEQUENCE.unpack_from(key, len(TX_PREFIX))
    return StoredTx(sequence, time, tx)


class MempoolStore:
    """The pool's transactions in acceptance order, over one `Store` it does not close."""

    __slots__ = ("_next_sequence", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        last = next(store.iterate(prefix=TX_PREFIX, reverse=True), None)
        self._next_sequence = 0 if last is None else _sequence_of(last[0]) + 1

    def add(self, tx: Tx, time: int) -> None:
        """Store `tx` after every stored one, durably; a stored txid is left where it is."""
        index_key = INDEX_PREFIX + tx.txid
        if self._store.get(index_key) is not None:
            return
        sequence = self._next_sequence
        batch = WriteBatch()
        _put_tx(batch, sequence, tx, time)
        self._store.write(batch, sync=True)
        self._next_sequence = sequence + 1

    def remove(self, txid: bytes) -> None:
        """Forget `txid` (not synced; see the module docstring); unknown txids are ignored."""
        index_key = INDEX_PREFIX + txid
        sequence = self._store.get(index_key)
        if sequence is None:
            return
        batch = WriteBatch()
        batch.delete(TX_PREFIX + sequence)
        batch.delete(index_key)
        self._store.write(batch)

    def records(self) -> list[tuple[bytes, bytes]]:
        """Every stored (key, record value), in sequence order."""
        return list(self._store.iterate(prefix=TX_PREFIX))

    def __len__(self) -> int:
        return sum(1 for _ in self._store.iterate(prefix=INDEX_PREFIX))

    def replace_all(self, txs: list[tuple[Tx, int]]) -> None:
        """Make the store hold exactly `txs` ((tx, entry time), in order) in one synced batch."""
        batch = WriteBatch()
        for prefix in (TX_PREFIX, INDEX_PREFIX):
            for key, _ in self._store.iterate(prefix=prefix):
                batch.delete(key)
        for sequence, (tx, time) in enumerate(txs):
            _put_tx(batch, sequence, tx, time)
        self._store.write(batch, sync=True)
        self._next_sequence = len(txs)


def _put_tx(batch: WriteBatch, sequence: int, tx: Tx, time: int) -> None:
    """The record of `tx` and its index entry (the layout in the module docstring)."""
    packed = _SEQUENCE.pack(sequence)
    batch.put(TX_PREFIX + packed, encode_record(time, tx))
    batch.put(INDEX_PREFIX + tx.txid, packed)


def _sequence_of(key: bytes) -> int:
    if len(key) != len(TX_PREFIX) + _SEQUENCE.size:
        raise CorruptMempoolRecord(key, "key is not a sequence number")
    (sequence,) = _SEQUENCE.unpack_from(key, len(TX_PREFIX))
    return int(sequence)


class MempoolRecorder:
    """A node listener that writes each pool change to a `MempoolStore`."""

    __slots__ = ("_mempool", "_store")

    def __init__(self, store: MempoolStore, mempool: Mempool) -> None:
        self._store = store
        self._mempool = mempool

    def __call__(self, event: NodeEvent) -> None:
        if isinstance(event, TxAdded):
            entry = self._mempool.get(event.tx.txid)
            if entry is not None:  # a later event in the same change may have removed it
                self._store.add(event.tx, entry.time)
        elif isinstance(event, TxRemoved):
            self._store.remove(event.txid)


@dataclass(frozen=True, slots=True)
class ReloadSummary:
    """What a reload did: `offered` stored records, `accepted` now in the pool, `dropped`
    the rest with a reason each (txid hex or record key, reason)."""

    offered: int
    accepted: int
    dropped: tuple[tuple[str, str], ...]


def reload_mempool(node: Node, store: MempoolStore, now: int) -> ReloadSummary:
    """Offer every stored transaction to `node` in stored order (Core's LoadMempool), then
    rewrite the store to the pool's content in entry order.

    Each is offered at its stored entry time (at most `now`), as Core keeps nTime, so
    expiry still counts from when it first arrived. Call before subscribing a recorder.
    """
    records = store.records()
    dropped: list[tuple[str, str]] = []
    for key, value in records:
        try:
            stored = decode_record(key, value)
        except CorruptMempoolRecord as exc:
            dropped.append((key.hex(), str(exc)))
            continue
        result = node.submit_transaction(stored.tx, min(stored.time, now))
        if not result.accepted:
            dropped.append((hash256_hex(stored.tx.txid), _reason(result.reject_reason)))
    entries = sorted(node.mempool.entries(), key=lambda entry: entry.sequence)
    store.replace_all([(entry.tx, entry.time) for entry in entries])
    return ReloadSummary(len(records), len(entries), tuple(dropped))


def _reason(reject_reason: str | None) -> str:
    return reject_reason if reject_reason is not None else "not accepted"
