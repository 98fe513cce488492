"""The sigop counters against a reference written straight from Core's GetSigOpCount.

`script_sigop_count` recognises P2PKH by its bytes and walks every other script with an
inlined loop; both must give the reference's count for every script, including truncated
pushes (counting stops there) and CHECKMULTISIG after OP_n in both modes.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.consensus.script.ops import (
    ScriptParseError,
    iter_ops,
    p2pkh_script,
    p2sh_script,
    p2wpkh_script,
    p2wsh_script,
    push_data,
)
from btcnode.consensus.script.sigops import script_sigop_count

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
