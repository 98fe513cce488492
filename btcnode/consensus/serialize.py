"""Bitcoin's wire encoding: little-endian integers and CompactSize lengths, strictly read.

`ByteReader` bounds every length it reads and refuses trailing bytes (`finish`). CompactSize
values must be canonical (the shortest encoding) and no larger than `MAX_SIZE`, as Core's
ReadCompactSize enforces; lengths that claim more bytes than are left fail before allocating.
"""

from __future__ import annotations

import struct

from btcnode.consensus.errors import SerializationError

MAX_SIZE = 0x02000000  # Core's serialize.h: no single length above 32 MiB is plausible

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")


def ser_compact_size(n: int) -> bytes:
    """The CompactSize encoding of `n` (0 ≤ n < 2**64)."""
    if n < 0xFD:
        return bytes((n,))
    if n <= 0xFFFF:
        return b"\xfd" + _U16.pack(n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + _U32.pack(n)
    return b"\xff" + _U64.pack(n)


def ser_var_bytes(data: bytes) -> bytes:
    """`data` prefixed with its CompactSize length."""
    return ser_compact_size(len(data)) + data


def read_compact_at(buf: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the CompactSize at `pos`, unchecked: for bytes this node
    produced or already validated (an IndexError past the end is the caller's to handle)."""
    first = buf[pos]
    if first < 0xFD:
        return first, pos + 1
    width = 2 if first == 0xFD else 4 if first == 0xFE else 8
    return int.from_bytes(buf[pos + 1 : pos + 1 + width], "little"), pos + 1 + width


class ByteReader:
    """A cursor over `buf` whose every read is bounded by what is left."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes | bytearray | memoryview, pos: int = 0) -> None:
        self.buf = bytes(buf)
        self.pos = pos

    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def read(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.buf):
            raise SerializationError(
                f"truncated: wanted {n} bytes at offset {self.pos}, {self.remaining()} left"
            )
        out = self.buf[self.pos : end]
        self.pos = end
        return out

    def _unpack(self, st: struct.Struct) -> int:
        if self.pos + st.size > len(self.buf):
            raise SerializationError(
                f"truncated: wanted {st.size} bytes at offset {self.pos}, {self.remaining()} left"
            )
        (value,) = st.unpack_from(self.buf, self.pos)
        self.pos += st.size
        return int(value)

    def read_u8(self) -> int:
        if self.pos >= len(self.buf):
            raise SerializationError(f"truncated: wanted 1 byte at offset {self.pos}")
        value = self.buf[self.pos]
        self.pos += 1
        return value

    def read_u16(self) -> int:
        return self._unpack(_U16)

    def read_u32(self) -> int:
        return self._unpack(_U32)

    def read_i32(self) -> int:
        return self._unpack(_I32)

    def read_u64(self) -> int:
        return self._unpack(_U64)

    def read_i64(self) -> int:
        return self._unpack(_I64)

    def read_compact_size(self, limit: int = MAX_SIZE) -> int:
        """A canonical CompactSize no larger than `limit` (Core's ReadCompactSize)."""
        first = self.read_u8()
        if first < 0xFD:
            value, minimum = first, 0
        elif first == 0xFD:
            value, minimum = self.read_u16(), 0xFD
        elif first == 0xFE:
            value, minimum = self.read_u32(), 0x10000
        else:
            value, minimum = self.read_u64(), 0x100000000
        if value < minimum:
            raise SerializationError(f"non-canonical ReadCompactSize(): {value}")
        if value > limit:
            raise SerializationError(f"ReadCompactSize(): size too large: {value} > {limit}")
        return value

    def read_count(self, min_item_bytes: int) -> int:
        """A CompactSize element count that the remaining bytes could actually hold."""
        count = self.read_compact_size()
        if count * min_item_bytes > self.remaining():
            raise SerializationError(
                f"count {count} needs at least {count * min_item_bytes} bytes, "
                f"{self.remaining()} left"
            )
        return count

    def read_var_bytes(self, limit: int = MAX_SIZE) -> bytes:
        return self.read(self.read_compact_size(limit))

    def finish(self) -> None:
        """Refuse trailing bytes."""
        if self.pos != len(self.buf):
            raise SerializationError(f"{self.remaining()} trailing bytes at offset {self.pos}")
