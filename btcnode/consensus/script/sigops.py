"""Signature-operation counting, as Core counts it for the block sigop-cost limit (BIP141).

Legacy sigops are counted inaccurately (a CHECKMULTISIG is 20) in scriptSigs and
scriptPubKeys; P2SH redeem scripts and witness scripts accurately (OP_n before CHECKMULTISIG
gives n). Counting stops at the first unparsable push, as Core's loop does.
"""

from __future__ import annotations

from btcnode.consensus.script.flags import ScriptFlags
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import (
    ScriptParseError,
    decode_small_int,
    is_p2sh,
    is_push_only,
    iter_ops,
    witness_program,
)

MAX_PUBKEYS_PER_MULTISIG = 20


def script_sigop_count(script: bytes, *, accurate: bool) -> int:
    """Core's CScript::GetSigOpCount(fAccurate)."""
    count, last = 0, 0xFF
    try:
        for opcode, _, _ in iter_ops(script):
            if opcode in (Op.OP_CHECKSIG, Op.OP_CHECKSIGVERIFY):
                count += 1
            elif opcode in (Op.OP_CHECKMULTISIG, Op.OP_CHECKMULTISIGVERIFY):
                if accurate and Op.OP_1 <= last <= Op.OP_16:
                    count += decode_small_int(last)
                else:
                    count += MAX_PUBKEYS_PER_MULTISIG
            last = opcode
    except ScriptParseError:
        pass
    return count


def p2sh_sigop_count(script_pubkey: bytes, script_sig: bytes) -> int:
    """Sigops of the redeem script: the last push of a push-only scriptSig (BIP16)."""
    if not is_p2sh(script_pubkey):
        return script_sigop_count(script_pubkey, accurate=True)
    last_data = b""
    try:
        for opcode, data, _ in iter_ops(script_sig):
            if opcode > Op.OP_16:
                return 0
            last_data = data or b""
    except ScriptParseError:
        return 0
    return script_sigop_count(last_data, accurate=True)


def witness_sigop_count(
    script_sig: bytes, script_pubkey: bytes, witness: tuple[bytes, ...], flags: int
) -> int:
    """Core's CountWitnessSigOps: P2WPKH is 1, P2WSH counts its witness script accurately."""
    if not flags & ScriptFlags.WITNESS:
        return 0
    program = witness_program(script_pubkey)
    if program is not None:
        return _program_sigops(program, witness)
    if is_p2sh(script_pubkey) and is_push_only(script_sig):
        last_data = b""
        for _, data, _ in iter_ops(script_sig):
            last_data = data or b""
        program = witness_program(last_data)
        if program is not None:
            return _program_sigops(program, witness)
    return 0


def _program_sigops(program: tuple[int, bytes], witness: tuple[bytes, ...]) -> int:
    version, data = program
    if version != 0:
        return 0
    if len(data) == 20:
        return 1
    if len(data) == 32 and witness:
        return script_sigop_count(witness[-1], accurate=True)
    return 0
