"""Every message type round-trips byte for byte through the registry, and the fixed layouts
match bytes written out by hand from Core's serializers."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.consensus.block import BlockHeader
from btcnode.consensus.params import REGTEST
from btcnode.consensus.tx import Tx
from btcnode.p2p import (
    AddrMessage,
    AddrV2Message,
    BlockMessage,
    FeeFilterMessage,
    FrameDecoder,
    GetAddrMessage,
    GetBlocksMessage,
    GetDataMessage,
    GetHeadersMessage,
    HeadersMessage,
    InvMessage,
    InvType,
    InvVector,
    KnownMessage,
    MempoolMessage,
    Message,
    NetAddress,
    NotFoundMessage,
    PingMessage,
    PongMessage,
    RejectMessage,
    SendAddrV2Message,
    SendCmpctMessage,
    SendHeadersMessage,
    ServiceFlags,
    TimedNetAddress,
    TxMessage,
    UnknownMessage,
    VerackMessage,
    VersionMessage,
    WtxidRelayMessage,
    decode_message,
    encode_message,
)
from tests.btcnode.p2p.strategies import (
    BLOCKS,
    HASHES,
    HEADERS,
    I32,
    I64,
    INV_VECTORS,
    TIMED_ADDRESSES,
    TXS,
    U64,
    VERSIONS,
    addrv2_entries,
)

MAGIC = REGTEST.message_start

MESSAGES = st.one_of(
    VERSIONS,
    st.builds(PingMessage, U64),
    st.builds(PongMessage, U64),
    st.builds(FeeFilterMessage, I64),
    st.builds(SendCmpctMessage, st.booleans(), U64),
    st.builds(AddrMessage, st.lists(TIMED_ADDRESSES, max_size=5).map(tuple)),
    st.builds(AddrV2Message, st.lists(addrv2_entries(), max_size=5).map(tuple)),
    st.builds(InvMessage, st.lists(INV_VECTORS, max_size=5).map(tuple)),
    st.builds(GetDataMessage, st.lists(INV_VECTORS, max_size=5).map(tuple)),
    st.builds(NotFoundMessage, st.lists(INV_VECTORS, max_size=5).map(tuple)),
    st.builds(GetHeadersMessage, I32, st.lists(HASHES, max_size=5).map(tuple), HASHES),
    st.builds(GetBlocksMessage, I32, st.lists(HASHES, max_size=5).map(tuple), HASHES),
    st.builds(HeadersMessage, st.lists(HEADERS, max_size=4).map(tuple)),
    st.builds(TxMessage, TXS),
    st.builds(BlockMessage, BLOCKS),
)


@settings(max_examples=250, deadline=None)
@given(MESSAGES)
def test_messages_round_trip_through_the_registry(message: Message) -> None:
    payload = message.serialize()
    decoded = decode_message(message.command, payload)
    assert type(decoded) is type(message)
    assert decoded == message
    assert decoded.serialize() == payload


@settings(max_examples=40, deadline=None)
@given(st.lists(MESSAGES, min_size=1, max_size=4))
def test_encoded_messages_come_back_through_the_frame_decoder(messages: list[Message]) -> None:
    stream = b"".join(encode_message(MAGIC, m) for m in messages)
    frames = FrameDecoder(MAGIC).feed(stream)
    assert [decode_message(f.command, f.payload) for f in frames] == messages


@pytest.mark.parametrize(
    "cls",
    [
        VerackMessage,
        GetAddrMessage,
        MempoolMessage,
        SendHeadersMessage,
        SendAddrV2Message,
        WtxidRelayMessage,
    ],
)
def test_empty_messages_have_empty_payloads(cls: type[VerackMessage]) -> None:
    assert cls().serialize() == b""
    assert decode_message(cls.command, b"") == cls()


def test_commands_are_cores_message_types() -> None:
    expected: dict[type[KnownMessage], bytes] = {
        VerackMessage: b"verack",
        GetAddrMessage: b"getaddr",
        MempoolMessage: b"mempool",
        SendHeadersMessage: b"sendheaders",
        SendAddrV2Message: b"sendaddrv2",
        WtxidRelayMessage: b"wtxidrelay",
        PingMessage: b"ping",
        PongMessage: b"pong",
        FeeFilterMessage: b"feefilter",
        SendCmpctMessage: b"sendcmpct",
        AddrMessage: b"addr",
        AddrV2Message: b"addrv2",
        InvMessage: b"inv",
        GetDataMessage: b"getdata",
        NotFoundMessage: b"notfound",
        GetHeadersMessage: b"getheaders",
        GetBlocksMessage: b"getblocks",
        HeadersMessage: b"headers",
        TxMessage: b"tx",
        BlockMessage: b"block",
        RejectMessage: b"reject",
    }
    assert {cls: cls.command for cls in expected} == expected


def test_unknown_message_types_are_kept_for_the_caller() -> None:
    decoded = decode_message(b"cfilter", b"\x01\x02")
    assert decoded == UnknownMessage(b"cfilter", b"\x01\x02")
    assert encode_message(MAGIC, decoded)[24:] == b"\x01\x02"


def test_ping_nonce_is_little_endian() -> None:
    assert PingMessage(0x0102030405060708).serialize() == bytes.fromhex("0807060504030201")
    assert decode_message(b"pong", bytes.fromhex("0100000000000000")) == PongMessage(1)


def test_feefilter_and_sendcmpct_layouts() -> None:
    assert FeeFilterMessage(1000).serialize() == bytes.fromhex("e803000000000000")
    assert decode_message(b"sendcmpct", bytes.fromhex("000200000000000000")) == (
        SendCmpctMessage(announce=False, version=2)
    )
    assert SendCmpctMessage(True, 1).serialize() == bytes.fromhex("010100000000000000")


def test_inventory_types_carry_cores_values() -> None:
    assert [int(t) for t in InvType] == [0, 1, 2, 3, 4, 5, 0x40000002, 0x40000001, 0x40000003]
    item = InvVector(InvType.MSG_WITNESS_TX, bytes(range(32)))
    assert InvMessage((item,)).serialize() == bytes.fromhex("01" + "01000040") + bytes(range(32))
    assert str(InvVector(7, bytes(32))).startswith("type 0x7 ")


def test_getheaders_layout_and_zero_hash_stop() -> None:
    tip = bytes.fromhex("11" * 32)
    message = GetHeadersMessage(70016, (tip, REGTEST.genesis_hash), bytes(32))
    expected = bytes.fromhex("80110100") + b"\x02" + tip + REGTEST.genesis_hash + bytes(32)
    assert message.serialize() == expected


def test_headers_entries_end_with_a_zero_tx_count() -> None:
    header = REGTEST.genesis.header
    payload = HeadersMessage((header, header)).serialize()
    assert payload == b"\x02" + header.serialize() + b"\x00" + header.serialize() + b"\x00"
    decoded = decode_message(b"headers", payload)
    assert isinstance(decoded, HeadersMessage)
    assert [h.hash for h in decoded.headers] == [REGTEST.genesis_hash] * 2


def test_addr_entry_layout() -> None:
    entry = TimedNetAddress(0x5F5E1000, NetAddress(9, IPv4Address("10.0.0.1"), 18444))
    expected = (
        b"\x01"
        + bytes.fromhex("00105e5f")  # time, little-endian
        + bytes.fromhex("0900000000000000")  # services
        + bytes.fromhex("00000000000000000000ffff0a000001")  # IPv4-mapped address
        + bytes.fromhex("480c")  # port 18444, big-endian
    )
    assert AddrMessage((entry,)).serialize() == expected


def test_block_message_relays_the_bytes_it_received() -> None:
    payload = REGTEST.genesis.serialize()
    decoded = decode_message(b"block", payload)
    assert isinstance(decoded, BlockMessage)
    assert decoded.block.hash == REGTEST.genesis_hash
    assert decoded.serialize() is payload
    assert BlockMessage(REGTEST.genesis) == decoded


@settings(max_examples=30, deadline=None)
@given(TXS)
def test_tx_message_relays_the_bytes_it_received(tx: Tx) -> None:
    payload = TxMessage(tx).serialize()
    decoded = decode_message(b"tx", payload)
    assert isinstance(decoded, TxMessage)
    assert decoded.serialize() is payload
    assert decoded.tx.wtxid == tx.wtxid


def test_reject_of_a_transaction_carries_its_hash() -> None:
    txid = bytes(range(32))
    payload = b"\x02tx" + b"\x42" + b"\x10insufficient fee" + txid
    decoded = decode_message(b"reject", payload)
    assert decoded == RejectMessage(b"tx", 0x42, b"insufficient fee", txid)
    assert decoded.serialize() == payload
    ping_reject = RejectMessage(b"ping", 0x01, b"bad")
    assert decode_message(b"reject", ping_reject.serialize()) == ping_reject


def test_reprs_are_constructor_expressions() -> None:
    version = VersionMessage(
        70016,
        ServiceFlags.NODE_NETWORK | ServiceFlags.NODE_WITNESS,
        0,
        NetAddress(ServiceFlags.NODE_NETWORK, IPv4Address("127.0.0.1"), 18444),
        NetAddress(0, IPv4Address("0.0.0.0"), 0),
        5,
        b"/x/",
        -1,
        True,
    )
    item = InvVector(InvType.MSG_WTX, bytes(range(32)))
    classes: list[type] = [VersionMessage, NetAddress, IPv4Address, InvVector, InvMessage]
    names = {cls.__name__: cls for cls in [*classes, HeadersMessage, BlockHeader]}
    for value in (version, item, InvMessage((item,)), HeadersMessage((REGTEST.genesis.header,))):
        assert eval(repr(value), names) == value
    assert repr(version.services) == "9"
