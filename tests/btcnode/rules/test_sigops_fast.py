"""The sigop counters against a reference written straight from Core's GetSigOpCount.

`script_sigop_count` recognises P2PKH by its bytes and walks every other script with an
inlined loop; both must give the reference's count for every script, including truncated
pushes (counting stops there) and CHECKMULTISIG after OP_n in both modes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.consensus.checks import check_transaction, legacy_sigop_count
from btcnode.consensus.coins import Coin
from btcnode.consensus.contextual import transaction_sigop_cost
from btcnode.consensus.errors import TxValidationError
from btcnode.consensus.hashes import hash160
from btcnode.consensus.params import MAX_MONEY
from btcnode.consensus.script.flags import MANDATORY_FLAGS, ScriptFlags
from btcnode.consensus.script.ops import (
    ScriptParseError,
    is_p2sh,
    iter_ops,
    p2pkh_script,
    p2sh_script,
    p2wpkh_script,
    p2wsh_script,
    push_data,
)
from btcnode.consensus.script.sigops import (
    p2sh_sigop_count,
    script_sigop_count,
    witness_sigop_count,
)
from btcnode.consensus.tx import SEQUENCE_FINAL, OutPoint, Tx, TxIn, TxOut

CHECKSIG, CHECKSIGVERIFY, CHECKMULTISIG, CHECKMULTISIGVERIFY = 0xAC, 0xAD, 0xAE, 0xAF
OP_1, OP_16 = 0x51, 0x60


def reference_sigop_count(script: bytes, *, accurate: bool) -> int:
    """Core's CScript::GetSigOpCount, op by op through GetScriptOp (`iter_ops`)."""
    count, last = 0, 0xFF
    try:
        for opcode, _, _ in iter_ops(script):
            if opcode in (CHECKSIG, CHECKSIGVERIFY):
                count += 1
            elif opcode in (CHECKMULTISIG, CHECKMULTISIGVERIFY):
                if accurate and OP_1 <= last <= OP_16:
                    count += last - (OP_1 - 1)
                else:
                    count += 20
            last = opcode
    except ScriptParseError:
        pass
    return count


def _assert_same(script: bytes) -> None:
    for accurate in (False, True):
        expected = reference_sigop_count(script, accurate=accurate)
        assert script_sigop_count(script, accurate=accurate) == expected, (script.hex(), accurate)


_hash20 = st.binary(min_size=20, max_size=20)
_hash32 = st.binary(min_size=32, max_size=32)
_op = st.one_of(
    st.sampled_from([CHECKSIG, CHECKSIGVERIFY, CHECKMULTISIG, CHECKMULTISIGVERIFY]).map(
        lambda op: bytes((op,))
    ),
    st.integers(OP_1 - 1, OP_16 + 1).map(lambda op: bytes((op,))),  # OP_RESERVED..OP_NOP
    st.integers(0, 0xFF).map(lambda op: bytes((op,))),
    st.binary(max_size=80).map(push_data),  # direct pushes and PUSHDATA1
    st.binary(max_size=8).map(lambda data: b"\x4d" + len(data).to_bytes(2, "little") + data),
    st.binary(max_size=8).map(lambda data: b"\x4e" + len(data).to_bytes(4, "little") + data),
    st.sampled_from([b"\x4c", b"\x4d\x01", b"\x4e\x01\x00", b"\x4c\x05ab", b"\x10abc"]),
)
_op_script = st.lists(_op, max_size=12).map(b"".join)
_template = st.one_of(
    _hash20.map(p2pkh_script),
    _hash20.map(p2sh_script),
    _hash20.map(p2wpkh_script),
    _hash32.map(p2wsh_script),
    _hash32.map(lambda key: b"\x51\x20" + key),  # P2TR
    st.binary(max_size=80).map(lambda data: b"\x6a" + push_data(data)),  # OP_RETURN
    st.tuples(st.binary(min_size=70, max_size=73), st.binary(min_size=33, max_size=33)).map(
        lambda pair: push_data(pair[0]) + push_data(pair[1])
    ),  # P2PKH scriptSig
)


@settings(max_examples=2000)
@given(st.one_of(st.binary(max_size=40), _op_script, _template))
def test_sigop_count_matches_reference(script: bytes) -> None:
    _assert_same(script)


@settings(max_examples=500)
@given(_hash20, st.binary(min_size=1, max_size=3))
def test_p2pkh_lookalikes_are_walked(key_hash: bytes, junk: bytes) -> None:
    """One byte more or less, or a changed opcode, and the template must not apply."""
    script = p2pkh_script(key_hash)
    _assert_same(script + junk)
    _assert_same(script[:-1])
    _assert_same(junk[:1] + script[1:])
    _assert_same(script[:-1] + junk[:1])


def test_known_counts() -> None:
    """Counts that pin the rules themselves, not just agreement with the reference."""
    key_hash = bytes(range(20))
    assert script_sigop_count(p2pkh_script(key_hash), accurate=False) == 1
    assert script_sigop_count(p2wpkh_script(key_hash), accurate=False) == 0
    multisig = bytes((0x52,)) + push_data(b"k" * 33) * 3 + bytes((0x53, CHECKMULTISIG))
    assert script_sigop_count(multisig, accurate=False) == 20
    assert script_sigop_count(multisig, accurate=True) == 3
    truncated = bytes((CHECKSIG, CHECKSIG, 0x4C, 0x09, CHECKSIG))
    assert script_sigop_count(truncated, accurate=True) == 2
    assert script_sigop_count(bytes((CHECKMULTISIG,)), accurate=True) == 20


# -- per transaction: the cached legacy count and the one-pass sigop cost ----------------------


class _Coins(dict[OutPoint, Coin]):
    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self.get(outpoint)


def reference_sigop_cost(tx: Tx, view: _Coins, flags: int) -> int:
    """Core's GetTransactionSigOpCost as written there: legacy, then a P2SH loop over the
    inputs, then a witness loop, each reading the spent coin again."""
    legacy = sum(reference_sigop_count(i.script_sig, accurate=False) for i in tx.vin)
    legacy += sum(reference_sigop_count(o.script_pubkey, accurate=False) for o in tx.vout)
    cost = legacy * 4
    if tx.is_coinbase():
        return cost
    if flags & ScriptFlags.P2SH:
        for txin in tx.vin:
            script_pubkey = view[txin.prevout].out.script_pubkey
            if is_p2sh(script_pubkey):
                cost += p2sh_sigop_count(script_pubkey, txin.script_sig) * 4
    for txin in tx.vin:
        script_pubkey = view[txin.prevout].out.script_pubkey
        cost += witness_sigop_count(txin.script_sig, script_pubkey, txin.witness, flags)
    return cost


_redeem = st.one_of(_op_script, _template)
_spent = st.one_of(
    _redeem.map(lambda script: (script, b"", ())),  # bare
    _redeem.map(lambda script: (p2sh_script(hash160(script)), push_data(script), ())),
    st.lists(_redeem, max_size=3).map(lambda stack: (p2wsh_script(bytes(32)), b"", tuple(stack))),
    _hash20.map(lambda key: (p2wpkh_script(key), b"", (b"sig", b"key"))),
    _redeem.map(
        lambda script: (p2sh_script(bytes(20)), push_data(p2wsh_script(bytes(32))), (script,))
    ),
    st.tuples(_op_script, _op_script, st.lists(st.binary(max_size=40), max_size=2)).map(
        lambda parts: (parts[0], parts[1], tuple(parts[2]))
    ),
)
_flags = st.sampled_from([ScriptFlags.NONE, ScriptFlags.P2SH, ScriptFlags.WITNESS, MANDATORY_FLAGS])


@settings(max_examples=500)
@given(st.lists(_spent, min_size=1, max_size=4), st.lists(_redeem, min_size=1, max_size=3), _flags)
def test_sigop_cost_matches_reference(
    spent: list[tuple[bytes, bytes, tuple[bytes, ...]]], outputs: list[bytes], flags: ScriptFlags
) -> None:
    view = _Coins()
    vin = []
    for n, (script_pubkey, script_sig, witness) in enumerate(spent):
        outpoint = OutPoint(bytes([n + 1]) * 32, n)
        view[outpoint] = Coin(TxOut(1, script_pubkey), 1, False)
        vin.append(TxIn(outpoint, script_sig, SEQUENCE_FINAL, witness))
    tx = Tx(2, tuple(vin), tuple(TxOut(1, script) for script in outputs))
    expected = reference_sigop_cost(tx, view, flags)
    assert transaction_sigop_cost(tx, view, flags) == expected
    assert transaction_sigop_cost(tx, view, flags) == expected  # again, from the cache
    assert legacy_sigop_count(tx) == sum(
        reference_sigop_count(script, accurate=False)
        for script in [i.script_sig for i in tx.vin] + [o.script_pubkey for o in tx.vout]
    )


def test_cached_legacy_count_is_not_part_of_equality() -> None:
    tx = Tx(2, (TxIn(OutPoint(bytes(32), 0)),), (TxOut(1, b"\xac\xac"),))
    twin = Tx(2, (TxIn(OutPoint(bytes(32), 0)),), (TxOut(1, b"\xac\xac"),))
    assert legacy_sigop_count(tx) == 2
    assert tx == twin and hash(tx) == hash(twin)
    assert "legacy" not in repr(tx)


# -- CheckTransaction's output values: the in-range shortcut against the rule as written -------


def reference_output_values(values: list[int]) -> tuple[str, str] | None:
    total = 0
    for n, value in enumerate(values):
        if value < 0:
            return "bad-txns-vout-negative", f"output {n} value {value}"
        if value > MAX_MONEY:
            return "bad-txns-vout-toolarge", f"output {n} value {value}"
        total += value
        if not 0 <= total <= MAX_MONEY:
            return "bad-txns-txouttotal-toolarge", f"total {total} after output {n}"
    return None


_value = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(MAX_MONEY - 2, MAX_MONEY + 2),
    st.integers(-2, 2),
    st.integers(0, MAX_MONEY // 2 + 1),
)


@settings(max_examples=1000)
@given(st.lists(_value, min_size=1, max_size=5))
def test_output_value_checks_match_reference(values: list[int]) -> None:
    vin = (TxIn(OutPoint(bytes([1]) * 32, 0)),)
    tx = Tx(2, vin, tuple(TxOut(value, b"") for value in values))
    expected = reference_output_values(values)
    if expected is None:
        check_transaction(tx)
        return
    with pytest.raises(TxValidationError) as info:
        check_transaction(tx)
    assert (info.value.reject_reason, info.value.debug) == expected
