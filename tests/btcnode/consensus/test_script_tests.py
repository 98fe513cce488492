"""Core's script_tests.json: every non-Taproot row gives exactly the expected error."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.script.asm import parse_asm
from btcnode.consensus.script.checker import TransactionSignatureChecker
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.flags import ScriptFlags
from btcnode.consensus.script.verify import verify_script, verify_script_sig
from tests.btcnode.consensus.script_vectors import (
    TAPROOT_PLACEHOLDERS,
    crediting_tx,
    is_valid_combination,
    parse_flags,
    spending_tx,
)
from tests.vectors import load_json

SATS_PER_BTC = 100_000_000
MONOTONICITY_ROUNDS = 16  # as Core's DoTest: random extra flags from the low 16 bits


@dataclass(frozen=True)
class Row:
    index: int
    witness: tuple[bytes, ...]
    amount: int
    script_sig: str
    script_pubkey: str
    flags: int
    expected: str
    comment: str


def _load() -> tuple[list[Row], list[int]]:
    rows, skipped = [], []
    for index, raw in enumerate(load_json("bitcoin", "script_tests.json")):
        if len(raw) == 1:
            continue  # a comment
        witness: tuple[bytes, ...] = ()
        amount = 0
        if isinstance(raw[0], list):
            *items, btc = raw[0]
            if any(p in item for item in items for p in TAPROOT_PLACEHOLDERS):
                skipped.append(index)
                continue
            witness = tuple(bytes.fromhex(item) for item in items)
            amount = round(btc * SATS_PER_BTC)
            raw = raw[1:]
        script_sig, script_pubkey, flag_text, expected, *comment = raw
        if "TAPROOT" in flag_text.split(",") or any(
            p in script_sig + script_pubkey for p in TAPROOT_PLACEHOLDERS
        ):
            skipped.append(index)
            continue
        flags = parse_flags(flag_text)
        if flags & ScriptFlags.CLEANSTACK:  # as Core's DoTest
            flags |= ScriptFlags.P2SH | ScriptFlags.WITNESS
        rows.append(
            Row(index, witness, amount, script_sig, script_pubkey, flags, expected,
                comment[0] if comment else "")
        )  # fmt: skip
    return rows, skipped


ROWS, SKIPPED = _load()


def _run(row: Row, flags: int) -> str:
    """The error name of the row under `flags` through both entry points (which must agree)."""
    script_pubkey = parse_asm(row.script_pubkey)
    credit = crediting_tx(script_pubkey, row.amount)
    spend = spending_tx(parse_asm(row.script_sig), row.witness, credit)
    public = _error_name(
        lambda: verify_script(script_pubkey, row.amount, spend.serialize(), 0, flags)
    )
    checker = TransactionSignatureChecker(spend, 0, row.amount)
    txin = spend.vin[0]
    general = _error_name(
        lambda: verify_script_sig(txin.script_sig, script_pubkey, txin.witness, flags, checker)
    )
    assert public == general, f"fast path says {public}, interpreter says {general}"
    return public


def _error_name(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except ScriptError as err:
        assert err.reject_reason == f"mandatory-script-verify-flag-failed ({err.error.message})"
        return err.error.name
    return ScriptErr.OK.name


def test_vector_counts() -> None:
    """All rows but the Taproot ones run; the skipped ones are exactly those."""
    assert len(SKIPPED) == 5
    assert len(ROWS) == 1233 - 5


@pytest.mark.parametrize("row", ROWS, ids=[f"row{r.index}" for r in ROWS])
def test_script_vector(row: Row) -> None:
    assert _run(row, row.flags) == row.expected, row.comment


@pytest.mark.parametrize("row", ROWS, ids=[f"row{r.index}" for r in ROWS])
def test_script_vector_flag_monotonicity(row: Row) -> None:
    """Removing flags never breaks a passing row; adding flags never fixes a failing one."""
    rng = random.Random(row.index)
    passing = row.expected == ScriptErr.OK.name
    for _ in range(MONOTONICITY_ROUNDS):
        extra = rng.getrandbits(16)
        flags = row.flags & ~extra if passing else row.flags | extra
        if not is_valid_combination(flags):
            continue
        assert (_run(row, flags) == ScriptErr.OK.name) == passing, hex(flags)


def test_taproot_flag_is_refused() -> None:
    credit = crediting_tx(b"\x51", 0)
    spend = spending_tx(b"", (), credit)
    with pytest.raises(ChainMisuse, match="Taproot"):
        verify_script(b"\x51", 0, spend.serialize(), 0, ScriptFlags.TAPROOT | ScriptFlags.P2SH)
