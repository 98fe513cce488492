"""A small strict DER walker (X.690 §8, §10): enough to cut and splice TBSCertificates.

Only what certificates use: low-tag-number identifiers and definite, minimally encoded
lengths. Every TLV is bounded by its parent; any other encoding is refused with `InputError`.
Splicing never re-encodes a field it does not change, so untouched bytes stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctlog.errors import InputError, UsageError

MAX_LENGTH_OCTETS = 3  # lengths up to 2^24-1: the largest certificate RFC 6962 can carry
HIGH_TAG_NUMBER = 0x1F  # X.690 §8.1.2.4: multi-byte tags, which X.509 never uses

SEQUENCE = 0x30
OID = 0x06
BOOLEAN = 0x01
OCTET_STRING = 0x04
CONTEXT_0 = 0xA0  # TBSCertificate version [0] EXPLICIT
CONTEXT_3 = 0xA3  # TBSCertificate extensions [3] EXPLICIT


@dataclass(frozen=True, slots=True)
class Tlv:
    """One DER element: its identifier octet, its content and its whole encoding."""

    tag: int
    value: bytes
    raw: bytes


def _read_length(buf: bytes, pos: int) -> tuple[int, int]:
    """The length at `pos` and the offset of the content after it."""
    if pos >= len(buf):
        raise InputError("DER element is truncated before its length")
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > MAX_LENGTH_OCTETS:
        raise InputError("DER length is indefinite or too long")
    octets = buf[pos + 1 : pos + 1 + count]
    if len(octets) != count:
        raise InputError("DER length is truncated")
    length = int.from_bytes(octets, "big")
    if length < 0x80 or octets[0] == 0:  # X.690 §10.1: the shortest form only
        raise InputError("DER length is not minimally encoded")
    return length, pos + 1 + count


def read_tlv(buf: bytes, pos: int = 0) -> tuple[Tlv, int]:
    """The element starting at `pos` and the offset just past it."""
    if pos >= len(buf):
        raise InputError("DER element is truncated before its tag")
    tag = buf[pos]
    if tag & HIGH_TAG_NUMBER == HIGH_TAG_NUMBER:
        raise InputError("DER high-tag-number identifiers are not used in certificates")
    length, start = _read_length(buf, pos + 1)
    end = start + length
    if end > len(buf):
        raise InputError(f"DER element at offset {pos} runs {end - len(buf)} bytes past its end")
    return Tlv(tag, buf[start:end], buf[pos:end]), end


def parse_one(buf: bytes, tag: int, what: str) -> Tlv:
    """Exactly one element with identifier `tag` and nothing after it."""
    tlv, end = read_tlv(buf)
    if tlv.tag != tag:
        raise InputError(f"{what}: expected DER tag {tag:#04x}, found {tlv.tag:#04x}")
    if end != len(buf):
        raise InputError(f"{what} has {len(buf) - end} trailing bytes")
    return tlv


def children(value: bytes) -> list[Tlv]:
    """The elements a constructed value holds, in order, covering it exactly."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(value):
        tlv, pos = read_tlv(value, pos)
        out.append(tlv)
    return out


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(octets) > MAX_LENGTH_OCTETS:
        raise UsageError(f"DER element of {length} bytes is too large")
    return bytes([0x80 | len(octets)]) + octets


def encode_tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def encode_oid(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER (X.690 §8.19), e.g. for matching extnID."""
    arcs = [int(arc) for arc in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise UsageError(f"{dotted!r} is not a valid object identifier")
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


__all__ = [
    "BOOLEAN",
    "CONTEXT_0",
    "CONTEXT_3",
    "OCTET_STRING",
    "OID",
    "SEQUENCE",
    "Tlv",
    "children",
    "encode_length",
    "encode_oid",
    "encode_tlv",
    "parse_one",
    "read_tlv",
]
