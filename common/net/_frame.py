"""Data frames: several payloads batched into one WebSocket binary frame.

    frame = count (u32) | count * (length (u32) | payload)

A frame holds 1..MAX_PAYLOADS_PER_FRAME payloads, each at most `max_msg_bytes`, and is at most
`frame_limit(max_msg_bytes)` bytes, so one maximal payload always fits. Decoding checks every
length against what remains, rejects trailing bytes, and returns all payloads or raises: a
receiver never hands up part of a frame.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence

from common.net._errors import DecodeError

COUNT_BYTES = 4  # u32 payload count at the start of a frame
LENGTH_BYTES = 4  # u32 length before each payload
MAX_PAYLOADS_PER_FRAME = 4096  # bounds the decode work and inbound burst of a single frame
_U32 = struct.Struct(">I")


def frame_limit(max_msg_bytes: int) -> int:
    """The largest frame a transport with this payload bound sends or accepts."""
    return COUNT_BYTES + LENGTH_BYTES + max_msg_bytes


def encode_batch(payloads: Sequence[bytes]) -> bytes:
    """One frame carrying `payloads` in order."""
    if not 1 <= len(payloads) <= MAX_PAYLOADS_PER_FRAME:
        raise ValueError(f"a frame carries 1..{MAX_PAYLOADS_PER_FRAME} payloads")
    parts = [_U32.pack(len(payloads))]
    pack = _U32.pack
    for payload in payloads:
        parts.append(pack(len(payload)))
        parts.append(payload)
    return b"".join(parts)


def take_batch(queue: deque[bytes], max_frame_bytes: int) -> list[bytes]:
    """Pop from the left of `queue` as many payloads as fit in one frame (at least one).

    The first payload is always taken; callers keep every queued payload within
    `max_frame_bytes - COUNT_BYTES - LENGTH_BYTES`.
    """
    first = queue.popleft()
    batch = [first]
    size = COUNT_BYTES + LENGTH_BYTES + len(first)
    while queue and len(batch) < MAX_PAYLOADS_PER_FRAME:
        nxt = LENGTH_BYTES + len(queue[0])
        if size + nxt > max_frame_bytes:
            break
        size += nxt
        batch.append(queue.popleft())
    return batch


def decode_batch(frame: bytes, max_msg_bytes: int) -> list[bytes]:
    """The payloads of one frame, in order; `DecodeError` if any length or count is off."""
    limit = frame_limit(max_msg_bytes)
    if len(frame) > limit:
        raise DecodeError(f"{len(frame)} bytes, limit {limit}", what="frame size")
    if len(frame) < COUNT_BYTES:
        raise DecodeError("shorter than its count field", what="frame count")
    (count,) = _U32.unpack_from(frame, 0)
    if not 1 <= count <= MAX_PAYLOADS_PER_FRAME:
        detail = f"{count} payloads, allowed 1..{MAX_PAYLOADS_PER_FRAME}"
        raise DecodeError(detail, what="frame count")
    if COUNT_BYTES + count * LENGTH_BYTES > len(frame):
        raise DecodeError(f"{count} payloads cannot fit in {len(frame)} bytes", what="frame count")
    payloads = []
    offset = COUNT_BYTES
    end = len(frame)
    for index in range(count):
        if offset + LENGTH_BYTES > end:
            raise DecodeError(f"payload {index} length is truncated", what="payload length")
        (size,) = _U32.unpack_from(frame, offset)
        offset += LENGTH_BYTES
        if size > max_msg_bytes or size > end - offset:
            detail = f"payload {index} claims {size} bytes, {end - offset} remain"
            raise DecodeError(f"{detail}, limit {max_msg_bytes}", what="payload length")
        payloads.append(frame[offset : offset + size])
        offset += size
    if offset != end:
        raise DecodeError(f"{end - offset} bytes after the last payload", what="trailing bytes")
    return payloads
