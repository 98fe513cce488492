"""Signature-operation counting, as Core counts it for the block sigop-cost limit (BIP141).

Legacy sigops are counted inaccurately (a CHECKMULTISIG is 20) in scriptSigs and
scriptPubKeys; P2SH redeem scripts and witness scripts accurately (OP_n before CHECKMULTISIG
gives n). Counting stops at the first unparsable push, as Core's loop does.
"""

from __future__ import annotations

from btcnode.consensus.script.flagbits import WITNESS
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import (
    ScriptParseError,
    is_p2sh,
    iter_ops,
    witness_program,
)

MAX_PUBKEYS_PER_MULTISIG = 20  # Core's script.h: an inaccurate CHECKMULTISIG counts this many

# Opcodes as plain ints: the counting loop compares bytes of the script against them.
_PUSHDATA1, _PUSHDATA2, _PUSHDATA4 = (
    int(Op.OP_PUSHDATA1),
    int(Op.OP_PUSHDATA2),
    int(Op.OP_PUSHDATA4),
)
_CHECKSIG, _CHECKSIGVERIFY = int(Op.OP_CHECKSIG), int(Op.OP_CHECKSIGVERIFY)
_CHECKMULTISIG, _CHECKMULTISIGVERIFY = int(Op.OP_CHECKMULTISIG), int(Op.OP_CHECKMULTISIGVERIFY)
_OP_1, _OP_16 = int(Op.OP_1), int(Op.OP_16)
_SMALL_INT_BIAS = _OP_1 - 1  # OP_n encodes n + 0x50

P2PKH_BYTES = 25  # OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
_P2PKH_HEAD = b"\x76\xa9\x14"
_P2PKH_TAIL = b"\x88\xac"


def script_sigop_count(script: bytes, *, accurate: bool) -> int:
    """Core's CScript::GetSigOpCount(fAccurate).

    A P2PKH scriptPubKey (the one template whose ops include a sigop) is recognised by its
    bytes; every other script goes through the op walk, which for the other standard shapes
    (witness programs, P2SH, two-push scriptSigs) is two or three steps.
    """
    if len(script) == P2PKH_BYTES and script[:3] == _P2PKH_HEAD and script[23:] == _P2PKH_TAIL:
        return 1
    return _walk_sigop_count(script, accurate)


def _walk_sigop_count(script: bytes, accurate: bool) -> int:
    """GetSigOpCount's loop over GetScriptOp, inlined: a push running past the end stops it."""
    count, last, pos, end = 0, 0xFF, 0, len(script)
    while pos < end:
        opcode = script[pos]
        pos += 1
        if opcode <= _PUSHDATA4:
            if opcode < _PUSHDATA1:
                size = opcode
            else:
                width = 1 if opcode == _PUSHDATA1 else 2 if opcode == _PUSHDATA2 else 4
                if pos + width > end:
                    break
                size = int.from_bytes(script[pos : pos + width], "little")
                pos += width
            pos += size
            if pos > end:
                break
        elif _CHECKSIG <= opcode <= _CHECKSIGVERIFY:  # 0xac, 0xad
            count += 1
        elif _CHECKMULTISIG <= opcode <= _CHECKMULTISIGVERIFY:  # 0xae, 0xaf
            if accurate and _OP_1 <= last <= _OP_16:
                count += last - _SMALL_INT_BIAS
            else:
                count += MAX_PUBKEYS_PER_MULTISIG
        last = opcode
    return count


def _last_push(script_sig: bytes) -> bytes | None:
    """The data of the last push of a push-only `script_sig` (b"" for OP_n or an empty
    script), or None if it holds another op or does not parse: where BIP16 finds the
    redeem script."""
    last_data = b""
    try:
        for opcode, data, _ in iter_ops(script_sig):
            if opcode > Op.OP_16:
                return None
            last_data = data or b""
    except ScriptParseError:
        return None
    return last_data


def p2sh_sigop_count(script_pubkey: bytes, script_sig: bytes) -> int:
    """Sigops of the redeem script: the last push of a push-only scriptSig (BIP16)."""
    if not is_p2sh(script_pubkey):
        return script_sigop_count(script_pubkey, accurate=True)
    redeem_script = _last_push(script_sig)
    return 0 if redeem_script is None else script_sigop_count(redeem_script, accurate=True)


def witness_sigop_count(
    script_sig: bytes, script_pubkey: bytes, witness: tuple[bytes, ...], flags: int
) -> int:
    """Core's CountWitnessSigOps: P2WPKH is 1, P2WSH counts its witness script accurately."""
    if not int(flags) & WITNESS:  # flagbits' plain int: ScriptFlags' & is slow per input
        return 0
    program = witness_program(script_pubkey)
    if program is not None:
        return _program_sigops(program, witness)
    if is_p2sh(script_pubkey):
        redeem_script = _last_push(script_sig)
        program = None if redeem_script is None else witness_program(redeem_script)
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
