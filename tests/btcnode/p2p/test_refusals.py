"""Each malformed or oversize payload is refused with its evidence and with the reaction
Core has to the same bytes (discourage, disconnect, or just drop the message)."""

from __future__ import annotations

import pytest

from btcnode.consensus.params import REGTEST
from btcnode.p2p import (
    MAX_ADDR_TO_SEND,
    MAX_HEADERS_RESULTS,
    MAX_INV_SZ,
    MAX_LOCATOR_SZ,
    CountLimitExceeded,
    GetBlocksMessage,
    GetHeadersMessage,
    HeadersMessage,
    InvMessage,
    InvVector,
    MessageDecodeError,
    NotFoundMessage,
    decode_message,
)
from tests.btcnode.p2p.corekit import decode_error

GENESIS_HEADER = REGTEST.genesis.header.serialize()


def _compact(n: int) -> bytes:
    """CompactSize written from the spec, independent of the code under test."""
    if n < 0xFD:
        return bytes((n,))
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    return b"\xfe" + n.to_bytes(4, "little")


def _inv_payload(count: int) -> bytes:
    entry = (2).to_bytes(4, "little") + bytes(range(32))
    return _compact(count) + entry * count


def _locator_payload(count: int) -> bytes:
    hashes = b"".join(i.to_bytes(32, "little") for i in range(count))
    return (70016).to_bytes(4, "little") + _compact(count) + hashes + bytes(32)


@pytest.mark.parametrize(
    ("command", "score", "disconnect"),
    [(b"inv", 100, True), (b"getdata", 100, True), (b"notfound", 0, False)],
)
def test_inventory_of_50001_entries_is_refused(
    command: bytes, score: int, disconnect: bool
) -> None:
    payload = _inv_payload(MAX_INV_SZ + 1)
    err = decode_error(command, payload)
    assert isinstance(err, CountLimitExceeded)
    assert (err.reason, err.command, err.payload_size) == ("oversize-count", command, len(payload))
    assert (err.field, err.count, err.limit) == ("inventory", 50_001, 50_000)
    assert (err.score, err.disconnect, err.discourage) == (score, disconnect, score == 100)


def test_inventory_of_50000_entries_is_accepted() -> None:
    decoded = decode_message(b"inv", _inv_payload(MAX_INV_SZ))
    assert isinstance(decoded, InvMessage)
    assert len(decoded.inventory) == 50_000
    assert decoded.inventory[-1] == InvVector(2, bytes(range(32)))


def test_an_inventory_count_the_payload_cannot_hold_is_malformed_not_oversize() -> None:
    payload = _compact(MAX_INV_SZ + 1) + bytes(36)  # claims 50,001, carries one entry
    err = decode_error(b"inv", payload)
    assert type(err) is MessageDecodeError
    assert err.reason == "malformed-payload"
    assert err.debug == "count 50001 needs at least 1800036 bytes, 36 left"
    assert (err.score, err.disconnect) == (0, False)


@pytest.mark.parametrize("command", [b"getheaders", b"getblocks"])
def test_a_locator_of_102_hashes_disconnects(command: bytes) -> None:
    payload = _locator_payload(MAX_LOCATOR_SZ + 1)
    err = decode_error(command, payload)
    assert isinstance(err, CountLimitExceeded)
    assert (err.field, err.count, err.limit) == ("locator", 102, 101)
    assert err.command == command and err.payload_size == 4 + 1 + 102 * 32 + 32
    assert err.disconnect and not err.discourage


@pytest.mark.parametrize("cls", [GetHeadersMessage, GetBlocksMessage])
def test_a_locator_of_101_hashes_is_accepted(cls: type[GetHeadersMessage]) -> None:
    decoded = cls.deserialize(_locator_payload(MAX_LOCATOR_SZ))
    assert len(decoded.locator) == 101 and decoded.hash_stop == bytes(32)
    assert decoded.locator[1] == (1).to_bytes(32, "little")


def test_headers_with_a_nonzero_tx_count_are_refused() -> None:
    payload = _compact(2) + GENESIS_HEADER + b"\x00" + GENESIS_HEADER + b"\x01"
    err = decode_error(b"headers", payload)
    assert err.reason == "headers-tx-count"
    assert (err.command, err.payload_size) == (b"headers", len(payload))
    assert err.debug == (
        f"header 1 ({REGTEST.genesis.header.hash_hex}) is followed by a transaction count "
        "of 1, not 0"
    )
    assert (err.score, err.disconnect) == (0, False)


def test_headers_of_2001_entries_are_misbehaviour() -> None:
    payload = _compact(MAX_HEADERS_RESULTS + 1) + (GENESIS_HEADER + b"\x00") * 2001
    err = decode_error(b"headers", payload)
    assert isinstance(err, CountLimitExceeded)
    assert (err.field, err.count, err.limit) == ("headers", 2001, 2000)
    assert err.discourage and err.disconnect


def test_headers_of_2000_entries_are_accepted() -> None:
    payload = _compact(MAX_HEADERS_RESULTS) + (GENESIS_HEADER + b"\x00") * 2000
    decoded = HeadersMessage.deserialize(payload)
    assert len(decoded.headers) == 2000


def test_addr_of_1001_entries_is_misbehaviour() -> None:
    entry = bytes(4) + bytes(8) + bytes(10) + b"\xff\xff" + bytes(4) + b"\x48\x0c"
    payload = _compact(MAX_ADDR_TO_SEND + 1) + entry * 1001
    err = decode_error(b"addr", payload)
    assert isinstance(err, CountLimitExceeded)
    assert (err.field, err.count, err.limit, err.score) == ("addresses", 1001, 1000, 100)


def test_addrv2_of_1001_entries_is_misbehaviour() -> None:
    entry = bytes(4) + b"\x09" + b"\x01" + b"\x04" + bytes((10, 0, 0, 1)) + b"\x48\x0c"
    err = decode_error(b"addrv2", _compact(1001) + entry * 1001)
    assert isinstance(err, CountLimitExceeded)
    assert (err.command, err.count, err.limit, err.score) == (b"addrv2", 1001, 1000, 100)


@pytest.mark.parametrize(
    ("command", "payload"),
    [
        (b"verack", b"\x00"),
        (b"sendheaders", b"\x00"),
        (b"wtxidrelay", b"\x01"),
        (b"ping", bytes(9)),
        (b"feefilter", bytes(9)),
        (b"inv", _inv_payload(1) + b"\x00"),
        (b"getheaders", _locator_payload(1) + b"\x00"),
        (b"block", REGTEST.genesis.serialize() + b"\x00"),
        (b"tx", REGTEST.genesis.txs[0].serialize() + b"\x00"),
    ],
)
def test_trailing_bytes_in_a_payload_are_refused(command: bytes, payload: bytes) -> None:
    err = decode_error(command, payload)
    assert (err.reason, err.command, err.payload_size) == ("trailing-bytes", command, len(payload))
    assert err.debug == f"1 bytes after the message at offset {len(payload) - 1}"
    assert (err.score, err.disconnect) == (0, False)


@pytest.mark.parametrize(
    ("command", "payload", "fragment"),
    [
        (b"ping", bytes(7), "truncated"),
        (b"sendcmpct", b"\x01", "truncated"),
        (b"inv", b"\xfd\x01\x00", "non-canonical"),
        (b"block", GENESIS_HEADER, "truncated"),
        (b"reject", b"\x02tx\x10\x00", "truncated"),  # a tx reject must carry the txid
        (b"reject", b"\x0dabcdefghijklm\x10\x00", "exceeds 12"),
    ],
)
def test_malformed_payloads_name_their_command(
    command: bytes, payload: bytes, fragment: str
) -> None:
    err = decode_error(command, payload)
    assert (err.reason, err.command, err.payload_size) == (
        "malformed-payload",
        command,
        len(payload),
    )
    assert fragment in err.debug
    assert isinstance(err.__cause__, Exception)


def test_constructors_refuse_what_no_peer_would_accept() -> None:
    item = InvVector(1, bytes(32))
    with pytest.raises(ValueError, match="50001 entries"):
        InvMessage((item,) * 50_001)
    with pytest.raises(ValueError, match="102 entries"):
        GetHeadersMessage(70016, (bytes(32),) * 102, bytes(32))
    with pytest.raises(ValueError, match="hash_stop"):
        GetBlocksMessage(70016, (), bytes(31))
    with pytest.raises(ValueError, match="inventory type"):
        InvVector(2**32, bytes(32))
    assert NotFoundMessage(()).serialize() == b"\x00"
