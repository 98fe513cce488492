"""Bech32 (BIP173) and bech32m (BIP350) strings, and segwit addresses built on them.

A bech32 string is `hrp` + "1" + data (5-bit groups in `CHARSET`) + a 6-character checksum;
the checksum constant tells bech32 (1) from bech32m (0x2bc830a3). A segwit address's data is
the witness version followed by the program converted from 8-bit to 5-bit groups; version 0
must use bech32 and versions 1..16 bech32m (BIP350). Every decoding failure is an
`AddressError` naming the problem.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from btcnode.address.errors import AddressError, AddressProblem

__all__ = [
    "CHARSET",
    "MAX_BECH32_CHARS",
    "Bech32Encoding",
    "bech32_decode",
    "bech32_encode",
    "convert_bits",
    "decode_segwit_address",
    "encode_segwit_address",
]

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
MAX_BECH32_CHARS = 90  # BIP173: the checksum's error-detection guarantees hold up to here
CHECKSUM_CHARS = 6  # BIP173
MAX_WITNESS_VERSION = 16  # BIP141: OP_0..OP_16
MIN_PROGRAM_BYTES = 2  # BIP141
MAX_PROGRAM_BYTES = 40  # BIP141
V0_PROGRAM_BYTES = (20, 32)  # BIP141: P2WPKH and P2WSH are the only version 0 programs
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_INDEX = {char: value for value, char in enumerate(CHARSET)}


class Bech32Encoding(enum.Enum):
    """The checksum constant that distinguishes the two encodings."""

    BECH32 = 1  # BIP173
    BECH32M = 0x2BC830A3  # BIP350


def _polymod(values: Sequence[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= generator
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _create_checksum(hrp: str, data: Sequence[int], encoding: Bech32Encoding) -> list[int]:
    polymod = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ encoding.value
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(CHECKSUM_CHARS)]


def bech32_encode(hrp: str, data: Sequence[int], encoding: Bech32Encoding) -> str:
    """`hrp` + "1" + data + checksum, in lower case; `data` are 5-bit values."""
    if any(not 0 <= value < 32 for value in data):
        raise AddressError(AddressProblem.BAD_CHARACTER, "bech32 data values must be 5-bit")
    checksum = _create_checksum(hrp.lower(), data, encoding)
    return hrp.lower() + "1" + "".join(CHARSET[d] for d in [*data, *checksum])


def _check_characters(text: str) -> None:
    if len(text) > MAX_BECH32_CHARS:
        raise AddressError(
            AddressProblem.BAD_LENGTH,
            f"bech32 string of {len(text)} characters (at most {MAX_BECH32_CHARS})",
        )
    for position, char in enumerate(text):
        if not 33 <= ord(char) <= 126:
            raise AddressError(
                AddressProblem.BAD_CHARACTER,
                f"character {char!r} at position {position} is outside US-ASCII 33..126",
            )
    if text.lower() != text and text.upper() != text:
        raise AddressError(AddressProblem.MIXED_CASE, "bech32 string mixes upper and lower case")


def bech32_decode(text: str) -> tuple[Bech32Encoding, str, list[int]]:
    """(encoding, hrp in lower case, 5-bit data without the checksum) of a bech32 string."""
    _check_characters(text)
    text = text.lower()
    separator = text.rfind("1")
    if separator < 0:
        raise AddressError(AddressProblem.BAD_FORMAT, "bech32 string has no separator '1'")
    if separator == 0:
        raise AddressError(AddressProblem.BAD_FORMAT, "bech32 string has an empty HRP")
    hrp, rest = text[:separator], text[separator + 1 :]
    if len(rest) < CHECKSUM_CHARS:
        raise AddressError(
            AddressProblem.BAD_LENGTH,
            f"bech32 data part of {len(rest)} characters is shorter than the checksum",
        )
    data = []
    for offset, char in enumerate(rest):
        value = _INDEX.get(char)
        if value is None:
            position = separator + 1 + offset
            raise AddressError(
                AddressProblem.BAD_CHARACTER,
                f"invalid bech32 character {char!r} at position {position}",
            )
        data.append(value)
    constant = _polymod([*_hrp_expand(hrp), *data])
    for encoding in Bech32Encoding:
        if constant == encoding.value:
            return encoding, hrp, data[:-CHECKSUM_CHARS]
    raise AddressError(AddressProblem.BAD_CHECKSUM, "invalid bech32 checksum")


def convert_bits(data: Sequence[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    """Regroup `data` from `from_bits`-bit to `to_bits`-bit values (BIP173's convertbits).

    Without `pad`, leftover bits must be fewer than `from_bits` and all zero."""
    acc = bits = 0
    out = []
    max_value = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            raise AddressError(
                AddressProblem.BAD_CHARACTER, f"value {value} is not {from_bits}-bit"
            )
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & max_value)
    elif bits >= from_bits:
        raise AddressError(AddressProblem.BAD_PADDING, f"{bits} bits of padding (at most 4)")
    elif (acc << (to_bits - bits)) & max_value:
        raise AddressError(AddressProblem.BAD_PADDING, "non-zero padding bits")
    return out


def check_witness_program(version: int, program: bytes) -> None:
    """BIP141's version and program-length rules."""
    if not 0 <= version <= MAX_WITNESS_VERSION:
        raise AddressError(AddressProblem.BAD_WITNESS_VERSION, f"witness version {version} > 16")
    if not MIN_PROGRAM_BYTES <= len(program) <= MAX_PROGRAM_BYTES:
        raise AddressError(
            AddressProblem.BAD_PROGRAM_LENGTH,
            f"witness program of {len(program)} bytes "
            f"(must be {MIN_PROGRAM_BYTES}..{MAX_PROGRAM_BYTES})",
        )
    if version == 0 and len(program) not in V0_PROGRAM_BYTES:
        raise AddressError(
            AddressProblem.BAD_PROGRAM_LENGTH,
            f"version 0 witness program of {len(program)} bytes (must be 20 or 32, per BIP141)",
        )


def _encoding_for(version: int) -> Bech32Encoding:
    return Bech32Encoding.BECH32 if version == 0 else Bech32Encoding.BECH32M  # BIP350


def encode_segwit_address(hrp: str, version: int, program: bytes) -> str:
    check_witness_program(version, program)
    data = [version, *convert_bits(program, 8, 5, pad=True)]
    return bech32_encode(hrp, data, _encoding_for(version))


def decode_segwit_address(hrp: str, address: str) -> tuple[int, bytes]:
    """(witness version, program) of `address`, which must carry `hrp`."""
    encoding, found_hrp, data = bech32_decode(address)
    if found_hrp != hrp:
        raise AddressError(
            AddressProblem.WRONG_NETWORK,
            f"segwit address prefix {found_hrp!r} is not this network's {hrp!r}",
        )
    if not data:
        raise AddressError(AddressProblem.EMPTY_DATA, "segwit address has an empty data part")
    version = data[0]
    program = bytes(convert_bits(data[1:], 5, 8, pad=False))
    check_witness_program(version, program)
    expected = _encoding_for(version)
    if encoding is not expected:
        raise AddressError(
            AddressProblem.WRONG_CHECKSUM_KIND,
            f"version {version} witness address must use {expected.name.lower()} (BIP350), "
            f"not {encoding.name.lower()}",
        )
    return version, program
