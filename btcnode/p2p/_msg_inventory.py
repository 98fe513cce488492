"""Inventory and header-sync messages: inv, getdata, notfound, getheaders, getblocks, headers.

Counts are bounded by Core's limits, each violation carrying Core's reaction: an oversize
inv or getdata and an oversize headers message are Misbehaving (discourage); a locator
longer than MAX_LOCATOR_SZ makes Core disconnect without discouraging; an oversize notfound
is ignored. Each header in `headers` must be followed by a transaction count of 0 (Core
sends 0 and skips the value; a non-zero count is refused here as malformed, score 0).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from btcnode.consensus.block import HEADER_BYTES, BlockHeader
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.serialize import ByteReader, ser_compact_size
from btcnode.p2p._msg_codec import (
    HASH_SIZE,
    MAX_HEADERS_RESULTS,
    MAX_INV_SZ,
    MAX_LOCATOR_SZ,
    check_count,
    check_hash,
    check_int,
    decode_payload,
    read_bounded_count,
    read_hash,
)
from btcnode.p2p.errors import DISCOURAGE_SCORE, IGNORE_SCORE, MessageDecodeError

MSG_WITNESS_FLAG = 1 << 30  # Core's protocol.h: ask for the witness serialization
INV_VECTOR_SIZE = 4 + HASH_SIZE
HEADERS_ENTRY_MIN_SIZE = HEADER_BYTES + 1  # a header and a one-byte transaction count

_INV = struct.Struct("<I32s")
_I32 = struct.Struct("<i")


class InvType(enum.IntEnum):
    """Inventory types (Core's protocol.h GetDataMsg)."""

    UNDEFINED = 0
    MSG_TX = 1
    MSG_BLOCK = 2
    MSG_FILTERED_BLOCK = 3  # BIP37
    MSG_CMPCT_BLOCK = 4  # BIP152
    MSG_WTX = 5  # BIP339: the hash is a wtxid
    MSG_WITNESS_BLOCK = MSG_BLOCK | MSG_WITNESS_FLAG
    MSG_WITNESS_TX = MSG_TX | MSG_WITNESS_FLAG
    MSG_FILTERED_WITNESS_BLOCK = MSG_FILTERED_BLOCK | MSG_WITNESS_FLAG


@dataclass(frozen=True, slots=True)
class InvVector:
    """One inventory entry (Core's CInv): a type, maybe one `InvType` does not name, and a
    hash in internal byte order."""

    type: int
    hash: bytes

    def __post_init__(self) -> None:
        check_int("inventory type", self.type, 0, 0xFFFFFFFF)
        check_hash("inventory hash", self.hash)
        object.__setattr__(self, "type", int(self.type))

    def serialize(self) -> bytes:
        return _INV.pack(self.type, self.hash)

    def __repr__(self) -> str:
        return f"InvVector({self.type:#x}, bytes.fromhex({self.hash.hex()!r}))"

    def __str__(self) -> str:
        try:
            name = InvType(self.type).name
        except ValueError:
            name = f"type {self.type:#x}"
        return f"{name} {hash256_hex(self.hash)}"


@dataclass(frozen=True, slots=True)
class _InvVectorMessage:
    command: ClassVar[bytes]
    oversize_score: ClassVar[int]  # what Core does with more than MAX_INV_SZ entries

    inventory: tuple[InvVector, ...]

    def __post_init__(self) -> None:
        check_count("inventory", len(self.inventory), MAX_INV_SZ)

    def serialize(self) -> bytes:
        parts = [ser_compact_size(len(self.inventory))]
        parts.extend(_INV.pack(item.type, item.hash) for item in self.inventory)
        return b"".join(parts)

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, cls._read)

    @classmethod
    def _read(cls, reader: ByteReader) -> Self:
        count = read_bounded_count(
            reader,
            command=cls.command,
            field="inventory",
            limit=MAX_INV_SZ,
            item_bytes=INV_VECTOR_SIZE,
            score=cls.oversize_score,
            disconnect=cls.oversize_score >= DISCOURAGE_SCORE,
        )
        raw = reader.read(count * INV_VECTOR_SIZE)
        return cls(tuple(InvVector(kind, h) for kind, h in _INV.iter_unpack(raw)))


@dataclass(frozen=True, slots=True)
class InvMessage(_InvVectorMessage):
    """Announces transactions or blocks the sender has."""

    command: ClassVar[bytes] = b"inv"
    oversize_score: ClassVar[int] = DISCOURAGE_SCORE  # "inv message size = %u"


@dataclass(frozen=True, slots=True)
class GetDataMessage(_InvVectorMessage):
    """Asks for the announced transactions or blocks."""

    command: ClassVar[bytes] = b"getdata"
    oversize_score: ClassVar[int] = DISCOURAGE_SCORE  # "getdata message size = %u"


@dataclass(frozen=True, slots=True)
class NotFoundMessage(_InvVectorMessage):
    """Answers a getdata for items the sender does not have."""

    command: ClassVar[bytes] = b"notfound"
    oversize_score: ClassVar[int] = IGNORE_SCORE  # Core skips an oversize notfound


@dataclass(frozen=True, slots=True)
class _LocatorMessage:
    command: ClassVar[bytes]

    version: int  # Core's CBlockLocator version; Core sends 70016 and ignores it
    locator: tuple[bytes, ...]  # block hashes, newest first, sparser further back
    hash_stop: bytes  # all zeros: as many as the reply may hold

    def __post_init__(self) -> None:
        check_int("version", self.version, -(2**31), 2**31 - 1)
        check_count("locator", len(self.locator), MAX_LOCATOR_SZ)
        for block_hash in self.locator:
            check_hash("locator hash", block_hash)
        check_hash("hash_stop", self.hash_stop)

    def serialize(self) -> bytes:
        parts = [_I32.pack(self.version), ser_compact_size(len(self.locator))]
        parts.extend(self.locator)
        parts.append(self.hash_stop)
        return b"".join(parts)

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, cls._read)

    @classmethod
    def _read(cls, reader: ByteReader) -> Self:
        version = reader.read_i32()
        count = read_bounded_count(
            reader,
            command=cls.command,
            field="locator",
            limit=MAX_LOCATOR_SZ,
            item_bytes=HASH_SIZE,
            score=IGNORE_SCORE,
            disconnect=True,  # "getheaders locator size %lld > %d, disconnect peer"
        )
        locator = tuple(read_hash(reader) for _ in range(count))
        return cls(version, locator, read_hash(reader))


@dataclass(frozen=True, slots=True)
class GetHeadersMessage(_LocatorMessage):
    """Asks for up to MAX_HEADERS_RESULTS headers after the first locator hash we share."""

    command: ClassVar[bytes] = b"getheaders"


@dataclass(frozen=True, slots=True)
class GetBlocksMessage(_LocatorMessage):
    """Asks for an inv of up to 500 blocks after the first locator hash we share."""

    command: ClassVar[bytes] = b"getblocks"


@dataclass(frozen=True, slots=True)
class HeadersMessage:
    """Block headers, each followed on the wire by a transaction count of 0."""

    command: ClassVar[bytes] = b"headers"

    headers: tuple[BlockHeader, ...]

    def __post_init__(self) -> None:
        check_count("headers", len(self.headers), MAX_HEADERS_RESULTS)

    def serialize(self) -> bytes:
        parts = [ser_compact_size(len(self.headers))]
        for header in self.headers:
            parts.append(header.serialize())
            parts.append(b"\x00")
        return b"".join(parts)

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, cls._read)

    @classmethod
    def _read(cls, reader: ByteReader) -> Self:
        count = read_bounded_count(
            reader,
            command=cls.command,
            field="headers",
            limit=MAX_HEADERS_RESULTS,
            item_bytes=HEADERS_ENTRY_MIN_SIZE,
            score=DISCOURAGE_SCORE,  # "headers message size = %u"
            disconnect=True,
        )
        headers = []
        for index in range(count):
            header = BlockHeader.read_from(reader)
            tx_count = reader.read_compact_size()
            if tx_count != 0:
                raise MessageDecodeError(
                    "headers-tx-count",
                    f"header {index} ({header.hash_hex}) is followed by a transaction "
                    f"count of {tx_count}, not 0",
                    command=cls.command,
                    payload_size=len(reader.buf),
                )
            headers.append(header)
        return cls(tuple(headers))
