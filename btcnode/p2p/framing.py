"""The Bitcoin v1 P2P message frame: a 24-byte header, then the payload.

Header layout (Core's CMessageHeader, protocol.h): 4 bytes of network magic (the chain's
message start), a 12-byte message type (printable ASCII, NUL-padded, nothing but NULs after
the first NUL), the payload length (uint32 little-endian) and the first 4 bytes of
SHA-256d(payload).

`FrameDecoder` is sans-I/O: the connection driver feeds it whatever the socket returned and
gets back the complete frames. It reacts as Core's V1Transport does: a wrong magic or an
announced length above `MAX_PROTOCOL_MESSAGE_LENGTH` is fatal as soon as the header is in
(the payload is never awaited); a wrong checksum or an invalid message type drops that one
frame and leaves the stream in sync. Invariant: after `feed` returns, the buffer holds less
than one frame (< HEADER_SIZE + MAX_PROTOCOL_MESSAGE_LENGTH bytes), and every payload is
copied exactly once out of it.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

from btcnode.consensus.hashes import sha256d
from btcnode.p2p.errors import IGNORE_SCORE, FramingError, P2PMisuse

MESSAGE_START_SIZE = 4  # the network magic, Core's MessageStartChars
COMMAND_SIZE = 12  # Core's CMessageHeader::MESSAGE_TYPE_SIZE
CHECKSUM_SIZE = 4  # first bytes of SHA-256d(payload)
HEADER_SIZE = MESSAGE_START_SIZE + COMMAND_SIZE + 4 + CHECKSUM_SIZE
MAX_PROTOCOL_MESSAGE_LENGTH = 4_000_000  # Core's net.h: one maximal block; refused before reading

_HEADER = struct.Struct("<4s12sI4s")


@dataclass(frozen=True, slots=True)
class Frame:
    """One complete, checksummed message: its type name (without padding) and payload."""

    command: bytes
    payload: bytes


def checksum(payload: bytes) -> bytes:
    """The header checksum of `payload`: the first 4 bytes of SHA-256d."""
    return sha256d(payload)[:CHECKSUM_SIZE]


@functools.lru_cache(maxsize=256)
def command_name(raw: bytes) -> bytes | None:
    """The message type in a 12-byte header field, or None if Core would call it invalid.

    Core's CMessageHeader::IsMessageTypeValid: every byte before the first NUL is printable
    ASCII (0x20..0x7E) and every byte after it is NUL.
    """
    name, _, padding = raw.partition(b"\x00")
    if padding.count(0) != len(padding):
        return None
    if any(byte < 0x20 or byte > 0x7E for byte in name):
        return None
    return name


def pad_command(command: bytes) -> bytes:
    """`command` NUL-padded to 12 bytes; refuses names Core could not receive."""
    if not 0 < len(command) <= COMMAND_SIZE:
        raise P2PMisuse(f"message type must be 1..{COMMAND_SIZE} bytes, got {command!r}")
    padded = command.ljust(COMMAND_SIZE, b"\x00")
    if command_name(padded) != command:
        raise P2PMisuse(f"message type must be printable ASCII without NUL: {command!r}")
    return padded


def encode_header(magic: bytes, command: bytes, payload: bytes) -> bytes:
    """The 24-byte header for `payload`; send it followed by the payload itself."""
    if len(magic) != MESSAGE_START_SIZE:
        raise P2PMisuse(f"magic must be {MESSAGE_START_SIZE} bytes, got {len(magic)}")
    if len(payload) > MAX_PROTOCOL_MESSAGE_LENGTH:
        raise P2PMisuse(
            f"payload of {len(payload)} bytes exceeds {MAX_PROTOCOL_MESSAGE_LENGTH}; "
            "no peer would accept it"
        )
    return _HEADER.pack(magic, pad_command(command), len(payload), checksum(payload))


def encode_frame(magic: bytes, command: bytes, payload: bytes) -> bytes:
    """Header and payload as one byte string."""
    return encode_header(magic, command, payload) + payload


class FrameDecoder:
    """Incremental decoder of a v1 byte stream from one peer (sans-I/O).

    `feed(data)` returns the frames completed by `data`, in order. On a bad frame it raises
    `FramingError`; `error.decoded` holds the good frames that came before it in the same
    call. After a non-fatal error (`error.disconnect` is False: bad checksum, invalid
    message type) the bad frame has been consumed and `feed(b"")` continues with whatever
    followed it. After a fatal one the decoder refuses further input.
    """

    __slots__ = ("_buf", "_failed", "magic")

    def __init__(self, magic: bytes) -> None:
        if len(magic) != MESSAGE_START_SIZE:
            raise P2PMisuse(f"magic must be {MESSAGE_START_SIZE} bytes, got {len(magic)}")
        self.magic = bytes(magic)
        self._buf = bytearray()
        self._failed: FramingError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        if self._failed is not None:
            raise P2PMisuse(f"decoder already failed ({self._failed.reason}); close the peer")
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        pos = 0
        try:
            while len(buf) - pos >= HEADER_SIZE:
                magic, raw_command, size, check = _HEADER.unpack_from(buf, pos)
                self._check_header(magic, raw_command, size)
                end = pos + HEADER_SIZE + size
                if end > len(buf):
                    break
                with memoryview(buf) as view:
                    payload = bytes(view[pos + HEADER_SIZE : end])
                pos = end
                frames.append(_finish_frame(raw_command, check, payload))
        except FramingError as exc:
            exc.decoded = tuple(frames)
            raise
        finally:
            if pos:
                del buf[:pos]
        return frames

    def _check_header(self, magic: bytes, raw_command: bytes, size: int) -> None:
        """Core's V1Transport::readHeader: wrong magic and oversize length disconnect."""
        if magic != self.magic:
            self._failed = FramingError(
                "bad-magic",
                f"wrong message start {magic.hex()}, expected {self.magic.hex()}",
                command=command_name(raw_command),
                score=IGNORE_SCORE,
                disconnect=True,
                expected=self.magic,
                received=magic,
            )
            raise self._failed
        if size > MAX_PROTOCOL_MESSAGE_LENGTH:
            self._failed = FramingError(
                "oversize-message",
                f"announced {size} bytes, at most {MAX_PROTOCOL_MESSAGE_LENGTH} allowed",
                command=command_name(raw_command),
                score=IGNORE_SCORE,
                disconnect=True,
                payload_size=size,
            )
            raise self._failed


def _finish_frame(raw_command: bytes, check: bytes, payload: bytes) -> Frame:
    """Core's V1Transport::GetReceivedMessage: a bad checksum or type drops the message."""
    calculated = checksum(payload)
    name = command_name(raw_command)
    if calculated != check:
        raise FramingError(
            "bad-checksum",
            f"checksum {check.hex()}, calculated {calculated.hex()} over {len(payload)} bytes",
            command=name,
            score=IGNORE_SCORE,
            disconnect=False,
            payload_size=len(payload),
            expected=calculated,
            received=check,
        )
    if name is None:
        raise FramingError(
            "bad-command",
            f"invalid message type field {raw_command.hex()}",
            command=None,
            score=IGNORE_SCORE,
            disconnect=False,
            payload_size=len(payload),
            received=raw_command,
        )
    return Frame(name, payload)
