"""The v1 frame: exact header bytes, incremental decoding in any chunking, and each refusal
asserted by the evidence it carries and the action Core would take."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.consensus.params import REGTEST
from btcnode.p2p import (
    HEADER_SIZE,
    MAX_PROTOCOL_MESSAGE_LENGTH,
    Frame,
    FrameDecoder,
    FramingError,
    P2PMisuse,
    encode_frame,
)

MAGIC = REGTEST.message_start


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def _raw_frame(command_field: bytes, payload: bytes, *, magic: bytes = MAGIC) -> bytes:
    """A frame built by hand, with any 12-byte command field."""
    assert len(command_field) == 12
    return magic + command_field + len(payload).to_bytes(4, "little") + _checksum(payload) + payload


def _feed_in_pieces(decoder: FrameDecoder, data: bytes, cuts: list[int]) -> list[Frame]:
    frames: list[Frame] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        frames.extend(decoder.feed(data[start:cut]))
        start = cut
    return frames


SAMPLE = [
    Frame(b"version", bytes(range(100))),
    Frame(b"verack", b""),
    Frame(b"ping", (0x0123456789ABCDEF).to_bytes(8, "little")),
    Frame(b"block", random.Random(7).randbytes(70_000)),
    Frame(b"sendheaders", b""),
]
STREAM = b"".join(encode_frame(MAGIC, f.command, f.payload) for f in SAMPLE)


def test_regtest_verack_frame_is_cores_bytes() -> None:
    expected = bytes.fromhex("fabfb5da76657261636b000000000000000000005df6e0e2")
    assert REGTEST.message_start.hex() == "fabfb5da"
    assert encode_frame(MAGIC, b"verack", b"") == expected
    assert FrameDecoder(MAGIC).feed(expected) == [Frame(b"verack", b"")]


def test_header_fields_are_laid_out_as_core_reads_them() -> None:
    payload = b"\x01\x02\x03"
    frame = encode_frame(MAGIC, b"ping", payload)
    assert frame[:4] == MAGIC
    assert frame[4:16] == b"ping" + bytes(8)
    assert frame[16:20] == (3).to_bytes(4, "little")
    assert frame[20:24] == _checksum(payload)
    assert frame[24:] == payload
    assert len(frame) == HEADER_SIZE + 3


def test_byte_by_byte_yields_every_frame_once() -> None:
    decoder = FrameDecoder(MAGIC)
    frames = _feed_in_pieces(decoder, STREAM, list(range(1, len(STREAM))))
    assert frames == SAMPLE
    assert decoder.buffered == 0


@pytest.mark.parametrize("seed", range(20))
def test_random_chunks_yield_the_same_frames(seed: int) -> None:
    rng = random.Random(seed)
    cuts = rng.sample(range(1, len(STREAM)), rng.randint(1, 40))
    decoder = FrameDecoder(MAGIC)
    assert _feed_in_pieces(decoder, STREAM, cuts) == SAMPLE
    assert decoder.buffered == 0


def test_two_frames_in_one_chunk_and_a_partial_third() -> None:
    first = encode_frame(MAGIC, b"ping", bytes(8))
    second = encode_frame(MAGIC, b"pong", b"\xff" * 8)
    third = encode_frame(MAGIC, b"getaddr", b"")
    decoder = FrameDecoder(MAGIC)
    frames = decoder.feed(first + second + third[:10])
    assert frames == [Frame(b"ping", bytes(8)), Frame(b"pong", b"\xff" * 8)]
    assert decoder.buffered == 10
    assert decoder.feed(third[10:]) == [Frame(b"getaddr", b"")]
    assert decoder.buffered == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0x20, 0x7E), min_size=1, max_size=12).map(bytes),
            st.binary(max_size=300),
        ),
        max_size=6,
    ),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_any_chunking_of_any_frames_round_trips(
    frames: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(encode_frame(MAGIC, c, p) for c, p in frames)
    decoder = FrameDecoder(MAGIC)
    got = _feed_in_pieces(decoder, stream, [c for c in cuts if c <= len(stream)])
    assert got == [Frame(c, p) for c, p in frames]


def test_bad_magic_disconnects_and_keeps_the_frames_before_it() -> None:
    good = encode_frame(MAGIC, b"verack", b"")
    wrong = bytes.fromhex("f9beb4d9")  # mainnet's message start on a regtest connection
    decoder = FrameDecoder(MAGIC)
    with pytest.raises(FramingError) as info:
        decoder.feed(good + encode_frame(wrong, b"verack", b""))
    err = info.value
    assert (err.reason, err.expected, err.received) == ("bad-magic", MAGIC, wrong)
    assert err.command == b"verack"
    assert err.disconnect and not err.discourage
    assert err.decoded == (Frame(b"verack", b""),)
    with pytest.raises(P2PMisuse, match="bad-magic"):
        decoder.feed(good)


def test_bad_checksum_drops_only_that_frame() -> None:
    payload = (42).to_bytes(8, "little")
    bad = bytearray(encode_frame(MAGIC, b"ping", payload))
    bad[20] ^= 0x01
    after = encode_frame(MAGIC, b"verack", b"")
    decoder = FrameDecoder(MAGIC)
    with pytest.raises(FramingError) as info:
        decoder.feed(bytes(bad) + after)
    err = info.value
    assert err.reason == "bad-checksum"
    assert err.command == b"ping" and err.payload_size == 8
    assert err.expected == _checksum(payload)
    assert err.received == bytes(bad[20:24]) != err.expected
    assert not err.disconnect and err.score == 0
    assert err.decoded == ()
    assert decoder.feed(b"") == [Frame(b"verack", b"")]


def test_oversize_length_fails_on_the_header_alone() -> None:
    header = MAGIC + b"block".ljust(12, b"\x00")
    header += (MAX_PROTOCOL_MESSAGE_LENGTH + 1).to_bytes(4, "little") + bytes(4)
    decoder = FrameDecoder(MAGIC)
    assert decoder.feed(header[:-1]) == []
    with pytest.raises(FramingError) as info:
        decoder.feed(header[-1:])
    err = info.value
    assert err.reason == "oversize-message"
    assert err.payload_size == MAX_PROTOCOL_MESSAGE_LENGTH + 1
    assert err.command == b"block"
    assert err.disconnect


def test_the_largest_allowed_length_waits_for_its_payload() -> None:
    header = MAGIC + b"block".ljust(12, b"\x00")
    header += MAX_PROTOCOL_MESSAGE_LENGTH.to_bytes(4, "little") + bytes(4)
    decoder = FrameDecoder(MAGIC)
    assert decoder.feed(header + bytes(1000)) == []
    assert decoder.buffered == HEADER_SIZE + 1000


@pytest.mark.parametrize(
    "field",
    [
        b"ver\x00ack" + bytes(5),  # a non-NUL after the first NUL
        b"verack" + bytes(5) + b"x",  # a non-NUL in the last padding byte
        b"ver\x7fack" + bytes(5),  # DEL is not printable
        b"ver\x19ack" + bytes(5),  # a control character
        b"verack\xe9" + bytes(5),  # not ASCII
    ],
)
def test_malformed_command_drops_the_frame_and_keeps_the_stream(field: bytes) -> None:
    decoder = FrameDecoder(MAGIC)
    with pytest.raises(FramingError) as info:
        decoder.feed(_raw_frame(field, b"abc") + encode_frame(MAGIC, b"pong", bytes(8)))
    err = info.value
    assert err.reason == "bad-command"
    assert err.received == field and err.command is None and err.payload_size == 3
    assert not err.disconnect
    assert decoder.feed(b"") == [Frame(b"pong", bytes(8))]


def test_all_nul_command_is_valid_and_empty() -> None:
    assert FrameDecoder(MAGIC).feed(_raw_frame(bytes(12), b"x")) == [Frame(b"", b"x")]


def test_full_twelve_byte_command_needs_no_nul() -> None:
    frame = encode_frame(MAGIC, b"abcdefghijkl", b"")
    assert FrameDecoder(MAGIC).feed(frame) == [Frame(b"abcdefghijkl", b"")]


@pytest.mark.parametrize(
    ("magic", "command", "size", "fragment"),
    [
        (MAGIC, b"abcdefghijklm", 0, "1..12 bytes"),
        (MAGIC, b"", 0, "1..12 bytes"),
        (MAGIC, b"ver\x00ack", 0, "printable"),
        (MAGIC, b"verack\n", 0, "printable"),
        (b"\xfa\xbf\xb5", b"verack", 0, "magic"),
        (MAGIC, b"block", MAX_PROTOCOL_MESSAGE_LENGTH + 1, "exceeds"),
    ],
)
def test_encoding_refuses_what_no_peer_could_read(
    magic: bytes, command: bytes, size: int, fragment: str
) -> None:
    with pytest.raises(P2PMisuse, match=fragment):
        encode_frame(magic, command, bytes(size))
