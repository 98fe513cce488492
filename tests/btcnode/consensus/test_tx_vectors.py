"""Core's tx_valid.json and tx_invalid.json, with the flag rules of transaction_tests.cpp.

tx_valid rows list the flags to EXCLUDE: the transaction passes with every other flag,
still passes with any flag(s) removed, and fails when any one excluded flag is put back.
tx_invalid rows list the flags to verify WITH: the transaction fails with them, still fails
with any flag(s) added, and passes when any one of them is removed; BADTX rows fail the
context-free transaction checks instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from btcnode.consensus.checks import check_transaction
from btcnode.consensus.errors import TxValidationError
from btcnode.consensus.hashes import hash_from_hex
from btcnode.consensus.script.asm import parse_asm
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.flags import ScriptFlags
from btcnode.consensus.script.verify import verify_input
from btcnode.consensus.sighash import PrecomputedTxData
from btcnode.consensus.tx import OutPoint, Tx, TxOut
from tests.btcnode.consensus.script_vectors import (
    ALL_FLAGS,
    fill_flags,
    parse_flags,
    trim_flags,
)
from tests.vectors import load_json

SINGLE_FLAGS = [int(flag) for flag in ScriptFlags if flag and flag & ALL_FLAGS]
RANDOM_ROUNDS = 4  # seeded random flag combinations per row (Core draws one per flag)


@dataclass(frozen=True)
class TxRow:
    index: int
    tx_hex: str
    prevouts: dict[OutPoint, TxOut]
    flags_text: str


def _load(name: str) -> list[TxRow]:
    rows = []
    for index, raw in enumerate(load_json("bitcoin", name)):
        if not isinstance(raw[0], list):
            continue  # a comment
        inputs, tx_hex, flags_text = raw
        prevouts = {}
        for entry in inputs:
            txid, n, script_asm, *amount = entry
            outpoint = OutPoint(hash_from_hex(txid), n & 0xFFFFFFFF)  # -1 is 0xffffffff
            prevouts[outpoint] = TxOut(amount[0] if amount else 0, parse_asm(script_asm))
        rows.append(TxRow(index, tx_hex, prevouts, flags_text))
    return rows


VALID = _load("tx_valid.json")
INVALID = _load("tx_invalid.json")


def _first_failure(row: TxRow, flags: int) -> ScriptError | None:
    """Core's CheckTxScripts: inputs in order until one fails."""
    tx = Tx.deserialize(bytes.fromhex(row.tx_hex))
    spent = [row.prevouts[txin.prevout] for txin in tx.vin]
    txdata = PrecomputedTxData(tx, spent)
    for n_in in range(len(tx.vin)):
        try:
            verify_input(tx, n_in, spent, flags & ALL_FLAGS, txdata)
        except ScriptError as err:
            assert err.input_index == n_in
            assert err.error is not ScriptErr.OK
            assert err.reject_reason.startswith("mandatory-script-verify-flag-failed (")
            return err
    return None


def _exclude_individual(flags: int) -> set[int]:
    """Core's ExcludeIndividualFlags."""
    combos = {trim_flags(flags & ~flag) for flag in SINGLE_FLAGS}
    combos.discard(flags)
    return combos


def test_vector_counts() -> None:
    assert len(VALID) == 121
    assert len(INVALID) == 93
    assert sum(row.flags_text == "BADTX" for row in INVALID) == 9


@pytest.mark.parametrize("row", VALID, ids=[f"row{r.index}" for r in VALID])
def test_tx_valid(row: TxRow) -> None:
    check_transaction(Tx.deserialize(bytes.fromhex(row.tx_hex)))
    excluded = parse_flags(row.flags_text)
    verify_flags = ALL_FLAGS & ~excluded
    assert fill_flags(verify_flags) == verify_flags, "bad test flags"
    failure = _first_failure(row, verify_flags)
    assert failure is None, repr(failure)
    rng = random.Random(row.index)
    for flag in SINGLE_FLAGS:
        flags = trim_flags(ALL_FLAGS & ~(excluded | flag))
        assert _first_failure(row, flags) is None, f"fails without {ScriptFlags(flag).name}"
    for _ in range(RANDOM_ROUNDS):
        flags = trim_flags(ALL_FLAGS & ~(excluded | rng.getrandbits(len(SINGLE_FLAGS))))
        assert _first_failure(row, flags) is None, f"fails with flags {flags:#x}"
    for excluded_less_one in _exclude_individual(excluded):
        flags = ALL_FLAGS & ~excluded_less_one
        assert _first_failure(row, flags) is not None, f"too many flags unset: {flags:#x}"


@pytest.mark.parametrize("row", INVALID, ids=[f"row{r.index}" for r in INVALID])
def test_tx_invalid(row: TxRow) -> None:
    tx = Tx.deserialize(bytes.fromhex(row.tx_hex))
    if row.flags_text == "BADTX":
        with pytest.raises(TxValidationError) as info:
            check_transaction(tx)
        assert info.value.reject_reason.startswith("bad-")
        return
    check_transaction(tx)
    flags = parse_flags(row.flags_text)
    assert fill_flags(flags) == flags, "bad test flags"
    assert _first_failure(row, flags) is not None, "passes with its flags"
    rng = random.Random(row.index)
    for flag in SINGLE_FLAGS:
        added = fill_flags(flags | flag)
        assert _first_failure(row, added) is not None, f"passes with {ScriptFlags(flag).name}"
    for _ in range(RANDOM_ROUNDS):
        added = fill_flags(flags | (rng.getrandbits(len(SINGLE_FLAGS)) & ALL_FLAGS))
        assert _first_failure(row, added) is not None, f"passes with flags {added:#x}"
    for fewer in _exclude_individual(flags):
        failure = _first_failure(row, fewer)
        assert failure is None, f"too many flags set: fails with {fewer:#x}: {failure!r}"
