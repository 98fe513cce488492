"""Network addresses: the IPv4-mapped ADDRv1 encoding, big-endian ports, and BIP155 entries
with Core's length rules and unknown networks kept for the caller to skip."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.serialize import ByteReader
from btcnode.p2p import (
    AddrV2Entry,
    AddrV2Message,
    BIP155Network,
    MessageDecodeError,
    NetAddress,
    ServiceFlags,
    decode_message,
)
from tests.btcnode.p2p.strategies import NET_ADDRESSES, addrv2_entries


def test_ipv4_is_sent_behind_the_ipv4_mapped_prefix() -> None:
    address = NetAddress(ServiceFlags.NODE_NETWORK, IPv4Address("192.168.1.2"), 8333)
    raw = address.serialize()
    assert raw == bytes.fromhex("010000000000000000000000000000000000ffffc0a80102208d")
    assert NetAddress.deserialize(raw) == address


def test_ipv6_is_sent_as_is() -> None:
    address = NetAddress(0, IPv6Address("2001:db8::1"), 18444)
    raw = address.serialize()
    assert raw[8:24] == bytes.fromhex("20010db8000000000000000000000001")
    assert raw[24:] == b"\x48\x0c"
    assert NetAddress.deserialize(raw) == address


@settings(max_examples=100, deadline=None)
@given(NET_ADDRESSES)
def test_net_addresses_round_trip(address: NetAddress) -> None:
    assert NetAddress.deserialize(address.serialize()) == address


def test_an_ipv4_mapped_ipv6_value_has_one_spelling() -> None:
    with pytest.raises(ValueError, match=r"IPv4Address\('1.2.3.4'\)"):
        NetAddress(0, IPv6Address("::ffff:1.2.3.4"), 1)
    with pytest.raises(ValueError, match="port"):
        NetAddress(0, IPv4Address("1.2.3.4"), 65536)


def test_net_address_refuses_trailing_bytes() -> None:
    raw = NetAddress(0, IPv4Address("1.2.3.4"), 1).serialize()
    with pytest.raises(SerializationError, match="1 trailing bytes"):
        NetAddress.deserialize(raw + b"\x00")


def _entry_bytes(network: int, address: bytes, services: bytes = b"\x09") -> bytes:
    return bytes(4) + services + bytes((network,)) + bytes((len(address),)) + address + b"\x20\x8d"


def test_addrv2_ipv4_entry_layout() -> None:
    entry = AddrV2Entry.from_ip(0, 9, IPv4Address("10.0.0.1"), 8333)
    raw = _entry_bytes(1, bytes((10, 0, 0, 1)))
    assert entry.serialize() == raw
    assert AddrV2Entry.read_from(ByteReader(raw)) == entry
    assert entry.ip == IPv4Address("10.0.0.1") and entry.is_known


def test_addrv2_services_are_compact_size() -> None:
    raw = _entry_bytes(1, bytes(4), services=b"\xfd\x09\x04")
    entry = AddrV2Entry.read_from(ByteReader(raw))
    assert entry.services == ServiceFlags.NODE_NETWORK_LIMITED | 9


@pytest.mark.parametrize(
    ("network", "size", "message"),
    [
        (BIP155Network.IPV4, 5, "BIP155 IPV4 address with length 5 (should be 4)"),
        (BIP155Network.IPV6, 4, "BIP155 IPV6 address with length 4 (should be 16)"),
        (BIP155Network.TORV3, 31, "BIP155 TORV3 address with length 31 (should be 32)"),
        (BIP155Network.I2P, 0, "BIP155 I2P address with length 0 (should be 32)"),
        (BIP155Network.CJDNS, 17, "BIP155 CJDNS address with length 17 (should be 16)"),
    ],
)
def test_known_networks_with_the_wrong_length_make_addrv2_malformed(
    network: int, size: int, message: str
) -> None:
    payload = b"\x01" + _entry_bytes(network, bytes(size))
    with pytest.raises(MessageDecodeError) as info:
        decode_message(b"addrv2", payload)
    assert (info.value.reason, info.value.debug) == ("malformed-payload", message)
    assert (info.value.score, info.value.disconnect) == (0, False)


def test_an_address_over_512_bytes_is_malformed_whatever_its_network() -> None:
    payload = b"\x01" + bytes(4) + b"\x00" + b"\x63" + b"\xfd\x01\x02" + bytes(513) + bytes(2)
    with pytest.raises(MessageDecodeError) as info:
        decode_message(b"addrv2", payload)
    assert info.value.debug == "ReadCompactSize(): size too large: 513 > 512"


@pytest.mark.parametrize("network", [0, 3, 7, 255])
def test_unknown_networks_are_decoded_and_marked_for_skipping(network: int) -> None:
    known = _entry_bytes(1, bytes((127, 0, 0, 1)))
    unknown = _entry_bytes(network, b"\xaa" * 10)
    decoded = decode_message(b"addrv2", b"\x02" + unknown + known)
    assert isinstance(decoded, AddrV2Message)
    first, second = decoded.addresses
    assert (first.network, first.address, first.is_known, first.ip) == (
        network,
        b"\xaa" * 10,
        False,
        None,
    )
    assert second.is_known and second.ip == IPv4Address("127.0.0.1")
    assert decoded.serialize() == b"\x02" + unknown + known


@pytest.mark.parametrize(
    "embedded",
    ["00000000000000000000ffff01020304", "fd87d87eeb430102030405060708090a"],
)
def test_ipv6_entries_embedding_ipv4_or_torv2_have_no_usable_ip(embedded: str) -> None:
    entry = AddrV2Entry(0, 0, BIP155Network.IPV6, bytes.fromhex(embedded), 1)
    assert entry.is_known and entry.ip is None


@settings(max_examples=100, deadline=None)
@given(addrv2_entries())
def test_addrv2_entries_round_trip(entry: AddrV2Entry) -> None:
    reader = ByteReader(entry.serialize())
    assert AddrV2Entry.read_from(reader) == entry
    reader.finish()
