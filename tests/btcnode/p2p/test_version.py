"""The version message: the exact bytes Core's functional-test framework sends, checked field
by field against a byte string written out by hand, and the short forms Core accepts."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from btcnode.p2p import (
    MAX_SUBVERSION_LENGTH,
    PROTOCOL_VERSION,
    MessageDecodeError,
    NetAddress,
    ServiceFlags,
    VersionMessage,
    decode_message,
)

NONCE = 0x1122334455667788
TIME = 1_700_000_000  # 0x6553f100
UNKNOWN = NetAddress(0, IPv4Address("0.0.0.0"), 0)

# test_framework/p2p.py peer_connect_send_version: nVersion P2P_VERSION = 70016, nServices
# P2P_SERVICES = NODE_NETWORK | NODE_WITNESS, addrTo = the node (CAddress keeps its default
# nServices of 1), addrFrom 0.0.0.0:0 (nServices 1), strSubVer "/python-p2p-tester:0.0.3/",
# nStartingHeight -1 (msg_version's default), relay P2P_VERSION_RELAY = 1.
FIELDS = [
    ("version", "80110100"),  # int32 70016 = 0x00011180
    ("services", "0900000000000000"),  # uint64 NODE_NETWORK | NODE_WITNESS
    ("timestamp", "00f1536500000000"),  # int64 1,700,000,000
    ("addr_recv.services", "0100000000000000"),
    ("addr_recv.ip", "00000000000000000000ffff7f000001"),  # ::ffff:127.0.0.1
    ("addr_recv.port", "480c"),  # 18444, big-endian
    ("addr_from.services", "0100000000000000"),
    ("addr_from.ip", "00000000000000000000ffff00000000"),  # ::ffff:0.0.0.0
    ("addr_from.port", "0000"),
    ("nonce", "8877665544332211"),
    ("user_agent", "19" + b"/python-p2p-tester:0.0.3/".hex()),  # CompactSize 25
    ("start_height", "ffffffff"),  # int32 -1
    ("relay", "01"),
]
EXPECTED = bytes.fromhex("".join(hex_bytes for _, hex_bytes in FIELDS))

FRAMEWORK_VERSION = VersionMessage(
    version=PROTOCOL_VERSION,
    services=ServiceFlags.NODE_NETWORK | ServiceFlags.NODE_WITNESS,
    timestamp=TIME,
    addr_recv=NetAddress(1, IPv4Address("127.0.0.1"), 18444),
    addr_from=NetAddress(1, IPv4Address("0.0.0.0"), 0),
    nonce=NONCE,
    user_agent=b"/python-p2p-tester:0.0.3/",
    start_height=-1,
    relay=True,
)


def test_version_bytes_match_the_functional_test_framework_field_by_field() -> None:
    payload = FRAMEWORK_VERSION.serialize()
    offset = 0
    for name, hex_bytes in FIELDS:
        size = len(hex_bytes) // 2
        assert payload[offset : offset + size].hex() == hex_bytes, name
        offset += size
    assert payload == EXPECTED
    assert len(payload) == 4 + 8 + 8 + 26 + 26 + 8 + 26 + 4 + 1


def test_the_framework_version_decodes_to_the_same_value() -> None:
    decoded = decode_message(b"version", EXPECTED)
    assert decoded == FRAMEWORK_VERSION
    assert isinstance(decoded, VersionMessage)
    assert decoded.services & ServiceFlags.NODE_WITNESS


def _cut_before(field: str) -> bytes:
    names = [name for name, _ in FIELDS]
    return bytes.fromhex("".join(h for _, h in FIELDS[: names.index(field)]))


@pytest.mark.parametrize(
    ("cut", "nonce", "user_agent", "start_height", "relay", "addr_from"),
    [
        ("relay", NONCE, b"/python-p2p-tester:0.0.3/", -1, True, FRAMEWORK_VERSION.addr_from),
        ("start_height", NONCE, b"/python-p2p-tester:0.0.3/", -1, True, None),
        ("user_agent", NONCE, b"", -1, True, None),
        ("addr_from.services", 1, b"", -1, True, NetAddress(0, IPv4Address("0.0.0.0"), 0)),
    ],
)
def test_short_versions_get_cores_defaults(
    cut: str,
    nonce: int,
    user_agent: bytes,
    start_height: int,
    relay: bool,
    addr_from: NetAddress | None,
) -> None:
    decoded = VersionMessage.deserialize(_cut_before(cut))
    assert (decoded.nonce, decoded.user_agent) == (nonce, user_agent)
    assert (decoded.start_height, decoded.relay) == (start_height, relay)
    assert decoded.addr_recv == FRAMEWORK_VERSION.addr_recv
    if addr_from is not None:
        assert decoded.addr_from == addr_from


def test_relay_zero_means_no_transaction_announcements() -> None:
    decoded = VersionMessage.deserialize(EXPECTED[:-1] + b"\x00")
    assert decoded.relay is False


def test_a_version_cut_inside_addr_from_is_malformed() -> None:
    payload = _cut_before("addr_from.ip")
    with pytest.raises(MessageDecodeError) as info:
        VersionMessage.deserialize(payload)
    err = info.value
    assert (err.reason, err.command, err.payload_size) == ("malformed-payload", b"version", 54)
    assert "truncated" in err.debug
    assert err.score == 0 and not err.disconnect


def test_a_user_agent_over_256_bytes_is_refused_as_core_refuses_it() -> None:
    long_agent = b"/" + b"a" * MAX_SUBVERSION_LENGTH  # 257 bytes
    payload = _cut_before("user_agent") + b"\xfd" + len(long_agent).to_bytes(2, "little")
    payload += long_agent + bytes.fromhex("ffffffff01")
    with pytest.raises(MessageDecodeError) as info:
        VersionMessage.deserialize(payload)
    assert info.value.reason == "malformed-payload"
    assert info.value.debug == "user agent of 257 bytes exceeds 256"
    with pytest.raises(ValueError, match="user agent length"):
        VersionMessage(1, 0, 0, FRAMEWORK_VERSION.addr_recv, UNKNOWN, 0, long_agent, 0, True)


def test_a_byte_after_relay_is_trailing() -> None:
    with pytest.raises(MessageDecodeError) as info:
        VersionMessage.deserialize(EXPECTED + b"\x00")
    err = info.value
    assert (err.reason, err.payload_size) == ("trailing-bytes", len(EXPECTED) + 1)
    assert err.debug == f"1 bytes after the message at offset {len(EXPECTED)}"
