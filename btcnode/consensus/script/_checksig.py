"""OP_CHECKSIG(VERIFY) and OP_CHECKMULTISIG(VERIFY) for legacy and witness v0 scripts.

The scriptCode a signature commits to is the script from just after the last executed
OP_CODESEPARATOR. In legacy scripts every signature being checked is first removed from it
(FindAndDelete; an error under CONST_SCRIPTCODE); witness v0 scripts keep it (BIP143).
Encoding rules (DERSIG, LOW_S, STRICTENC, WITNESS_PUBKEYTYPE) fail the script; a signature
that is well encoded but does not verify only makes the check false, unless NULLFAIL
requires failed signatures to be empty.
"""

from __future__ import annotations

from btcnode.consensus.script import flagbits as F
from btcnode.consensus.script._state import MAX_OPS_PER_SCRIPT, ExecState
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.num import clamp_int, script_num_decode
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import next_op, push_data
from btcnode.consensus.script.signature import (
    check_pubkey_encoding,
    check_signature_encoding,
)
from btcnode.consensus.script.sigops import MAX_PUBKEYS_PER_MULTISIG
from btcnode.consensus.sighash import SigVersion

TRUE = b"\x01"
FALSE = b""


def find_and_delete(script: bytes, pattern: bytes) -> tuple[bytes, int]:
    """Core's FindAndDelete: remove each occurrence of `pattern` that starts at an op boundary.

    Returns the new script and how many occurrences were removed.
    """
    if not pattern or pattern not in script:
        return script, 0
    found = 0
    kept: list[bytes] = []
    pc = pc2 = 0
    end, size = len(script), len(pattern)
    while True:
        kept.append(script[pc2:pc])
        while end - pc >= size and script.startswith(pattern, pc):
            pc += size
            found += 1
        pc2 = pc
        if pc >= end:
            break
        _, pc, parsed = next_op(script, pc)
        if not parsed:
            break
    if not found:
        return script, 0
    kept.append(script[pc2:])
    return b"".join(kept), found


def _script_code(st: ExecState, signatures: list[bytes]) -> bytes:
    """The scriptCode after the last OP_CODESEPARATOR, legacy signatures removed."""
    script_code = st.script[st.codesep_pos :]
    if st.sigversion is SigVersion.BASE:
        for sig in signatures:
            script_code, found = find_and_delete(script_code, push_data(sig))
            if found and st.flags & F.CONST_SCRIPTCODE:
                raise ScriptError(ScriptErr.SIG_FINDANDDELETE, debug=f"signature {sig.hex()}")
    return script_code


def _check_one(st: ExecState, sig: bytes, pubkey: bytes, script_code: bytes) -> bool:
    check_signature_encoding(sig, st.flags)
    check_pubkey_encoding(pubkey, st.flags, st.sigversion is SigVersion.WITNESS_V0)
    return st.checker.check_ecdsa_signature(sig, pubkey, script_code, st.sigversion)


def op_checksig(st: ExecState, opcode: int) -> None:
    stack = st.stack
    if len(stack) < 2:
        raise ScriptError(ScriptErr.INVALID_STACK_OPERATION, debug="CHECKSIG needs 2 items")
    sig, pubkey = stack[-2], stack[-1]
    success = _check_one(st, sig, pubkey, _script_code(st, [sig]))
    if not success and sig and st.flags & F.NULLFAIL:
        raise ScriptError(ScriptErr.NULLFAIL, debug=f"signature {sig.hex()}")
    del stack[-2:]
    if opcode == Op.OP_CHECKSIGVERIFY:
        if not success:
            raise ScriptError(ScriptErr.CHECKSIGVERIFY)
        return
    stack.append(TRUE if success else FALSE)


def _multisig_counts(st: ExecState) -> tuple[int, int]:
    """(keys, signatures) of a CHECKMULTISIG, with the stack holding all its arguments."""
    stack = st.stack
    if len(stack) < 1:
        raise ScriptError(ScriptErr.INVALID_STACK_OPERATION, debug="no key count")
    keys = clamp_int(script_num_decode(stack[-1], st.require_minimal))
    if keys < 0 or keys > MAX_PUBKEYS_PER_MULTISIG:
        raise ScriptError(ScriptErr.PUBKEY_COUNT, debug=f"{keys} keys")
    st.op_count += keys
    if st.op_count > MAX_OPS_PER_SCRIPT:
        raise ScriptError(ScriptErr.OP_COUNT)
    if len(stack) < keys + 2:
        raise ScriptError(ScriptErr.INVALID_STACK_OPERATION, debug="no signature count")
    sigs = clamp_int(script_num_decode(stack[-keys - 2], st.require_minimal))
    if sigs < 0 or sigs > keys:
        raise ScriptError(ScriptErr.SIG_COUNT, debug=f"{sigs} signatures for {keys} keys")
    if len(stack) < keys + sigs + 2:
        raise ScriptError(ScriptErr.INVALID_STACK_OPERATION, debug="missing signatures")
    return keys, sigs


def op_checkmultisig(st: ExecState, opcode: int) -> None:
    """([dummy] [sig ...] num_sigs [pubkey ...] num_keys -- bool), as Core evaluates it."""
    stack = st.stack
    keys, sigs = _multisig_counts(st)
    # Both lists in the order Core checks them: from the top of the stack down, so the
    # last signature is tried against the last key first.
    pubkeys = stack[-keys - 1 : -1][::-1]
    signatures = stack[-keys - sigs - 2 : -keys - 2][::-1]
    script_code = _script_code(st, signatures)
    success = True
    isig = ikey = 0
    while success and sigs - isig > 0:
        # The order keys and signatures are checked in is visible through STRICTENC.
        if _check_one(st, signatures[isig], pubkeys[ikey], script_code):
            isig += 1
        ikey += 1
        if sigs - isig > keys - ikey:
            success = False  # more signatures left than keys: give up early
    if not success and st.flags & F.NULLFAIL and any(signatures):
        raise ScriptError(ScriptErr.NULLFAIL, debug="a failed CHECKMULTISIG signature")
    del stack[-keys - sigs - 2 :]
    # Core's off-by-one: one more item is consumed; NULLDUMMY (BIP147) requires it empty.
    if not stack:
        raise ScriptError(ScriptErr.INVALID_STACK_OPERATION, debug="no CHECKMULTISIG dummy")
    if st.flags & F.NULLDUMMY and stack[-1]:
        raise ScriptError(ScriptErr.SIG_NULLDUMMY, debug=f"dummy {stack[-1].hex()}")
    stack.pop()
    if opcode == Op.OP_CHECKMULTISIGVERIFY:
        if not success:
            raise ScriptError(ScriptErr.CHECKMULTISIGVERIFY)
        return
    stack.append(TRUE if success else FALSE)
