"""The script interpreter: Core's EvalScript for legacy and witness version 0 scripts.

`eval_script(stack, script, flags, checker, sigversion)` runs `script` on `stack` (modified
in place) and raises `ScriptError` with Core's error name on the first failure. The loop
here reads ops, applies the limits every op is subject to (push size, op count, disabled
opcodes, stack size) and dispatches executed ops to one handler per opcode
(`btcnode.consensus.script._handlers`, `btcnode.consensus.script._checksig`).

Limits (script.h): scripts of at most 10,000 bytes, pushes of at most 520 bytes, at most 201
non-push ops (CHECKMULTISIG adds its key count), at most 1,000 items on both stacks.
"""

from __future__ import annotations

from btcnode.consensus.script import flagbits as F
from btcnode.consensus.script._handlers import HANDLERS
from btcnode.consensus.script._state import (
    MAX_OPS_PER_SCRIPT,
    MAX_SCRIPT_ELEMENT_SIZE,
    MAX_STACK_SIZE,
    ExecState,
    SignatureChecker,
)
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import MAX_SCRIPT_SIZE
from btcnode.consensus.sighash import SigVersion

# CVE-2010-5137: these were disabled in 2010 and fail even in unexecuted branches.
DISABLED_OPCODES = frozenset(
    {
        Op.OP_CAT,
        Op.OP_SUBSTR,
        Op.OP_LEFT,
        Op.OP_RIGHT,
        Op.OP_INVERT,
        Op.OP_AND,
        Op.OP_OR,
        Op.OP_XOR,
        Op.OP_2MUL,
        Op.OP_2DIV,
        Op.OP_MUL,
        Op.OP_DIV,
        Op.OP_MOD,
        Op.OP_LSHIFT,
        Op.OP_RSHIFT,
    }
)

_PUSHDATA1, _PUSHDATA2, _PUSHDATA4 = Op.OP_PUSHDATA1, Op.OP_PUSHDATA2, Op.OP_PUSHDATA4
_OP_16 = int(Op.OP_16)
_OP_IF, _OP_ENDIF = int(Op.OP_IF), int(Op.OP_ENDIF)
_OP_CODESEPARATOR = int(Op.OP_CODESEPARATOR)


def is_minimal_push(data: bytes, opcode: int) -> bool:
    """Core's CheckMinimalPush: `data` pushed with the shortest possible opcode."""
    size = len(data)
    if size == 0:
        return opcode == Op.OP_0
    if size == 1 and 1 <= data[0] <= 16:
        return False  # OP_1..OP_16
    if size == 1 and data[0] == 0x81:
        return False  # OP_1NEGATE
    if size <= 75:
        return opcode == size
    if size <= 255:
        return opcode == _PUSHDATA1
    if size <= 65535:
        return opcode == _PUSHDATA2
    return True


def _read_push(script: bytes, pos: int, opcode: int) -> tuple[bytes, int]:
    """The data of the push op whose opcode was at pos - 1, and the position after it."""
    end = len(script)
    if opcode < _PUSHDATA1:
        size = opcode
    else:
        width = 1 if opcode == _PUSHDATA1 else 2 if opcode == _PUSHDATA2 else 4
        if end - pos < width:
            raise ScriptError(ScriptErr.BAD_OPCODE, debug=f"truncated push at {pos - 1}")
        size = int.from_bytes(script[pos : pos + width], "little")
        pos += width
    if end - pos < size:
        raise ScriptError(ScriptErr.BAD_OPCODE, debug=f"push of {size} bytes runs past the end")
    return script[pos : pos + size], pos + size


def eval_script(
    stack: list[bytes],
    script: bytes,
    flags: int,
    checker: SignatureChecker,
    sigversion: SigVersion,
) -> None:
    """Run `script` on `stack` (Core's EvalScript); raises ScriptError on failure."""
    if len(script) > MAX_SCRIPT_SIZE:
        raise ScriptError(ScriptErr.SCRIPT_SIZE, debug=f"{len(script)} bytes")
    flags = int(flags)
    st = ExecState(stack, script, flags, checker, sigversion)
    const_scriptcode = sigversion is SigVersion.BASE and flags & F.CONST_SCRIPTCODE
    handlers = HANDLERS
    altstack = st.altstack
    pos, end = 0, len(script)
    while pos < end:
        executing = st.false_count == 0
        opcode = script[pos]
        pos += 1
        if opcode <= _PUSHDATA4:
            data, pos = _read_push(script, pos, opcode)
            if len(data) > MAX_SCRIPT_ELEMENT_SIZE:
                raise ScriptError(ScriptErr.PUSH_SIZE, debug=f"{len(data)} bytes")
            if executing:
                if st.require_minimal and not is_minimal_push(data, opcode):
                    raise ScriptError(ScriptErr.MINIMALDATA, debug=f"push at {pos - len(data)}")
                stack.append(data)
        else:
            if opcode > _OP_16:
                st.op_count += 1
                if st.op_count > MAX_OPS_PER_SCRIPT:
                    raise ScriptError(ScriptErr.OP_COUNT)
            if opcode in DISABLED_OPCODES:
                raise ScriptError(ScriptErr.DISABLED_OPCODE, debug=Op(opcode).name)
            if opcode == _OP_CODESEPARATOR and const_scriptcode:
                raise ScriptError(ScriptErr.OP_CODESEPARATOR)
            if executing or _OP_IF <= opcode <= _OP_ENDIF:
                handler = handlers[opcode]
                if handler is None:
                    raise ScriptError(ScriptErr.BAD_OPCODE, debug=f"opcode {opcode:#04x}")
                st.pc = pos
                handler(st, opcode)
        if len(stack) + len(altstack) > MAX_STACK_SIZE:
            raise ScriptError(ScriptErr.STACK_SIZE)
    if st.vexec:
        raise ScriptError(ScriptErr.UNBALANCED_CONDITIONAL, debug="IF without ENDIF")
