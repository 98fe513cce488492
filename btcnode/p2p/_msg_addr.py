"""Address gossip: addr (v1 entries with time) and addrv2 (BIP155).

Both carry at most MAX_ADDR_TO_SEND entries; more is Misbehaving in Core ("addr message size
= %u"), so the violation carries the discourage score. addrv2 entries with network ids this
codec does not know are decoded and kept; `AddrV2Entry.is_known` tells the caller which to
skip, as Core does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, Self, TypeVar

from btcnode.consensus.serialize import ByteReader, ser_compact_size
from btcnode.p2p._msg_codec import (
    MAX_ADDR_TO_SEND,
    check_count,
    decode_payload,
    read_bounded_count,
)
from btcnode.p2p.errors import DISCOURAGE_SCORE
from btcnode.p2p.netaddr import (
    MIN_ADDRV2_ENTRY_SIZE,
    TIMED_NET_ADDRESS_SIZE,
    AddrV2Entry,
    TimedNetAddress,
)

E = TypeVar("E", TimedNetAddress, AddrV2Entry)


@dataclass(frozen=True, slots=True)
class _AddressListMessage(Generic[E]):
    command: ClassVar[bytes]
    min_entry_size: ClassVar[int]  # the fewest bytes one entry can take

    addresses: tuple[E, ...]

    def __post_init__(self) -> None:
        check_count("addresses", len(self.addresses), MAX_ADDR_TO_SEND)

    def serialize(self) -> bytes:
        parts = [ser_compact_size(len(self.addresses))]
        parts.extend(entry.serialize() for entry in self.addresses)
        return b"".join(parts)

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        return decode_payload(cls.command, payload, cls._read)

    @classmethod
    def _read(cls, reader: ByteReader) -> Self:
        count = read_bounded_count(
            reader,
            command=cls.command,
            field="addresses",
            limit=MAX_ADDR_TO_SEND,
            item_bytes=cls.min_entry_size,
            score=DISCOURAGE_SCORE,  # "%s message size = %u"
            disconnect=True,
        )
        return cls(tuple(cls._read_entry(reader) for _ in range(count)))

    @staticmethod
    def _read_entry(reader: ByteReader) -> E:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class AddrMessage(_AddressListMessage[TimedNetAddress]):
    """Addresses of other peers in the v1 format (IPv4 and IPv6 only)."""

    command: ClassVar[bytes] = b"addr"
    min_entry_size: ClassVar[int] = TIMED_NET_ADDRESS_SIZE
    _read_entry = staticmethod(TimedNetAddress.read_from)


@dataclass(frozen=True, slots=True)
class AddrV2Message(_AddressListMessage[AddrV2Entry]):
    """BIP155: addresses of other peers on any network."""

    command: ClassVar[bytes] = b"addrv2"
    min_entry_size: ClassVar[int] = MIN_ADDRV2_ENTRY_SIZE
    _read_entry = staticmethod(AddrV2Entry.read_from)
