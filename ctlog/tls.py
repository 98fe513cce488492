"""The TLS presentation-language encoding RFC 6962 uses (RFC 5246 §4), strict both ways.

`Reader` bounds every length it reads against both the remaining bytes and the field's
declared maximum, and `Reader.finish()` rejects trailing bytes. Writers refuse values that do
not fit their field. `DigitallySigned` is the signature wrapper of SCTs and STHs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError

MAX_UINT64 = (1 << 64) - 1  # RFC 5246 §4.4: uint64, the widest integer RFC 6962 uses


class Reader:
    """Reads TLS fields from `buf` front to back; any short read raises `InputError`."""

    __slots__ = ("_buf", "_pos", "_what")

    def __init__(self, buf: bytes, what: str = "structure") -> None:
        self._buf = bytes(buf)
        self._pos = 0
        self._what = what

    @property
    def remaining(self) -> int:
        return len(self._buf) - self._pos

    def fixed(self, n: int) -> bytes:
        if n > self.remaining:
            raise InputError(
                f"{self._what} is truncated: needed {n} bytes at offset {self._pos}, "
                f"{self.remaining} left"
            )
        out = self._buf[self._pos : self._pos + n]
        self._pos += n
        return out

    def uint(self, width: int) -> int:
        return int.from_bytes(self.fixed(width), "big")

    def u8(self) -> int:
        return self.uint(1)

    def u16(self) -> int:
        return self.uint(2)

    def u24(self) -> int:
        return self.uint(3)

    def u64(self) -> int:
        return self.uint(8)

    def opaque(self, length_bytes: int, max_len: int | None = None, min_len: int = 0) -> bytes:
        """A variable-length vector `opaque x<min_len..max_len>` with a `length_bytes` prefix."""
        length = self.uint(length_bytes)
        if length < min_len or (max_len is not None and length > max_len):
            raise InputError(f"{self._what}: vector length {length} outside <{min_len}..{max_len}>")
        return self.fixed(length)

    def finish(self) -> None:
        """Reject trailing bytes: a strict decoder consumes exactly its input."""
        if self.remaining:
            raise InputError(f"{self._what} has {self.remaining} trailing bytes")


def uint(value: int, width: int) -> bytes:
    if not 0 <= value < 1 << (8 * width):
        raise UsageError(f"{value} does not fit in {width} bytes")
    return value.to_bytes(width, "big")


def opaque(data: bytes, length_bytes: int) -> bytes:
    """`data` with its `length_bytes`-wide length prefix."""
    return uint(len(data), length_bytes) + data


class HashAlgorithm(enum.IntEnum):
    SHA256 = 4  # RFC 5246 §7.4.1.4.1


class SignatureAlgorithm(enum.IntEnum):
    ECDSA = 3  # RFC 5246 §7.4.1.4.1
    ED25519 = 7  # RFC 8422 §5.1.3 / RFC 9162 use for Ed25519 keys


MAX_SIGNATURE_BYTES = 0xFFFF  # DigitallySigned.signature is opaque<0..2^16-1>


@dataclass(frozen=True, slots=True)
class DigitallySigned:
    """RFC 5246 §4.7 `digitally-signed` as RFC 6962 uses it: algorithms, then the signature."""

    hash_algorithm: int
    signature_algorithm: int
    signature: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.hash_algorithm <= 0xFF or not 0 <= self.signature_algorithm <= 0xFF:
            raise UsageError("algorithm identifiers are one byte each")
        if len(self.signature) > MAX_SIGNATURE_BYTES:
            raise UsageError("signature is longer than 65535 bytes")

    def serialize(self) -> bytes:
        return (
            uint(self.hash_algorithm, 1)
            + uint(self.signature_algorithm, 1)
            + opaque(self.signature, 2)
        )

    @classmethod
    def read(cls, reader: Reader) -> DigitallySigned:
        hash_alg = reader.u8()
        sig_alg = reader.u8()
        return cls(hash_alg, sig_alg, reader.opaque(2, MAX_SIGNATURE_BYTES))

    @classmethod
    def deserialize(cls, buf: bytes) -> DigitallySigned:
        reader = Reader(buf, "DigitallySigned")
        value = cls.read(reader)
        reader.finish()
        return value


__all__ = [
    "MAX_UINT64",
    "DigitallySigned",
    "HashAlgorithm",
    "Reader",
    "SignatureAlgorithm",
    "opaque",
    "uint",
]
