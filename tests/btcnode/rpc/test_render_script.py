"""Script assembly and inferred descriptors as Core writes them."""

from __future__ import annotations

import pytest

from btcnode.address import address_for_script
from btcnode.consensus.params import MAINNET, REGTEST
from btcnode.rpc.render_script import (
    descriptor_checksum,
    infer_descriptor,
    opcode_name,
    script_asm,
    script_json,
)

G = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"  # the generator
SIG = (
    "3044022047ac8e878352d3ebbde1c94ce3a10d057c24175747116f8288e5d794d12d482f0220217f36a4"
    "85cae903c713331d877c1f64677e3622ad4010726870540656fe9dcb01"
)


@pytest.mark.parametrize(
    ("script_hex", "asm"),
    [
        ("", ""),
        ("00", "0"),
        ("4f", "-1"),
        ("51", "1"),
        ("60", "16"),
        ("0101", "1"),
        ("0181", "-1"),
        ("0400000080", "0"),  # Core prints CScriptNum's value: negative zero is 0
        ("04ffffff7f", "2147483647"),
        ("05" + "01" * 5, "0101010101"),
        ("4c0100", "0"),
        ("76a9", "OP_DUP OP_HASH160"),
        ("b1b2", "OP_CHECKLOCKTIMEVERIFY OP_CHECKSEQUENCEVERIFY"),
        ("ba", "OP_CHECKSIGADD"),
        ("bb", "OP_UNKNOWN"),
        ("ff", "OP_INVALIDOPCODE"),
        ("50", "OP_RESERVED"),
        ("4c", "[error]"),
        ("0302", "[error]"),
        ("6a0302", "OP_RETURN [error]"),
    ],
)
def test_script_asm(script_hex: str, asm: str) -> None:
    assert script_asm(bytes.fromhex(script_hex)) == asm


def test_signature_hash_types_are_decoded_only_in_script_sigs() -> None:
    script = bytes.fromhex("47" + SIG + "21" + G)
    assert script_asm(script, decode_sighash=True) == f"{SIG[:-2]}[ALL] {G}"
    assert script_asm(script) == f"{SIG} {G}"
    undefined = bytes.fromhex("47" + SIG[:-2] + "04")  # hash type 4 is not defined
    assert script_asm(undefined, decode_sighash=True) == SIG[:-2] + "04"
    unspendable = bytes.fromhex("6a47" + SIG)
    assert script_asm(unspendable, decode_sighash=True) == f"OP_RETURN {SIG}"


def test_opcode_names() -> None:
    assert opcode_name(0x61) == "OP_NOP"
    assert opcode_name(0xB9) == "OP_NOP10"
    assert opcode_name(0xC0) == "OP_UNKNOWN"


def test_descriptor_checksum_bip380() -> None:
    assert descriptor_checksum("raw(deadbeef)") == "89f8spxm"
    with pytest.raises(ValueError):
        descriptor_checksum("raw(\u00e9)")


@pytest.mark.parametrize(
    ("script_hex", "body", "kind"),
    [
        ("21" + G + "ac", f"pk({G})", "pubkey"),
        ("5121" + G + "51ae", f"multi(1,{G})", "multisig"),
        (
            "5120" + G[2:],
            f"rawtr({G[2:]})",
            "witness_v1_taproot",
        ),
        ("5120" + "ff" * 32, "addr(OFFCURVE)", "witness_v1_taproot"),  # not a point: no rawtr
        ("0014751e76e8199196d454941c45d1b3a323f1433bd6",
         "addr(bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4)", "witness_v0_keyhash"),
        ("6a00", "raw(6a00)", "nulldata"),
        ("51024e73", "addr(bc1pfeessrawgf)", "anchor"),
    ],
)  # fmt: skip
def test_inferred_descriptors(script_hex: str, body: str, kind: str) -> None:
    script = bytes.fromhex(script_hex)
    body = body.replace("OFFCURVE", str(address_for_script(script, MAINNET)))
    assert infer_descriptor(script, MAINNET) == f"{body}#{descriptor_checksum(body)}"
    assert script_json(script, MAINNET)["type"] == kind


def test_p2pk_has_no_address_field_but_p2pkh_does() -> None:
    p2pk = script_json(bytes.fromhex("21" + G + "ac"), REGTEST)
    assert "address" not in p2pk
    p2pkh = script_json(bytes.fromhex("76a914" + "00" * 20 + "88ac"), REGTEST)
    assert p2pkh["address"] == "mfWxJ45yp2SFn7UciZyNpvDKrzbhyfKrY8"
    assert list(script_json(b"\x6a", REGTEST, include_hex=False)) == ["asm", "desc", "type"]
