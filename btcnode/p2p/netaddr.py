"""Peer addresses as the v1 wire (Core's CAddress) and BIP155's addrv2 carry them.

`NetAddress` is the 26-byte form inside `version` (services, address, port, no time);
`TimedNetAddress` adds the 4-byte time an `addr` entry starts with. The address is 16 bytes:
IPv6 as is, IPv4 behind Core's IPV4_IN_IPV6_PREFIX (::ffff:0:0/96). The port is big-endian,
every other integer little-endian. An `IPv6Address` that is itself IPv4-mapped is refused at
construction, so each value has exactly one encoding and decoding gives back the same value.

`AddrV2Entry` is one BIP155 entry (time, CompactSize services, network id, address bytes,
port). Entries for network ids this codec does not know are kept, bounded by
`MAX_ADDRV2_SIZE`, so that callers can ignore them as Core does.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Self

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.serialize import ByteReader, ser_compact_size

IPV4_IN_IPV6_PREFIX = bytes(10) + b"\xff\xff"  # Core's netaddress.h, the ADDRv1 IPv4 encoding
TORV2_IN_IPV6_PREFIX = bytes.fromhex("fd87d87eeb43")  # Core: TORv2 embedded in IPv6, obsolete
NET_ADDRESS_SIZE = 26  # services (8) + address (16) + port (2)
TIMED_NET_ADDRESS_SIZE = 30  # time (4) + NET_ADDRESS_SIZE
MAX_ADDRV2_SIZE = 512  # BIP155: the longest address any network id may carry
MIN_ADDRV2_ENTRY_SIZE = 9  # time, 1-byte services, network id, empty address, port
MAX_SERVICES = 2**64 - 1  # services are a uint64 bit field on both wires

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_PORT = struct.Struct(">H")


class ServiceFlags(enum.IntFlag):
    """Service bits a node advertises (Core's protocol.h ServiceFlags)."""

    NODE_NONE = 0
    NODE_NETWORK = 1 << 0  # serves the full block chain
    NODE_GETUTXO = 1 << 1  # BIP64, never implemented by Core
    NODE_BLOOM = 1 << 2  # BIP111: serves bloom-filtered connections
    NODE_WITNESS = 1 << 3  # BIP144: serves witness data
    NODE_COMPACT_FILTERS = 1 << 6  # BIP157: serves compact block filters
    NODE_NETWORK_LIMITED = 1 << 10  # BIP159: serves the last 288 blocks
    NODE_P2P_V2 = 1 << 11  # BIP324: accepts the encrypted transport


class BIP155Network(enum.IntEnum):
    """BIP155 network ids."""

    IPV4 = 1
    IPV6 = 2
    TORV2 = 3  # withdrawn; Core 22+ skips these like an unknown network
    TORV3 = 4
    I2P = 5
    CJDNS = 6


# BIP155: a known network with any other address length makes the message invalid.
ADDRV2_ADDRESS_SIZES: dict[int, int] = {
    BIP155Network.IPV4: 4,
    BIP155Network.IPV6: 16,
    BIP155Network.TORV3: 32,
    BIP155Network.I2P: 32,
    BIP155Network.CJDNS: 16,
}


def _check_uint(name: str, value: int, bits: int) -> None:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} out of uint{bits} range: {value}")


def ip_to_16(ip: IPv4Address | IPv6Address) -> bytes:
    """The 16-byte ADDRv1 form of `ip`."""
    if isinstance(ip, IPv4Address):
        return IPV4_IN_IPV6_PREFIX + ip.packed
    return ip.packed


def ip_from_16(raw: bytes) -> IPv4Address | IPv6Address:
    """The address in a 16-byte ADDRv1 field; the IPv4-mapped prefix gives an IPv4 address."""
    if raw[:12] == IPV4_IN_IPV6_PREFIX:
        return IPv4Address(raw[12:])
    return IPv6Address(raw)


@dataclass(frozen=True, slots=True)
class NetAddress:
    """Services, IP address and port: Core's CAddress serialized without its time."""

    services: int
    ip: IPv4Address | IPv6Address
    port: int

    def __post_init__(self) -> None:
        _check_uint("services", self.services, 64)
        _check_uint("port", self.port, 16)
        object.__setattr__(self, "services", int(self.services))  # plain int: a pasteable repr
        if not isinstance(self.ip, IPv4Address | IPv6Address):
            raise ValueError(f"ip must be an IPv4Address or IPv6Address, got {self.ip!r}")
        if isinstance(self.ip, IPv6Address) and self.ip.ipv4_mapped is not None:
            raise ValueError(f"use IPv4Address({str(self.ip.ipv4_mapped)!r}) for {self.ip}")

    def serialize(self) -> bytes:
        return _U64.pack(self.services) + ip_to_16(self.ip) + _PORT.pack(self.port)

    @classmethod
    def read_from(cls, reader: ByteReader) -> Self:
        raw = reader.read(NET_ADDRESS_SIZE)
        (services,) = _U64.unpack_from(raw)
        (port,) = _PORT.unpack_from(raw, 24)
        return cls(services, ip_from_16(raw[8:24]), port)

    @classmethod
    def deserialize(cls, buf: bytes) -> Self:
        reader = ByteReader(buf)
        address = cls.read_from(reader)
        reader.finish()
        return address


@dataclass(frozen=True, slots=True)
class TimedNetAddress:
    """An `addr` entry: when the address was last seen (Unix seconds) and the address."""

    time: int
    address: NetAddress

    def __post_init__(self) -> None:
        _check_uint("time", self.time, 32)

    def serialize(self) -> bytes:
        return _U32.pack(self.time) + self.address.serialize()

    @classmethod
    def read_from(cls, reader: ByteReader) -> Self:
        time = reader.read_u32()
        return cls(time, NetAddress.read_from(reader))


@dataclass(frozen=True, slots=True)
class AddrV2Entry:
    """One BIP155 `addrv2` entry; `network` may be an id this codec does not know."""

    time: int
    services: int
    network: int
    address: bytes
    port: int

    def __post_init__(self) -> None:
        _check_uint("time", self.time, 32)
        _check_uint("services", self.services, 64)
        _check_uint("network", self.network, 8)
        _check_uint("port", self.port, 16)
        _check_address_size(self.network, len(self.address), ValueError)
        object.__setattr__(self, "services", int(self.services))
        object.__setattr__(self, "network", int(self.network))

    @classmethod
    def from_ip(cls, time: int, services: int, ip: IPv4Address | IPv6Address, port: int) -> Self:
        network = BIP155Network.IPV4 if isinstance(ip, IPv4Address) else BIP155Network.IPV6
        return cls(time, services, network, ip.packed, port)

    @property
    def is_known(self) -> bool:
        """The network id is one BIP155 defines and Core still accepts."""
        return self.network in ADDRV2_ADDRESS_SIZES

    @property
    def ip(self) -> IPv4Address | IPv6Address | None:
        """The IP address, or None for non-IP networks and for IPv6 entries that embed an
        IPv4 or TORv2 address, which Core reads as invalid."""
        if self.network == BIP155Network.IPV4:
            return IPv4Address(self.address)
        if self.network != BIP155Network.IPV6:
            return None
        if self.address.startswith((IPV4_IN_IPV6_PREFIX, TORV2_IN_IPV6_PREFIX)):
            return None
        return IPv6Address(self.address)

    def serialize(self) -> bytes:
        return b"".join(
            (
                _U32.pack(self.time),
                ser_compact_size(self.services),
                bytes((self.network,)),
                ser_compact_size(len(self.address)),
                self.address,
                _PORT.pack(self.port),
            )
        )

    @classmethod
    def read_from(cls, reader: ByteReader) -> Self:
        time = reader.read_u32()
        services = reader.read_compact_size(MAX_SERVICES)
        network = reader.read_u8()
        size = reader.read_compact_size(MAX_ADDRV2_SIZE)
        _check_address_size(network, size, SerializationError)
        address = reader.read(size)
        (port,) = _PORT.unpack(reader.read(2))
        return cls(time, services, network, address, port)


def _check_address_size(
    network: int, size: int, error: type[ValueError] | type[SerializationError]
) -> None:
    """Core's SetNetFromBIP155Network: known networks have one address length."""
    if size > MAX_ADDRV2_SIZE:
        raise error(f"BIP155 address too long: {size} > {MAX_ADDRV2_SIZE}")
    expected = ADDRV2_ADDRESS_SIZES.get(network)
    if expected is not None and size != expected:
        name = BIP155Network(network).name
        raise error(f"BIP155 {name} address with length {size} (should be {expected})")
