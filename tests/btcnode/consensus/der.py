"""ECDSA signatures DER-encoded by hand, for tests that build malformed or malleated ones."""

from __future__ import annotations

from btcnode.consensus.script.signature import SECP256K1_ORDER, parse_der_lax


def der_integer(value: int, *, pad: int = 0) -> bytes:
    """An INTEGER element of `value`: minimal, with the zero byte a set high bit needs, then
    `pad` needless zero bytes in front (not strict DER when `pad` > 0)."""
    raw = value.to_bytes(33, "big").lstrip(b"\x00") or b"\x00"
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    raw = b"\x00" * pad + raw
    return b"\x02" + bytes((len(raw),)) + raw


def der_signature(r: int, s: int, *, pad_r: int = 0) -> bytes:
    """The DER SEQUENCE of `r` and `s`, without a hash type byte."""
    body = der_integer(r, pad=pad_r) + der_integer(s)
    return b"\x30" + bytes((len(body),)) + body


def high_s(sig: bytes) -> bytes:
    """`sig` (DER and hash type byte) with S replaced by order - S: it still verifies, but
    is no longer low-S."""
    parsed = parse_der_lax(sig[:-1])
    assert parsed is not None
    r, s = parsed
    return der_signature(r, SECP256K1_ORDER - s) + sig[-1:]
