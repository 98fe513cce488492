"""Batch framing: round trip, bounds, truncation and trailing bytes."""

from __future__ import annotations

import struct
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.net import DecodeError
from common.net._frame import (
    COUNT_BYTES,
    LENGTH_BYTES,
    MAX_PAYLOADS_PER_FRAME,
    decode_batch,
    encode_batch,
    frame_limit,
    take_batch,
)

LIMIT = 64


@given(st.lists(st.binary(max_size=LIMIT), min_size=1, max_size=20))
def test_round_trip(payloads: list[bytes]) -> None:
    assert decode_batch(encode_batch(payloads), max_msg_bytes=LIMIT * 20) == payloads


@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_decode_error(frame: bytes) -> None:
    try:
        payloads = decode_batch(frame, max_msg_bytes=LIMIT)
    except DecodeError as exc:
        assert exc.what
    else:
        assert encode_batch(payloads) == frame


def test_one_maximal_payload_fits_a_frame() -> None:
    frame = encode_batch([b"x" * LIMIT])
    assert len(frame) == frame_limit(LIMIT)
    assert decode_batch(frame, LIMIT) == [b"x" * LIMIT]


@pytest.mark.parametrize(
    ("frame", "what"),
    [
        (b"", "frame count"),
        (struct.pack(">I", 0), "frame count"),
        (struct.pack(">I", MAX_PAYLOADS_PER_FRAME + 1), "frame count"),
        (struct.pack(">I", 3) + struct.pack(">I", 0), "frame count"),
        (struct.pack(">II", 1, 5) + b"abc", "payload length"),
        (struct.pack(">II", 1, LIMIT + 1) + b"x" * (LIMIT + 1), "frame size"),
        (struct.pack(">II", 1, 2) + b"ab" + b"!", "trailing bytes"),
        (b"\x00" * (frame_limit(LIMIT) + 1), "frame size"),
    ],
    ids=["empty", "zero", "too-many", "count-exceeds", "short", "oversize", "trailing", "huge"],
)
def test_bad_frames_are_rejected(frame: bytes, what: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_batch(frame, LIMIT)
    assert info.value.what == what


def test_length_claiming_more_than_remains_is_rejected() -> None:
    frame = struct.pack(">II", 2, 4) + b"abcd" + struct.pack(">I", 0xFFFFFFFF) + b"x" * 8
    with pytest.raises(DecodeError) as info:
        decode_batch(frame, LIMIT)
    assert info.value.what == "payload length"
    assert "payload 1" in str(info.value)


def test_take_batch_respects_the_frame_budget() -> None:
    queue = deque([b"a" * 10, b"b" * 10, b"c" * 10])
    budget = COUNT_BYTES + 2 * (LENGTH_BYTES + 10)
    assert take_batch(queue, budget) == [b"a" * 10, b"b" * 10]
    assert list(queue) == [b"c" * 10]
    assert take_batch(queue, budget) == [b"c" * 10]
    assert not queue


def test_take_batch_respects_the_payload_count_limit() -> None:
    queue = deque([b""] * (MAX_PAYLOADS_PER_FRAME + 5))
    assert len(take_batch(queue, frame_limit(1 << 20))) == MAX_PAYLOADS_PER_FRAME
    assert len(queue) == 5


def test_encode_refuses_empty_batches() -> None:
    with pytest.raises(ValueError):
        encode_batch([])
