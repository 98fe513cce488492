"""Where the chainstate keeps its data in one `Store`: key prefixes and record encodings.

    b"V"                     -> schema version, uint32 big-endian (`SCHEMA_VERSION`)
    b"B"                     -> hash of the active chain's tip (32 bytes, internal order)
    b"b" + block hash        -> block index record: header (80) | height u32 | status u8 |
                                sequence id u64 (big-endian integers)
    b"r" + block hash        -> the raw block (BIP144 serialization, with witnesses)
    b"u" + block hash        -> undo data of the block (`encoding.encode_block_undo`)
    b"C" + txid + n u32 BE   -> an unspent coin (`encoding.encode_coin`)

Coins are keyed by txid then output index in big-endian order, so iterating the b"C" prefix
walks the UTXO set in one deterministic order (what `utxo_stats` hashes). Chain work is not
stored: it is summed from the headers when the index is loaded.

Invariant kept by the chainstate: the tip record, the coins and the undo data of the blocks
on the active chain only ever change together, in one synced `WriteBatch` per flush
(`btcnode.chain.flushing`; after every block by default); raw-block and index records are
written before the flush that first makes use of them.

Raw blocks make this store take about a megabyte per block; opened with LevelDB's default
4 MiB memtable, its background compactions would rewrite that data again and again and take
a core away from validation. Open it with `CHAINSTATE_WRITE_BUFFER_BYTES`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from btcnode.chain.encoding import CorruptChainstate
from btcnode.consensus.block import HEADER_BYTES, BlockHeader
from btcnode.consensus.errors import SerializationError
from btcnode.consensus.tx import OutPoint

# The memtable a chainstate store should be opened with (`LevelStore(write_buffer_bytes=)`):
# 64 blocks of 1 MB between table writes; measured over 200 2,000-transaction blocks, the
# compaction thread's CPU fell from 4.9 s to 0.7 s. Costs up to twice that in memory.
CHAINSTATE_WRITE_BUFFER_BYTES = 64 << 20

SCHEMA_VERSION = 1
VERSION_KEY = b"V"
TIP_KEY = b"B"
INDEX_PREFIX = b"b"
BLOCK_PREFIX = b"r"
UNDO_PREFIX = b"u"
COIN_PREFIX = b"C"
HASH_BYTES = 32

_RECORD_TAIL = struct.Struct(">IBQ")
_COIN_INDEX = struct.Struct(">I")
_VERSION = struct.Struct(">I")
INDEX_RECORD_BYTES = HEADER_BYTES + _RECORD_TAIL.size


def index_key(block_hash: bytes) -> bytes:
    return INDEX_PREFIX + block_hash


def block_key(block_hash: bytes) -> bytes:
    return BLOCK_PREFIX + block_hash


def undo_key(block_hash: bytes) -> bytes:
    return UNDO_PREFIX + block_hash


def coin_key(outpoint: OutPoint) -> bytes:
    return COIN_PREFIX + outpoint.txid + _COIN_INDEX.pack(outpoint.n)


def coin_key_parts(txid: bytes, n: int) -> bytes:
    """`coin_key` without building an `OutPoint` (the hot path of connecting blocks)."""
    return COIN_PREFIX + txid + _COIN_INDEX.pack(n)


def outpoint_of_coin_key(key: bytes) -> OutPoint:
    if len(key) != 1 + HASH_BYTES + 4 or key[:1] != COIN_PREFIX:
        raise CorruptChainstate(f"malformed coin key {key.hex()}")
    return OutPoint(key[1:33], _COIN_INDEX.unpack_from(key, 33)[0])


def encode_version() -> bytes:
    return _VERSION.pack(SCHEMA_VERSION)


def decode_version(raw: bytes) -> int:
    if len(raw) != _VERSION.size:
        raise CorruptChainstate(f"schema version record has {len(raw)} bytes")
    return int(_VERSION.unpack(raw)[0])


def decode_tip(raw: bytes) -> bytes:
    if len(raw) != HASH_BYTES:
        raise CorruptChainstate(f"tip record has {len(raw)} bytes, expected {HASH_BYTES}")
    return raw


@dataclass(frozen=True, slots=True)
class IndexRecord:
    """One stored block index entry: what cannot be recomputed from the headers."""

    header: BlockHeader
    height: int
    status: int  # `index.BlockStatus` bits, Core's nStatus layout
    sequence_id: int

    def encode(self) -> bytes:
        return self.header.serialize() + _RECORD_TAIL.pack(
            self.height, self.status, self.sequence_id
        )

    @classmethod
    def decode(cls, key: bytes, raw: bytes) -> IndexRecord:
        """The record stored under `key`; its header must hash to the key's block hash."""
        if len(raw) != INDEX_RECORD_BYTES:
            raise CorruptChainstate(f"index record of {len(raw)} bytes under {key.hex()}")
        try:
            header = BlockHeader.deserialize(raw[:HEADER_BYTES])
        except (SerializationError, ValueError) as exc:
            raise CorruptChainstate(f"index record header under {key.hex()}: {exc}") from exc
        if index_key(header.hash) != key:
            raise CorruptChainstate(f"index record under {key.hex()} holds {header.hash.hex()}")
        height, status, sequence_id = _RECORD_TAIL.unpack_from(raw, HEADER_BYTES)
        return cls(header, height, status, sequence_id)
