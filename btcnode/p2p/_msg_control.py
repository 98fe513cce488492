"""Handshake and connection-control messages: version, verack, ping/pong, feature
negotiation (sendheaders, sendaddrv2, wtxidrelay, sendcmpct), feefilter, getaddr, mempool,
and the obsolete reject.

Layouts follow Core's net_processing.cpp readers and the functional-test framework's
`msg_*` classes. `VersionMessage.deserialize` accepts the short forms Core accepts (every
field after addr_recv may be missing, in order) and fills Core's defaults; `serialize`
always writes the full 70016 form, so a decoded short version re-encodes to the long one.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import ClassVar, Self

from btcnode.consensus.serialize import ByteReader, ser_var_bytes
from btcnode.p2p._msg_codec import (
    HASH_SIZE,
    MAX_REJECT_MESSAGE_LENGTH,
    MAX_SUBVERSION_LENGTH,
    check_int,
    decode_payload,
    read_limited_bytes,
)
from btcnode.p2p.framing import COMMAND_SIZE
from btcnode.p2p.netaddr import NetAddress

PROTOCOL_VERSION = 70016  # Core's node/protocol_version.h: wtxidrelay (BIP339)
MIN_PEER_PROTO_VERSION = 31800  # Core disconnects peers announcing less
BIP0031_VERSION = 60000  # ping carries a nonce and expects a pong from here on
SENDHEADERS_VERSION = 70012  # BIP130
FEEFILTER_VERSION = 70013  # BIP133
SHORT_IDS_BLOCKS_VERSION = 70014  # BIP152
WTXID_RELAY_VERSION = 70016  # BIP339

MISSING_NONCE = 1  # Core's value for a version message that ends before the nonce
MISSING_START_HEIGHT = -1  # Core's value when the start height is absent
UNKNOWN_ADDR_FROM = NetAddress(0, IPv4Address("0.0.0.0"), 0)  # Core ignores addr_from

_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")
_BOOL = {False: b"\x00", True: b"\x01"}


@dataclass(frozen=True, slots=True)
class VersionMessage:
    """The first message each side sends (Core's msg_version layout)."""

    command: ClassVar[bytes] = b"version"

    version: int
    services: int
    timestamp: int
    addr_recv: NetAddress
    addr_from: NetAddress
    nonce: int
    user_agent: bytes
    start_height: int
    relay: bool  # BIP37: False asks the peer not to announce transactions

    def __post_init__(self) -> None:
        check_int("version", self.version, -(2**31), 2**31 - 1)
        check_int("services", self.services, 0, 2**64 - 1)
        check_int("timestamp", self.timestamp, -(2**63), 2**63 - 1)
        check_int("nonce", self.nonce, 0, 2**64 - 1)
        check_int("user agent length", len(self.user_agent), 0, MAX_SUBVERSION_LENGTH)
        check_int("start_height", self.start_height, -(2**31), 2**31 - 1)
        object.__setattr__(self, "services", int(self.services))  # plain int: a pasteable repr

    def serialize(self) -> bytes:
        return b"".join(
            (
                _I32.pack(self.version),
                _U64.pack(self.services),
                _I64.pack(self.timestamp),
                self.addr_recv.serialize(),
                self.addr_from.serialize(),
                _U64.pack(self.nonce),
                ser_var_bytes(self.user_agent),
                _I32.pack(self.start_height),
                _BOOL[self.relay],
            )
        )

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, cls._read)

    @classmethod
    def _read(cls, reader: ByteReader) -> Self:
        """Core's VERSION handler: each field after addr_recv is read only if bytes remain."""
        version, services, timestamp = reader.read_i32(), reader.read_u64(), reader.read_i64()
        addr_recv = NetAddress.read_from(reader)
        addr_from, nonce = UNKNOWN_ADDR_FROM, MISSING_NONCE
        user_agent, start_height, relay = b"", MISSING_START_HEIGHT, True
        if reader.remaining():
            addr_from, nonce = NetAddress.read_from(reader), reader.read_u64()
        if reader.remaining():
            user_agent = read_limited_bytes(reader, MAX_SUBVERSION_LENGTH, "user agent")
        if reader.remaining():
            start_height = reader.read_i32()
        if reader.remaining():
            relay = reader.read_u8() != 0
        return cls(
            version,
            services,
            timestamp,
            addr_recv,
            addr_from,
            nonce,
            user_agent,
            start_height,
            relay,
        )


@dataclass(frozen=True, slots=True)
class _EmptyMessage:
    """A message whose payload is empty; anything in it is refused as trailing bytes."""

    command: ClassVar[bytes]

    def serialize(self) -> bytes:
        return b""

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, lambda reader: cls())


@dataclass(frozen=True, slots=True)
class VerackMessage(_EmptyMessage):
    """Acknowledges the peer's version; the handshake is done when both were sent."""

    command: ClassVar[bytes] = b"verack"


@dataclass(frozen=True, slots=True)
class GetAddrMessage(_EmptyMessage):
    """Asks for addresses of other peers."""

    command: ClassVar[bytes] = b"getaddr"


@dataclass(frozen=True, slots=True)
class MempoolMessage(_EmptyMessage):
    """BIP35: asks for the transactions in the peer's mempool."""

    command: ClassVar[bytes] = b"mempool"


@dataclass(frozen=True, slots=True)
class SendHeadersMessage(_EmptyMessage):
    """BIP130: announce new blocks with headers instead of inv."""

    command: ClassVar[bytes] = b"sendheaders"


@dataclass(frozen=True, slots=True)
class SendAddrV2Message(_EmptyMessage):
    """BIP155: send addresses as addrv2; only valid between version and verack."""

    command: ClassVar[bytes] = b"sendaddrv2"


@dataclass(frozen=True, slots=True)
class WtxidRelayMessage(_EmptyMessage):
    """BIP339: announce transactions by wtxid; only valid between version and verack."""

    command: ClassVar[bytes] = b"wtxidrelay"


@dataclass(frozen=True, slots=True)
class _NonceMessage:
    command: ClassVar[bytes]

    nonce: int

    def __post_init__(self) -> None:
        check_int("nonce", self.nonce, 0, 2**64 - 1)

    def serialize(self) -> bytes:
        return _U64.pack(self.nonce)

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, lambda reader: cls(reader.read_u64()))


@dataclass(frozen=True, slots=True)
class PingMessage(_NonceMessage):
    """BIP31: a keep-alive the peer answers with a pong carrying the same nonce."""

    command: ClassVar[bytes] = b"ping"


@dataclass(frozen=True, slots=True)
class PongMessage(_NonceMessage):
    command: ClassVar[bytes] = b"pong"


@dataclass(frozen=True, slots=True)
class SendCmpctMessage:
    """BIP152: the peer's compact-block preference. Decoded so it can be ignored."""

    command: ClassVar[bytes] = b"sendcmpct"

    announce: bool  # high-bandwidth mode: announce new blocks with cmpctblock
    version: int  # compact block version: 1 (txids) or 2 (wtxids)

    def __post_init__(self) -> None:
        check_int("version", self.version, 0, 2**64 - 1)

    def serialize(self) -> bytes:
        return _BOOL[self.announce] + _U64.pack(self.version)

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(
            cls.command, payload, lambda reader: cls(reader.read_u8() != 0, reader.read_u64())
        )


@dataclass(frozen=True, slots=True)
class FeeFilterMessage:
    """BIP133: do not announce transactions paying less than `fee_rate` sat per 1000 vB."""

    command: ClassVar[bytes] = b"feefilter"

    fee_rate: int  # Core's CAmount; Core ignores values outside MoneyRange, so any int64 decodes

    def __post_init__(self) -> None:
        check_int("fee_rate", self.fee_rate, -(2**63), 2**63 - 1)

    def serialize(self) -> bytes:
        return _I64.pack(self.fee_rate)

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, lambda reader: cls(reader.read_i64()))


class RejectCode(enum.IntEnum):
    """BIP61 reject codes (Core stopped sending reject in 0.20)."""

    REJECT_MALFORMED = 0x01
    REJECT_INVALID = 0x10
    REJECT_OBSOLETE = 0x11
    REJECT_DUPLICATE = 0x12
    REJECT_NONSTANDARD = 0x40
    REJECT_DUST = 0x41
    REJECT_INSUFFICIENTFEE = 0x42
    REJECT_CHECKPOINT = 0x43


@dataclass(frozen=True, slots=True)
class RejectMessage:
    """BIP61: why a peer refused one of our messages. Decoded only, for logging.

    `data` is the 32-byte hash of the refused block or transaction, present exactly when
    `message` is b"block" or b"tx" (as Core 0.19 read it), else empty.
    """

    command: ClassVar[bytes] = b"reject"

    message: bytes
    code: int
    reason: bytes
    data: bytes = b""

    def __post_init__(self) -> None:
        check_int("message length", len(self.message), 0, COMMAND_SIZE)
        check_int("code", self.code, 0, 255)
        check_int("reason length", len(self.reason), 0, MAX_REJECT_MESSAGE_LENGTH)
        wanted = HASH_SIZE if self.message in (b"block", b"tx") else 0
        if len(self.data) != wanted:
            raise ValueError(f"reject of {self.message!r} carries {wanted} data bytes")

    def serialize(self) -> bytes:
        return (
            ser_var_bytes(self.message)
            + bytes((self.code,))
            + ser_var_bytes(self.reason)
            + self.data
        )

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, cls._read)

    @classmethod
    def _read(cls, reader: ByteReader) -> Self:
        message = read_limited_bytes(reader, COMMAND_SIZE, "rejected message type")
        code = reader.read_u8()
        reason = read_limited_bytes(reader, MAX_REJECT_MESSAGE_LENGTH, "reject reason")
        data = reader.read(HASH_SIZE) if message in (b"block", b"tx") else b""
        return cls(message, code, reason, data)
