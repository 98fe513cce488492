"""Base58 and Base58Check (Core's base58.cpp): the legacy address and WIF encoding.

Base58 maps leading zero bytes to leading '1's and the rest as one big-endian number in the
alphabet without 0, O, I and l. Base58Check appends the first four bytes of SHA-256d of the
payload. Decoding is strict: no whitespace, no character outside the alphabet, and a string
above `MAX_BASE58_CHARS` is refused before any arithmetic (the big-number work is quadratic).
"""

from __future__ import annotations

from btcnode.address.errors import AddressError, AddressProblem
from btcnode.consensus.hashes import sha256d

__all__ = [
    "BASE58_ALPHABET",
    "MAX_BASE58_CHARS",
    "b58check_decode",
    "b58check_encode",
    "b58decode",
    "b58encode",
]

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
MAX_BASE58_CHARS = 1000  # far above any key or address (an xprv is 111); bounds the work
CHECKSUM_BYTES = 4  # Core's DecodeBase58Check: the first 4 bytes of SHA-256d

_INDEX = {char: value for value, char in enumerate(BASE58_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Core's EncodeBase58."""
    zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(BASE58_ALPHABET[digit])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Core's DecodeBase58 without its whitespace tolerance; `AddressError` on bad input."""
    if len(text) > MAX_BASE58_CHARS:
        raise AddressError(
            AddressProblem.BAD_LENGTH,
            f"Base58 string of {len(text)} characters (at most {MAX_BASE58_CHARS})",
        )
    number = 0
    for position, char in enumerate(text):
        value = _INDEX.get(char)
        if value is None:
            raise AddressError(
                AddressProblem.BAD_CHARACTER,
                f"invalid Base58 character {char!r} at position {position}",
            )
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * zeros + body


def b58check_encode(payload: bytes) -> str:
    return b58encode(payload + sha256d(payload)[:CHECKSUM_BYTES])


def b58check_decode(text: str) -> bytes:
    """The payload of a Base58Check string, its checksum verified."""
    raw = b58decode(text)
    if len(raw) < CHECKSUM_BYTES:
        raise AddressError(
            AddressProblem.BAD_LENGTH, f"Base58Check string decodes to only {len(raw)} bytes"
        )
    payload, checksum = raw[:-CHECKSUM_BYTES], raw[-CHECKSUM_BYTES:]
    expected = sha256d(payload)[:CHECKSUM_BYTES]
    if checksum != expected:
        raise AddressError(
            AddressProblem.BAD_CHECKSUM,
            f"invalid Base58 checksum: got {checksum.hex()}, expected {expected.hex()}",
        )
    return payload
