"""Script numbers, truth values, RIPEMD-160, the assembler parser, FindAndDelete."""

from __future__ import annotations

import hashlib

import pytest

from btcnode.consensus._ripemd160 import ripemd160_pure
from btcnode.consensus.hashes import hash160, ripemd160
from btcnode.consensus.script._checksig import find_and_delete
from btcnode.consensus.script.asm import AsmParseError, parse_asm
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.interpreter import is_minimal_push
from btcnode.consensus.script.num import (
    cast_to_bool,
    clamp_int,
    is_minimally_encoded,
    script_num_decode,
    script_num_encode,
)

# -- CScriptNum -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, ""),
        (1, "01"),
        (-1, "81"),
        (127, "7f"),
        (128, "8000"),
        (-128, "8080"),
        (255, "ff00"),
        (-255, "ff80"),
        (256, "0001"),
        (2**31 - 1, "ffffff7f"),
        (-(2**31 - 1), "ffffffff"),
        (2**31, "0000008000"),
        (2**39 - 1, "ffffffff7f"),
    ],
)
def test_script_num_round_trip(value: int, encoded: str) -> None:
    assert script_num_encode(value).hex() == encoded
    size = max(4, len(encoded) // 2)
    assert script_num_decode(bytes.fromhex(encoded), True, size) == value


@pytest.mark.parametrize(
    ("encoded", "minimal"),
    [("", True), ("00", False), ("80", False), ("0100", False), ("0080", False),
     ("8000", True), ("8080", True), ("7f00", False), ("ff00", True), ("000080", False)],
)  # fmt: skip
def test_minimal_encoding(encoded: str, minimal: bool) -> None:
    data = bytes.fromhex(encoded)
    assert is_minimally_encoded(data) is minimal
    if not minimal:
        with pytest.raises(ScriptError) as info:
            script_num_decode(data, True)
        assert info.value.error is ScriptErr.SCRIPTNUM
        script_num_decode(data, False)  # accepted without MINIMALDATA


def test_non_minimal_values_decode_as_core_does() -> None:
    assert script_num_decode(bytes.fromhex("0080"), False) == 0  # negative zero
    assert script_num_decode(bytes.fromhex("0100"), False) == 1
    assert script_num_decode(bytes.fromhex("0180"), False) == -1


def test_overflow_is_scriptnum() -> None:
    with pytest.raises(ScriptError) as info:
        script_num_decode(b"\x00\x00\x00\x80\x00", False)
    assert info.value.error is ScriptErr.SCRIPTNUM
    assert "overflow" in info.value.evidence
    assert script_num_decode(b"\x00\x00\x00\x80\x00", False, 5) == 2**31


def test_clamp_int_saturates_like_getint() -> None:
    assert clamp_int(2**31) == 2**31 - 1
    assert clamp_int(-(2**31) - 5) == -(2**31)
    assert clamp_int(12) == 12


@pytest.mark.parametrize(
    ("data", "truth"),
    [("", False), ("00", False), ("80", False), ("0080", False), ("000000", False),
     ("01", True), ("8000", True), ("0081", True), ("0001", True)],
)  # fmt: skip
def test_cast_to_bool(data: str, truth: bool) -> None:
    assert cast_to_bool(bytes.fromhex(data)) is truth


@pytest.mark.parametrize(
    ("data", "opcode", "minimal"),
    [(b"", 0x00, True), (b"", 0x4C, False), (b"\x05", 0x01, False), (b"\x81", 0x01, False),
     (b"\x11", 0x01, True), (b"a" * 75, 75, True), (b"a" * 76, 0x4C, True),
     (b"a" * 75, 0x4C, False), (b"a" * 256, 0x4D, True), (b"a" * 255, 0x4D, False)],
)  # fmt: skip
def test_minimal_push(data: bytes, opcode: int, minimal: bool) -> None:
    assert is_minimal_push(data, opcode) is minimal


# -- RIPEMD-160 -----------------------------------------------------------------------------

RIPEMD_VECTORS = [  # Dobbertin, Bosselaers, Preneel: "RIPEMD-160: A Strengthened Version"
    (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
    (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
    (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
    (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
    (b"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
    (b"1234567890" * 8, "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "b0e20b6e3116640286ed3a87a5713079b21f5189",
    ),
]


@pytest.mark.parametrize(("data", "digest"), RIPEMD_VECTORS, ids=lambda v: str(len(v)))
def test_ripemd160_pure_fallback(data: bytes, digest: str) -> None:
    assert ripemd160_pure(data).hex() == digest
    assert ripemd160(data).hex() == digest  # whichever implementation hashlib offered


def test_hash160_of_a_known_key() -> None:
    # The generator point's compressed key; its HASH160 is well known (address 1BgGZ9tc...).
    pubkey = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert hash160(pubkey).hex() == "751e76e8199196d454941c45d1b3a323f1433bd6"
    assert ripemd160_pure(hashlib.sha256(pubkey).digest()) == hash160(pubkey)


# -- assembler ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "script_hex"),
    [
        ("0", "00"),
        ("1 16 -1", "51604f"),
        ("17 -2 1000", "0111" + "0182" + "02e803"),
        ("4294967295", "05ffffffff00"),
        ("0x4c 0x01 0x07", "4c0107"),
        ("'abc'", "03616263"),
        ("''", "00"),
        ("DUP OP_HASH160 EQUALVERIFY CHECKSIG", "76a988ac"),
        ("NOP2 ", None),
        ("CHECKLOCKTIMEVERIFY CHECKSEQUENCEVERIFY RESERVED NOP10", "b1b250b9"),
        ("  IF\tELSE\nENDIF ", "636768"),
    ],
)
def test_parse_asm(text: str, script_hex: str | None) -> None:
    if script_hex is None:
        with pytest.raises(AsmParseError):
            parse_asm(text)
    else:
        assert parse_asm(text).hex() == script_hex


@pytest.mark.parametrize("text", ["4294967296", "0x", "0xabc", "OP_1", "CHECKSIGADD", "'a b'"])
def test_parse_asm_refuses(text: str) -> None:
    with pytest.raises(AsmParseError):
        parse_asm(text)


# -- FindAndDelete --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "pattern", "result", "found"),
    [
        # Core's script_FindAndDelete cases, by bytes
        ("0302ff03", "0302ff03", "", 1),
        ("0302ff030302ff03", "0302ff03", "", 2),
        ("0302ff030302ff03", "02", "0302ff030302ff03", 0),  # only at op boundaries
        ("0302ff030302ff03", "ff", "0302ff030302ff03", 0),
        ("0302ff030302ff03", "03", "02ff0302ff03", 2),
        ("02feed5169", "feed51", "02feed5169", 0),  # inside a push: untouched
        ("02feed5169", "02feed51", "69", 1),
        ("516902feed5169", "feed51", "516902feed5169", 0),
        ("516902feed5169", "02feed51", "516969", 1),
        ("00ab00ab", "00", "abab", 2),  # an empty signature's push is OP_0
        ("0003feed", "03feed", "00", 1),
        ("0003feed", "00", "03feed", 1),
        ("ab4c05ab", "ab", "4c05ab", 1),  # an unparsable tail is kept as it is
    ],
)
def test_find_and_delete(script: str, pattern: str, result: str, found: int) -> None:
    new, count = find_and_delete(bytes.fromhex(script), bytes.fromhex(pattern))
    assert (new.hex(), count) == (result, found)
