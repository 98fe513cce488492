"""Signature hashes against Core's sighash.json and the BIP143 examples."""

from __future__ import annotations

import re
from typing import Any

import pytest

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.hashes import hash256_hex, sha256d
from btcnode.consensus.sighash import (
    LEGACY_SINGLE_BUG_HASH,
    SIGHASH_ALL,
    SIGHASH_SINGLE,
    PrecomputedTxData,
    serialize_script_code,
    signature_hash_legacy,
    signature_hash_witness_v0,
    witness_v0_preimage,
)
from btcnode.consensus.tx import Tx
from tests.vectors import load_json

SIGHASH_ROWS = [row for row in load_json("bitcoin", "sighash.json") if len(row) == 5]


@pytest.mark.parametrize("row", SIGHASH_ROWS, ids=[f"row{i}" for i in range(len(SIGHASH_ROWS))])
def test_legacy_sighash_vectors(row: list[Any]) -> None:
    raw_tx, script_hex, n_in, hash_type, expected_display = row
    tx = Tx.deserialize(bytes.fromhex(raw_tx))
    digest = signature_hash_legacy(bytes.fromhex(script_hex), tx, n_in, hash_type)
    assert hash256_hex(digest) == expected_display


def test_sighash_rows_are_all_present() -> None:
    assert len(SIGHASH_ROWS) == 500


def test_legacy_sighash_shared_txdata_gives_the_same_hash() -> None:
    """A PrecomputedTxData reused across inputs and hash types changes nothing."""
    for raw_tx, script_hex, _, hash_type, _ in SIGHASH_ROWS[:40]:
        tx = Tx.deserialize(bytes.fromhex(raw_tx))
        txdata = PrecomputedTxData(tx)
        for n_in in range(len(tx.vin)):
            script = bytes.fromhex(script_hex)
            shared = signature_hash_legacy(script, tx, n_in, hash_type, txdata)
            assert shared == signature_hash_legacy(script, tx, n_in, hash_type)


def test_single_without_matching_output_signs_one() -> None:
    raw_tx = SIGHASH_ROWS[0][0]
    tx = Tx.deserialize(bytes.fromhex(raw_tx))
    assert len(tx.vout) < len(tx.vin)
    digest = signature_hash_legacy(b"", tx, len(tx.vin) - 1, SIGHASH_SINGLE)
    assert digest == LEGACY_SINGLE_BUG_HASH
    assert hash256_hex(digest) == "00" * 31 + "01"
    assert signature_hash_legacy(b"", tx, len(tx.vin), SIGHASH_ALL) == LEGACY_SINGLE_BUG_HASH


@pytest.mark.parametrize(
    ("script_hex", "expected_hex"),
    [
        ("", "00"),
        ("76a914" + "11" * 20 + "88ac", "19" + "76a914" + "11" * 20 + "88ac"),
        # OP_1 SEP <push ab> SEP: separators go, the pushed 0xab byte stays
        ("51ab01abab", "03" + "5101ab"),
        ("ab", "00"),
        # a truncated PUSHDATA1 at the end: Core's iterator stopped after the length byte
        ("51ab4cab", "03" + "514cab"),
        # a direct push of 5 bytes with one left: only the opcode was consumed
        ("ab05ab", "02" + "05"),
        # a PUSHDATA2 missing a length byte: only the opcode was consumed
        ("514dff", "03" + "514d"),
    ],
)
def test_serialize_script_code(script_hex: str, expected_hex: str) -> None:
    """Separators are removed; a truncated tail is cut where Core's GetOp stopped."""
    assert serialize_script_code(bytes.fromhex(script_hex)).hex() == expected_hex


# -- BIP143 ---------------------------------------------------------------------------------

BIP143 = load_json("bitcoin", "bip143_vectors.json")["examples"]
_HEX_TX = re.compile(r"\b(?:01|02)000000[0-9a-f]{80,}\b")
_PREIMAGE_AND_HASH = re.compile(
    r"preimage[^:\n]*:\s*([0-9a-f]+).*?sig[Hh]ash:\s*([0-9a-f]{64})", re.DOTALL
)


def _transactions(text: str) -> list[Tx]:
    txs = []
    for match in _HEX_TX.findall(text):
        try:
            txs.append(Tx.deserialize(bytes.fromhex(match)))
        except (ValueError, SerializationError):  # preimages match too; they do not decode
            continue
    return txs


def _preimage_cases() -> list[tuple[str, bytes, bytes]]:
    cases = []
    for example in BIP143:
        for i, (preimage, sighash) in enumerate(_PREIMAGE_AND_HASH.findall(example["raw_text"])):
            cases.append(
                (f"{example['title']}#{i}", bytes.fromhex(preimage), bytes.fromhex(sighash))
            )
    return cases


PREIMAGE_CASES = _preimage_cases()


def _split_preimage(preimage: bytes) -> tuple[bytes, bytes, int, int]:
    """(outpoint, scriptCode, amount, hash type) of a BIP143 preimage."""
    outpoint = preimage[68:104]
    code_len = preimage[104]
    assert code_len < 0xFD
    script_code = preimage[105 : 105 + code_len]
    rest = preimage[105 + code_len :]
    amount = int.from_bytes(rest[:8], "little", signed=True)
    hash_type = int.from_bytes(preimage[-4:], "little")
    return outpoint, script_code, amount, hash_type


def test_bip143_has_every_example() -> None:
    titles = [example["title"] for example in BIP143]
    assert "Native P2WPKH" in titles and "P2SH-P2WSH" in titles
    assert len(PREIMAGE_CASES) >= 12


@pytest.mark.parametrize(
    ("name", "preimage", "sighash"), PREIMAGE_CASES, ids=lambda v: v if isinstance(v, str) else ""
)
def test_bip143_preimages(name: str, preimage: bytes, sighash: bytes) -> None:
    """Rebuild each published preimage from the transaction, scriptCode, amount and type."""
    assert sha256d(preimage) == sighash
    outpoint, script_code, amount, hash_type = _split_preimage(preimage)
    example = next(e for e in BIP143 if name.startswith(e["title"] + "#"))
    candidates = [
        (tx, n_in)
        for tx in _transactions(example["raw_text"])
        for n_in, txin in enumerate(tx.vin)
        if txin.prevout.serialize() == outpoint
    ]
    assert candidates, "no transaction of the example spends the preimage's outpoint"
    tx, n_in = candidates[0]
    built = witness_v0_preimage(script_code, tx, n_in, amount, hash_type)
    assert built.hex() == preimage.hex()
    txdata = PrecomputedTxData(tx)
    assert signature_hash_witness_v0(script_code, tx, n_in, amount, hash_type, txdata) == sighash
