"""Signature encodings: BIP66 strict DER, Core's lax DER parser, low S, key encodings."""

from __future__ import annotations

import hashlib
import random

import coincurve
import pytest

from btcnode.consensus.script import signature as sigmod
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.flags import ScriptFlags
from btcnode.consensus.script.signature import (
    SECP256K1_HALF_ORDER,
    SECP256K1_ORDER,
    check_pubkey_encoding,
    check_signature_encoding,
    is_compressed_or_uncompressed_pubkey,
    is_defined_hashtype_signature,
    is_low_der_signature,
    is_valid_signature_encoding,
    parse_der_lax,
    verify_ecdsa,
)
from tests.btcnode.consensus.der import der_integer, der_signature

KEY = coincurve.PrivateKey(b"\x42" * 32)
PUB = KEY.public_key.format()
MSG = hashlib.sha256(b"message").digest()
DER = KEY.sign(MSG, hasher=None)


def _rs() -> tuple[int, int]:
    parsed = parse_der_lax(DER)
    assert parsed is not None
    return parsed


# -- Core's lax parser ------------------------------------------------------------------------


def test_lax_parses_strict_der_exactly() -> None:
    r, s = _rs()
    assert der_signature(r, s) == DER
    assert s <= SECP256K1_HALF_ORDER  # libsecp256k1 signs low S


def _raw(value: int) -> bytes:
    return value.to_bytes(32, "big")


# name -> (encoding of (r, s), what the lax parser gives: "rs", "zero" (overflow) or None)
LAX_CASES = {
    "long-form sequence length is skipped": (
        lambda r, s: b"\x30\x81\x00" + der_integer(r) + der_integer(s),
        "rs",
    ),
    "zero-padded R": (lambda r, s: b"\x30\x00" + der_integer(r, pad=3) + der_integer(s), "rs"),
    "long-form R length": (lambda r, s: b"\x30\x00\x02\x81\x20" + _raw(r) + der_integer(s), "rs"),
    "long-form length, zero bytes": (
        lambda r, s: b"\x30\x00\x02\x83\x00\x00\x20" + _raw(r) + der_integer(s),
        "rs",
    ),
    "four length bytes, zeros first": (
        lambda r, s: b"\x30\x00\x02\x84\x00\x00\x00\x20" + _raw(r) + der_integer(s),
        "rs",
    ),
    "trailing garbage after S": (lambda r, s: der_signature(r, s) + b"\xde\xad", "rs"),
    "R negative (no sign padding)": (
        lambda r, s: b"\x30\x00\x02\x20" + _raw(r) + der_integer(s),
        "rs",
    ),
    "R of 33 significant bytes": (
        lambda r, s: b"\x30\x00\x02\x21\x01" + _raw(r) + der_integer(s),
        "zero",
    ),
    "R equal to the order": (lambda r, s: der_signature(SECP256K1_ORDER, s), "zero"),
    "four nonzero length bytes": (lambda r, s: b"\x30\x00\x02\x84\x01\x00\x00\x20" + _raw(r), None),
    "R longer than the input": (lambda r, s: b"\x30\x00\x02\x40" + _raw(r), None),
    "wrong R tag": (lambda r, s: b"\x30\x00\x03\x20" + _raw(r) + der_integer(s), None),
    "missing S": (lambda r, s: b"\x30\x00" + der_integer(r), None),
    "wrong sequence tag": (lambda r, s: b"\x31" + der_signature(r, s)[1:], None),
    "only the tag": (lambda r, s: b"\x30", None),
    "empty": (lambda r, s: b"", None),
    "sequence length past the end": (lambda r, s: b"\x30\x85\x00", None),
}


@pytest.mark.parametrize("name", list(LAX_CASES))
def test_lax_der_edge_cases(name: str) -> None:
    build, expected = LAX_CASES[name]
    r, s = _rs()
    der = build(r, s)
    parsed = parse_der_lax(der)
    if expected is None:
        assert parsed is None
    elif expected == "zero":
        assert parsed == (0, 0)
        assert not verify_ecdsa(der, PUB, MSG)
    else:
        assert parsed == (r, s)
        assert verify_ecdsa(der, PUB, MSG)  # lax encodings still verify (no DERSIG here)
        assert not is_valid_signature_encoding(der + b"\x01")


def test_lax_fast_shape_equals_general_parser() -> None:
    """The direct read of BIP66-shaped input gives what the general lax walk gives."""
    rng = random.Random(7)
    r, s = _rs()
    samples = [
        der_signature(r, s),
        der_signature(0, s),
        der_signature(r, SECP256K1_ORDER - 1),
        der_signature(2**256 - 1, 1),
    ]
    for _ in range(3000):
        der = bytearray(rng.choice(samples))
        for _ in range(rng.randrange(0, 3)):
            der[rng.randrange(len(der))] = rng.choice([0, 1, 2, 0x20, 0x21, 0x30, 0x80, 0xFF])
        if rng.random() < 0.2:
            der = der[: rng.randrange(len(der) + 1)]
        assert parse_der_lax(bytes(der)) == sigmod._parse_der_lax_general(bytes(der)), der.hex()


# -- low S ----------------------------------------------------------------------------------


def test_high_s_verifies_after_normalization_but_fails_low_s() -> None:
    r, s = _rs()
    high = der_signature(r, SECP256K1_ORDER - s)
    assert verify_ecdsa(high, PUB, MSG)  # Core normalizes before libsecp256k1 verifies
    assert not is_low_der_signature(high + b"\x01")
    assert is_low_der_signature(DER + b"\x01")
    with pytest.raises(ScriptError) as info:
        check_signature_encoding(high + b"\x01", ScriptFlags.LOW_S)
    assert info.value.error is ScriptErr.SIG_HIGH_S
    check_signature_encoding(high + b"\x01", ScriptFlags.DERSIG | ScriptFlags.STRICTENC)


def test_half_order_boundary() -> None:
    r, _ = _rs()
    assert is_low_der_signature(der_signature(r, SECP256K1_HALF_ORDER) + b"\x01")
    assert not is_low_der_signature(der_signature(r, SECP256K1_HALF_ORDER + 1) + b"\x01")


def test_zero_r_or_s_never_verifies() -> None:
    r, s = _rs()
    assert not verify_ecdsa(der_signature(0, s), PUB, MSG)
    assert not verify_ecdsa(der_signature(r, 0), PUB, MSG)


# -- strict encoding and hash types -------------------------------------------------------------


@pytest.mark.parametrize(
    ("sig_hex", "valid"),
    [
        (DER.hex() + "01", True),
        ("300602010102010101", True),  # the 9-byte minimum
        ("3006020101020101", False),  # too short
        ("3007020101020101" + "01", False),  # length byte wrong
        ("300602000201010101"[:0] + "30060200020101" + "01", False),  # R empty
        ("300702020001020101" + "01", False),  # R with a needless zero
        ("3006020181020101" + "01", False),  # R negative
        ("3006020101020181" + "01", False),  # S negative
        ("300702010102020001" + "01", False),  # S with a needless zero
        ("3006030101020101" + "01", False),  # R tag
    ],
)
def test_bip66_strictder_signature(sig_hex: str, valid: bool) -> None:
    assert is_valid_signature_encoding(bytes.fromhex(sig_hex)) is valid


def test_signature_encoding_errors_carry_the_core_name() -> None:
    r, s = _rs()
    bad = (
        b"\x30\x45" + der_integer(r, pad=1) + der_integer(s)
    )  # a needless zero before R: not strict DER
    for flag in (ScriptFlags.DERSIG, ScriptFlags.STRICTENC, ScriptFlags.LOW_S):
        with pytest.raises(ScriptError) as info:
            check_signature_encoding(bad + b"\x01", flag)
        assert info.value.error is ScriptErr.SIG_DER
    check_signature_encoding(bad + b"\x01", ScriptFlags.NONE)
    check_signature_encoding(b"", ScriptFlags.STRICTENC | ScriptFlags.LOW_S)  # empty is allowed
    with pytest.raises(ScriptError) as info:
        check_signature_encoding(DER + b"\x04", ScriptFlags.STRICTENC)
    assert info.value.error is ScriptErr.SIG_HASHTYPE


@pytest.mark.parametrize(
    ("hash_type", "defined"),
    [(1, True), (2, True), (3, True), (0x81, True), (0x83, True), (0, False), (4, False),
     (0x80, False), (0x84, False), (0x21, False)],
)  # fmt: skip
def test_defined_hash_types(hash_type: int, defined: bool) -> None:
    assert is_defined_hashtype_signature(DER + bytes((hash_type,))) is defined


def test_pubkey_encodings() -> None:
    uncompressed = KEY.public_key.format(compressed=False)
    hybrid = bytes((6 + (uncompressed[-1] & 1),)) + uncompressed[1:]
    assert is_compressed_or_uncompressed_pubkey(PUB)
    assert is_compressed_or_uncompressed_pubkey(uncompressed)
    assert not is_compressed_or_uncompressed_pubkey(hybrid)
    with pytest.raises(ScriptError) as info:
        check_pubkey_encoding(hybrid, ScriptFlags.STRICTENC, False)
    assert info.value.error is ScriptErr.PUBKEYTYPE
    with pytest.raises(ScriptError) as info:
        check_pubkey_encoding(uncompressed, ScriptFlags.WITNESS_PUBKEYTYPE, True)
    assert info.value.error is ScriptErr.WITNESS_PUBKEYTYPE
    check_pubkey_encoding(uncompressed, ScriptFlags.WITNESS_PUBKEYTYPE, False)  # legacy: fine
    # Without STRICTENC a hybrid key is a key: libsecp256k1 parses it and the signature holds.
    uncompressed_sig = KEY.sign(MSG, hasher=None)
    assert verify_ecdsa(uncompressed_sig, hybrid, MSG)
    wrong_parity = bytes((hybrid[0] ^ 1,)) + hybrid[1:]
    assert not verify_ecdsa(uncompressed_sig, wrong_parity, MSG)


@pytest.mark.parametrize("pubkey", [PUB, b"\x02" + b"\xff" * 32, b"", b"\x05" + PUB[1:], PUB[:-1]])
def test_public_api_fallback_agrees_with_cffi(pubkey: bytes) -> None:
    r, s = _rs()
    for compact in (r.to_bytes(32, "big") + s.to_bytes(32, "big"), bytes(63) + b"\x01"):
        cffi = sigmod._verify_compact_cffi(compact, pubkey, MSG)
        public = sigmod._verify_compact_public_api(compact, pubkey, MSG)
        assert cffi == public
    assert sigmod._verify_compact_cffi(r.to_bytes(32, "big") + s.to_bytes(32, "big"), PUB, MSG)
