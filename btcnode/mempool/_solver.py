"""Classifying output scripts into Core's standard templates (Core's Solver).

`solve` returns the template and its solutions: the key or hash for single-key templates,
m, the keys and n for bare multisig, the version and program for unknown witness versions.
Everything else is NONSTANDARD. Only the templates' shapes are checked here; whether a key
is a valid curve point is the interpreter's business, as in Core.
"""

from __future__ import annotations

import enum

from btcnode.consensus.script.errors import ScriptError
from btcnode.consensus.script.interpreter import is_minimal_push
from btcnode.consensus.script.num import script_num_decode
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import (
    ScriptParseError,
    decode_small_int,
    is_p2sh,
    is_push_only,
    iter_ops,
    witness_program,
)
from btcnode.consensus.script.signature import pubkey_length_ok
from btcnode.consensus.script.sigops import MAX_PUBKEYS_PER_MULTISIG

PUBKEY_SIZE = 65  # an uncompressed SEC1 key
COMPRESSED_PUBKEY_SIZE = 33
P2A_SCRIPT = bytes((Op.OP_1, 0x02, 0x4E, 0x73))  # Core 28's pay-to-anchor output


class TxoutType(enum.Enum):
    """Core's TxoutType."""

    NONSTANDARD = "nonstandard"
    ANCHOR = "anchor"
    PUBKEY = "pubkey"
    PUBKEYHASH = "pubkeyhash"
    SCRIPTHASH = "scripthash"
    MULTISIG = "multisig"
    NULL_DATA = "nulldata"
    WITNESS_V0_SCRIPTHASH = "witness_v0_scripthash"
    WITNESS_V0_KEYHASH = "witness_v0_keyhash"
    WITNESS_V1_TAPROOT = "witness_v1_taproot"
    WITNESS_UNKNOWN = "witness_unknown"


def solve(script: bytes) -> tuple[TxoutType, tuple[bytes, ...]]:
    """The template of `script` and its solutions (Core's Solver)."""
    if is_p2sh(script):
        return TxoutType.SCRIPTHASH, (script[2:22],)
    program = witness_program(script)
    if program is not None:
        return _solve_witness(script, *program)
    if script[:1] == bytes((Op.OP_RETURN,)) and is_push_only(script[1:]):
        return TxoutType.NULL_DATA, ()
    key = _match_pay_to_pubkey(script)
    if key is not None:
        return TxoutType.PUBKEY, (key,)
    if (
        len(script) == 25
        and script[:3] == bytes((Op.OP_DUP, Op.OP_HASH160, 20))
        and script[23:] == bytes((Op.OP_EQUALVERIFY, Op.OP_CHECKSIG))
    ):
        return TxoutType.PUBKEYHASH, (script[3:23],)
    multisig = _match_multisig(script)
    if multisig is not None:
        required, keys = multisig
        return TxoutType.MULTISIG, (bytes((required,)), *keys, bytes((len(keys),)))
    return TxoutType.NONSTANDARD, ()


def _solve_witness(
    script: bytes, version: int, program: bytes
) -> tuple[TxoutType, tuple[bytes, ...]]:
    if version == 0 and len(program) == 20:
        return TxoutType.WITNESS_V0_KEYHASH, (program,)
    if version == 0 and len(program) == 32:
        return TxoutType.WITNESS_V0_SCRIPTHASH, (program,)
    if version == 1 and len(program) == 32:
        return TxoutType.WITNESS_V1_TAPROOT, (program,)
    if script == P2A_SCRIPT:
        return TxoutType.ANCHOR, ()
    if version != 0:
        return TxoutType.WITNESS_UNKNOWN, (bytes((version,)), program)
    return TxoutType.NONSTANDARD, ()


def _match_pay_to_pubkey(script: bytes) -> bytes | None:
    for size in (PUBKEY_SIZE, COMPRESSED_PUBKEY_SIZE):
        if len(script) == size + 2 and script[0] == size and script[-1] == Op.OP_CHECKSIG:
            key = script[1 : size + 1]
            return key if pubkey_length_ok(key) else None
    return None


def _match_multisig(script: bytes) -> tuple[int, list[bytes]] | None:
    """(m, keys) of `m <keys...> n OP_CHECKMULTISIG` (Core's MatchMultisig)."""
    if not script or script[-1] != Op.OP_CHECKMULTISIG:
        return None
    try:
        ops = list(iter_ops(script))
    except ScriptParseError:
        return None
    required = _script_number(*ops[0][:2], 1, MAX_PUBKEYS_PER_MULTISIG)
    if required is None:
        return None
    keys: list[bytes] = []
    i = 1
    while i < len(ops) and ops[i][1] is not None and pubkey_length_ok(ops[i][1] or b""):
        keys.append(ops[i][1] or b"")
        i += 1
    if i >= len(ops):
        return None
    count = _script_number(*ops[i][:2], required, MAX_PUBKEYS_PER_MULTISIG)
    if count is None or count != len(keys):
        return None
    # The op after n must be the final OP_CHECKMULTISIG byte.
    if i + 2 != len(ops) or ops[i + 1][2] != len(script) - 1:
        return None
    return required, keys


def _script_number(opcode: int, data: bytes | None, low: int, high: int) -> int | None:
    """A small integer or minimally pushed number in [low, high] (Core's GetScriptNumber)."""
    if Op.OP_1 <= opcode <= Op.OP_16:
        value = decode_small_int(opcode)
    elif Op.OP_0 < opcode <= Op.OP_PUSHDATA4 and data is not None:
        if not is_minimal_push(data, opcode):
            return None
        try:
            value = script_num_decode(data, require_minimal=True)
        except ScriptError:
            return None
    else:
        return None
    return value if low <= value <= high else None
