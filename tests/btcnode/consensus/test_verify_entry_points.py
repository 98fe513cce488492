"""verify_input, verify_input_policy and verify_script: BIP143 spends, misuse, classification."""

from __future__ import annotations

import pickle
import re
from decimal import Decimal

import coincurve
import pytest

from btcnode.consensus import (
    MANDATORY_FLAGS,
    STANDARD_FLAGS,
    ChainMisuse,
    OutPoint,
    PrecomputedTxData,
    ScriptErr,
    ScriptError,
    ScriptFlags,
    Tx,
    TxIn,
    TxOut,
    TxResult,
    verify_input,
    verify_input_policy,
    verify_script,
)
from btcnode.consensus.script.asm import parse_asm
from btcnode.signing import (
    p2pkh_script_for,
    p2sh_p2wpkh_script_for,
    p2wpkh_script_for,
    sign_inputs,
)
from tests.btcnode.consensus.der import high_s
from tests.vectors import load_json

COIN = 100_000_000
KEYS = [coincurve.PrivateKey(bytes([0x30 + i]) * 32) for i in range(3)]

# -- the BIP143 examples, verified as whole transactions --------------------------------------

_SPENT = re.compile(r"scriptPubKey\s*:\s*([0-9a-f]+)[,\s]*value:\s*([0-9.]+)")
_SIGNED = re.compile(r"serialized signed transaction is:\s*([0-9a-f]+)")


def _bip143_spends() -> list[tuple[str, Tx, list[TxOut]]]:
    cases = []
    for example in load_json("bitcoin", "bip143_vectors.json")["examples"]:
        sections = re.split(
            r"The following (?:is an unsigned transaction|transaction is)", example["raw_text"]
        )
        for i, section in enumerate(sections[1:]):
            signed = _SIGNED.search(section)
            spent = [
                TxOut(int(Decimal(value) * COIN), bytes.fromhex(script))
                for script, value in _SPENT.findall(section)
            ]
            if signed is None or not spent:
                continue  # the CHECKMULTISIGVERIFY variant lists no scriptPubKey
            cases.append(
                (f"{example['title']}#{i}", Tx.deserialize(bytes.fromhex(signed[1])), spent)
            )
    return cases


BIP143_SPENDS = _bip143_spends()


def test_bip143_examples_found() -> None:
    assert len(BIP143_SPENDS) == 6
    assert sum(len(tx.vin) for _, tx, _ in BIP143_SPENDS) == 9


@pytest.mark.parametrize(("name", "tx", "spent"), BIP143_SPENDS, ids=[c[0] for c in BIP143_SPENDS])
def test_bip143_examples_verify(name: str, tx: Tx, spent: list[TxOut]) -> None:
    txdata = PrecomputedTxData(tx, spent)
    for n_in in range(len(tx.vin)):
        verify_input(tx, n_in, spent, MANDATORY_FLAGS, txdata)
        verify_script(
            spent[n_in].script_pubkey, spent[n_in].value, tx.serialize(), n_in, MANDATORY_FLAGS
        )
    # One satoshi more in the spent amount breaks every witness signature (BIP143 commits to it).
    witness_inputs = [n for n, txin in enumerate(tx.vin) if txin.witness]
    assert witness_inputs
    for n_in in witness_inputs:
        changed = list(spent)
        changed[n_in] = TxOut(spent[n_in].value + 1, spent[n_in].script_pubkey)
        with pytest.raises(ScriptError) as info:
            verify_input(tx, n_in, changed, MANDATORY_FLAGS)
        assert info.value.error in (
            ScriptErr.EVAL_FALSE,
            ScriptErr.CHECKSIGVERIFY,
            ScriptErr.CHECKMULTISIGVERIFY,
        )
        assert info.value.input_index == n_in


# -- signed with the helper, under policy -------------------------------------------------------


def _spend(kind: str, key: coincurve.PrivateKey, amount: int = 50_000) -> tuple[Tx, list[TxOut]]:
    pub = key.public_key.format()
    script = {
        "p2pkh": p2pkh_script_for,
        "p2wpkh": p2wpkh_script_for,
        "p2sh": p2sh_p2wpkh_script_for,
    }[kind](pub)
    spent = [TxOut(amount, script)]
    tx = Tx(2, (TxIn(OutPoint(b"\x11" * 32, 1)),), (TxOut(amount - 1000, p2wpkh_script_for(pub)),))
    return sign_inputs(tx, [(key, spent[0])]), spent


@pytest.mark.parametrize("kind", ["p2pkh", "p2wpkh", "p2sh"])
def test_signed_spends_pass_policy(kind: str) -> None:
    tx, spent = _spend(kind, KEYS[0])
    verify_input_policy(tx, 0, spent, STANDARD_FLAGS)
    other = TxOut(spent[0].value, _spend(kind, KEYS[1])[1][0].script_pubkey)
    with pytest.raises(ScriptError) as info:
        verify_input(tx, 0, [other], STANDARD_FLAGS)
    expected = ScriptErr.EVAL_FALSE if kind == "p2sh" else ScriptErr.EQUALVERIFY
    assert info.value.error is expected


def _with_witness(tx: Tx, witness: tuple[bytes, ...]) -> Tx:
    old = tx.vin[0]
    return Tx(
        tx.version,
        (TxIn(old.prevout, old.script_sig, old.sequence, witness),),
        tx.vout,
        tx.lock_time,
    )


def test_policy_only_failure_is_non_mandatory() -> None:
    tx, spent = _spend("p2wpkh", KEYS[0])
    sig, pub = tx.vin[0].witness
    malleated = _with_witness(tx, (high_s(sig), pub))
    verify_input(malleated, 0, spent, MANDATORY_FLAGS)  # consensus accepts high S
    with pytest.raises(ScriptError) as info:
        verify_input_policy(malleated, 0, spent, STANDARD_FLAGS)
    err = info.value
    assert err.error is ScriptErr.SIG_HIGH_S and not err.mandatory
    assert err.result is TxResult.NOT_STANDARD
    assert err.reject_reason == (
        "non-mandatory-script-verify-flag (Non-canonical signature: S value is unnecessarily high)"
    )
    assert err.input_index == 0


def test_consensus_failure_stays_mandatory_with_the_policy_error() -> None:
    tx, spent = _spend("p2wpkh", KEYS[0])
    sig, pub = tx.vin[0].witness
    broken = _with_witness(tx, (sig[:10] + bytes((sig[10] ^ 1,)) + sig[11:], pub))
    with pytest.raises(ScriptError) as info:
        verify_input_policy(broken, 0, spent, STANDARD_FLAGS)
    err = info.value
    assert err.error is ScriptErr.NULLFAIL and err.mandatory  # Core names the first check's error
    assert err.result is TxResult.CONSENSUS
    assert err.reject_reason == (
        "mandatory-script-verify-flag-failed "
        "(Signature must be zero for failed CHECK(MULTI)SIG operation)"
    )
    with pytest.raises(ScriptError) as info:
        verify_input(broken, 0, spent, MANDATORY_FLAGS)
    assert info.value.error is ScriptErr.EVAL_FALSE


# -- witness versions above 0, CSV, misuse -------------------------------------------------------


def _spend_script(
    script_pubkey: bytes, *, version: int = 2, sequence: int = 0xFFFFFFFF
) -> tuple[Tx, list[TxOut]]:
    tx = Tx(version, (TxIn(OutPoint(b"\x22" * 32, 0), b"", sequence),), (TxOut(1, b"\x51"),))
    return tx, [TxOut(1000, script_pubkey)]


def test_unknown_witness_versions_are_anyone_can_spend_but_discouraged() -> None:
    tx, spent = _spend_script(bytes.fromhex("5120") + b"\x07" * 32)  # a Taproot output
    verify_input(tx, 0, spent, MANDATORY_FLAGS)
    with pytest.raises(ScriptError) as info:
        verify_input_policy(tx, 0, spent, STANDARD_FLAGS)
    assert info.value.error is ScriptErr.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM
    assert not info.value.mandatory
    anchor_tx, anchor = _spend_script(bytes.fromhex("51024e73"))  # pay-to-anchor
    verify_input_policy(anchor_tx, 0, anchor, STANDARD_FLAGS)


@pytest.mark.parametrize(
    ("version", "passes"), [(1, False), (2, True), (-1, True), (-(2**31), True)]
)
def test_csv_compares_the_version_unsigned(version: int, passes: bool) -> None:
    tx, spent = _spend_script(parse_asm("1 CHECKSEQUENCEVERIFY"), version=version, sequence=1)
    if passes:
        verify_input(tx, 0, spent, MANDATORY_FLAGS)
        return
    with pytest.raises(ScriptError) as info:
        verify_input(tx, 0, spent, MANDATORY_FLAGS)
    assert info.value.error is ScriptErr.UNSATISFIED_LOCKTIME


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (ScriptFlags.TAPROOT | ScriptFlags.P2SH | ScriptFlags.WITNESS, "Taproot"),
        (ScriptFlags.WITNESS, "requires ScriptFlags.P2SH"),
        (ScriptFlags.CLEANSTACK | ScriptFlags.P2SH, "CLEANSTACK requires"),
        (1 << 25, "unknown script verification flags"),
    ],
)
def test_bad_flags_are_misuse(flags: int, message: str) -> None:
    tx, spent = _spend_script(b"\x51")
    with pytest.raises(ChainMisuse, match=message):
        verify_input(tx, 0, spent, flags)
    with pytest.raises(ChainMisuse, match=message):
        verify_script(b"\x51", 1000, tx.serialize(), 0, flags)


def test_bad_calls_are_misuse() -> None:
    tx, spent = _spend_script(b"\x51")
    with pytest.raises(ChainMisuse, match="does not decode"):
        verify_script(b"\x51", 0, tx.serialize() + b"\x00", 0, MANDATORY_FLAGS)
    with pytest.raises(ChainMisuse, match="out of range"):
        verify_script(b"\x51", 0, tx.serialize(), 1, MANDATORY_FLAGS)
    with pytest.raises(ChainMisuse, match="out of range"):
        verify_input(tx, -1, spent, MANDATORY_FLAGS)
    with pytest.raises(ChainMisuse, match="2 spent outputs"):
        verify_input(tx, 0, spent * 2, MANDATORY_FLAGS)
    other, _ = _spend_script(b"\x52")
    with pytest.raises(ChainMisuse, match="another transaction"):
        verify_input(tx, 0, spent, MANDATORY_FLAGS, PrecomputedTxData(other))


def test_script_error_fields_and_repr() -> None:
    tx, spent = _spend_script(b"\x6a")  # OP_RETURN
    with pytest.raises(ScriptError) as info:
        verify_input(tx, 0, spent, MANDATORY_FLAGS)
    err = info.value
    assert (err.error, err.input_index, err.mandatory) == (ScriptErr.OP_RETURN, 0, True)
    assert err.reject_reason == "mandatory-script-verify-flag-failed (OP_RETURN was encountered)"
    assert "input 0" in err.debug
    assert repr(err).startswith("ScriptError(ScriptErr.OP_RETURN, input_index=0")
    copy = pickle.loads(pickle.dumps(err.with_context(mandatory=False)))
    assert (copy.error, copy.input_index, copy.mandatory) == (ScriptErr.OP_RETURN, 0, False)
    assert copy.reject_reason == "non-mandatory-script-verify-flag (OP_RETURN was encountered)"
