"""One handler per executed opcode (the cases of Core's EvalScript switch), and the table.

A handler gets the interpreter state and its opcode, and raises ScriptError on failure.
`HANDLERS[opcode]` is None for opcodes that fail with BAD_OPCODE when executed (OP_VER,
OP_VERIF, OP_VERNOTIF, the OP_RESERVEDs, OP_CHECKSIGADD outside Tapscript, 0xbb..0xff).
"""

from __future__ import annotations

from collections.abc import Callable

from btcnode.consensus.hashes import hash160, ripemd160, sha1, sha256, sha256d
from btcnode.consensus.script import flagbits as F
from btcnode.consensus.script._checksig import op_checkmultisig, op_checksig
from btcnode.consensus.script._state import ExecState, Handler
from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.num import (
    LOCKTIME_MAX_NUM_SIZE,
    cast_to_bool,
    clamp_int,
    script_num_decode,
)
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import script_num_encode
from btcnode.consensus.sequence_locks import SEQUENCE_LOCKTIME_DISABLE_FLAG
from btcnode.consensus.sighash import SigVersion

TRUE = b"\x01"
FALSE = b""


def _need(st: ExecState, count: int) -> list[bytes]:
    stack = st.stack
    if len(stack) < count:
        raise ScriptError(
            ScriptErr.INVALID_STACK_OPERATION, debug=f"needs {count} items, has {len(stack)}"
        )
    return stack


def _num(st: ExecState, data: bytes) -> int:
    return script_num_decode(data, st.require_minimal)


# -- constants, NOPs, flow control ----------------------------------------------------------


def op_push_number(st: ExecState, opcode: int) -> None:
    """OP_1NEGATE, OP_1..OP_16."""
    st.stack.append(script_num_encode(opcode - (Op.OP_1 - 1)))


def op_nop(st: ExecState, opcode: int) -> None:
    return None


def op_upgradable_nop(st: ExecState, opcode: int) -> None:
    """OP_NOP1, OP_NOP4..OP_NOP10: reserved for soft forks."""
    if st.flags & F.DISCOURAGE_UPGRADABLE_NOPS:
        raise ScriptError(ScriptErr.DISCOURAGE_UPGRADABLE_NOPS, debug=Op(opcode).name)


def op_if(st: ExecState, opcode: int) -> None:
    """OP_IF / OP_NOTIF; MINIMALIF applies to witness v0 scripts only."""
    value = False
    if st.false_count == 0:
        stack = st.stack
        if not stack:
            raise ScriptError(ScriptErr.INVALID_STACK_OPERATION, debug="IF on an empty stack")
        top = stack[-1]
        minimal_if = st.sigversion is SigVersion.WITNESS_V0 and st.flags & F.MINIMALIF
        if minimal_if and (len(top) > 1 or (len(top) == 1 and top[0] != 1)):
            raise ScriptError(ScriptErr.MINIMALIF, debug=f"argument {top.hex()}")
        value = cast_to_bool(top)
        if opcode == Op.OP_NOTIF:
            value = not value
        stack.pop()
    st.vexec.append(value)
    if not value:
        st.false_count += 1


def op_else(st: ExecState, opcode: int) -> None:
    if not st.vexec:
        raise ScriptError(ScriptErr.UNBALANCED_CONDITIONAL, debug="ELSE without IF")
    value = not st.vexec[-1]
    st.vexec[-1] = value
    st.false_count += -1 if value else 1


def op_endif(st: ExecState, opcode: int) -> None:
    if not st.vexec:
        raise ScriptError(ScriptErr.UNBALANCED_CONDITIONAL, debug="ENDIF without IF")
    if not st.vexec.pop():
        st.false_count -= 1


def op_verify(st: ExecState, opcode: int) -> None:
    stack = _need(st, 1)
    if not cast_to_bool(stack[-1]):
        raise ScriptError(ScriptErr.VERIFY)
    stack.pop()


def op_return(st: ExecState, opcode: int) -> None:
    raise ScriptError(ScriptErr.OP_RETURN)


# -- lock times (BIP65, BIP112) -------------------------------------------------------------


def _locktime_operand(st: ExecState) -> int:
    stack = _need(st, 1)
    value = script_num_decode(stack[-1], st.require_minimal, LOCKTIME_MAX_NUM_SIZE)
    if value < 0:
        raise ScriptError(ScriptErr.NEGATIVE_LOCKTIME, debug=f"operand {value}")
    return value


def op_checklocktimeverify(st: ExecState, opcode: int) -> None:
    if not st.flags & F.CHECKLOCKTIMEVERIFY:
        return None  # not enabled: OP_NOP2, not discouraged (flags stay backward compatible)
    lock_time = _locktime_operand(st)
    if not st.checker.check_lock_time(lock_time):
        raise ScriptError(ScriptErr.UNSATISFIED_LOCKTIME, debug=f"lock time {lock_time}")
    return None


def op_checksequenceverify(st: ExecState, opcode: int) -> None:
    if not st.flags & F.CHECKSEQUENCEVERIFY:
        return None  # not enabled: OP_NOP3, not discouraged (flags stay backward compatible)
    sequence = _locktime_operand(st)
    if sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG:
        return None  # reserved for future soft forks: behaves as a NOP
    if not st.checker.check_sequence(sequence):
        raise ScriptError(ScriptErr.UNSATISFIED_LOCKTIME, debug=f"sequence {sequence:#x}")
    return None


# -- stack operations -----------------------------------------------------------------------


def op_toaltstack(st: ExecState, opcode: int) -> None:
    st.altstack.append(_need(st, 1).pop())


def op_fromaltstack(st: ExecState, opcode: int) -> None:
    if not st.altstack:
        raise ScriptError(ScriptErr.INVALID_ALTSTACK_OPERATION)
    st.stack.append(st.altstack.pop())


def op_2drop(st: ExecState, opcode: int) -> None:
    del _need(st, 2)[-2:]


def op_2dup(st: ExecState, opcode: int) -> None:
    stack = _need(st, 2)
    stack.extend(stack[-2:])


def op_3dup(st: ExecState, opcode: int) -> None:
    stack = _need(st, 3)
    stack.extend(stack[-3:])


def op_2over(st: ExecState, opcode: int) -> None:
    stack = _need(st, 4)
    stack.extend(stack[-4:-2])


def op_2rot(st: ExecState, opcode: int) -> None:
    stack = _need(st, 6)
    moved = stack[-6:-4]
    del stack[-6:-4]
    stack.extend(moved)


def op_2swap(st: ExecState, opcode: int) -> None:
    stack = _need(st, 4)
    stack[-4:] = stack[-2:] + stack[-4:-2]


def op_ifdup(st: ExecState, opcode: int) -> None:
    stack = _need(st, 1)
    if cast_to_bool(stack[-1]):
        stack.append(stack[-1])


def op_depth(st: ExecState, opcode: int) -> None:
    st.stack.append(script_num_encode(len(st.stack)))


def op_drop(st: ExecState, opcode: int) -> None:
    _need(st, 1).pop()


def op_dup(st: ExecState, opcode: int) -> None:
    stack = _need(st, 1)
    stack.append(stack[-1])


def op_nip(st: ExecState, opcode: int) -> None:
    del _need(st, 2)[-2]


def op_over(st: ExecState, opcode: int) -> None:
    stack = _need(st, 2)
    stack.append(stack[-2])


def op_pick_roll(st: ExecState, opcode: int) -> None:
    stack = _need(st, 2)
    n = clamp_int(_num(st, stack[-1]))
    stack.pop()
    if n < 0 or n >= len(stack):
        raise ScriptError(ScriptErr.INVALID_STACK_OPERATION, debug=f"index {n}")
    item = stack[-n - 1]
    if opcode == Op.OP_ROLL:
        del stack[-n - 1]
    stack.append(item)


def op_rot(st: ExecState, opcode: int) -> None:
    stack = _need(st, 3)
    stack.append(stack.pop(-3))


def op_swap(st: ExecState, opcode: int) -> None:
    stack = _need(st, 2)
    stack[-1], stack[-2] = stack[-2], stack[-1]


def op_tuck(st: ExecState, opcode: int) -> None:
    stack = _need(st, 2)
    stack.insert(-2, stack[-1])


def op_size(st: ExecState, opcode: int) -> None:
    stack = _need(st, 1)
    stack.append(script_num_encode(len(stack[-1])))


def op_equal(st: ExecState, opcode: int) -> None:
    stack = _need(st, 2)
    equal = stack.pop() == stack.pop()
    if opcode == Op.OP_EQUALVERIFY:
        if not equal:
            raise ScriptError(ScriptErr.EQUALVERIFY)
        return
    stack.append(TRUE if equal else FALSE)


# -- arithmetic -----------------------------------------------------------------------------

_UNARY: dict[int, Callable[[int], int]] = {
    Op.OP_1ADD: lambda a: a + 1,
    Op.OP_1SUB: lambda a: a - 1,
    Op.OP_NEGATE: lambda a: -a,
    Op.OP_ABS: abs,
    Op.OP_NOT: lambda a: int(a == 0),
    Op.OP_0NOTEQUAL: lambda a: int(a != 0),
}

_BINARY: dict[int, Callable[[int, int], int]] = {
    Op.OP_ADD: lambda a, b: a + b,
    Op.OP_SUB: lambda a, b: a - b,
    Op.OP_BOOLAND: lambda a, b: int(a != 0 and b != 0),
    Op.OP_BOOLOR: lambda a, b: int(a != 0 or b != 0),
    Op.OP_NUMEQUAL: lambda a, b: int(a == b),
    Op.OP_NUMEQUALVERIFY: lambda a, b: int(a == b),
    Op.OP_NUMNOTEQUAL: lambda a, b: int(a != b),
    Op.OP_LESSTHAN: lambda a, b: int(a < b),
    Op.OP_GREATERTHAN: lambda a, b: int(a > b),
    Op.OP_LESSTHANOREQUAL: lambda a, b: int(a <= b),
    Op.OP_GREATERTHANOREQUAL: lambda a, b: int(a >= b),
    Op.OP_MIN: min,
    Op.OP_MAX: max,
}


def op_unary(st: ExecState, opcode: int) -> None:
    stack = _need(st, 1)
    value = _UNARY[opcode](_num(st, stack[-1]))
    stack[-1] = script_num_encode(value)


def op_binary(st: ExecState, opcode: int) -> None:
    stack = _need(st, 2)
    a, b = _num(st, stack[-2]), _num(st, stack[-1])
    del stack[-2:]
    result = _BINARY[opcode](a, b)
    if opcode == Op.OP_NUMEQUALVERIFY:
        if not result:
            raise ScriptError(ScriptErr.NUMEQUALVERIFY)
        return
    stack.append(script_num_encode(result))


def op_within(st: ExecState, opcode: int) -> None:
    stack = _need(st, 3)
    x, low, high = _num(st, stack[-3]), _num(st, stack[-2]), _num(st, stack[-1])
    del stack[-3:]
    stack.append(TRUE if low <= x < high else FALSE)


# -- crypto ---------------------------------------------------------------------------------

_HASHES: dict[int, Callable[[bytes], bytes]] = {
    Op.OP_RIPEMD160: ripemd160,
    Op.OP_SHA1: sha1,
    Op.OP_SHA256: sha256,
    Op.OP_HASH160: hash160,
    Op.OP_HASH256: sha256d,
}


def op_hash(st: ExecState, opcode: int) -> None:
    stack = _need(st, 1)
    stack[-1] = _HASHES[opcode](stack[-1])


def op_codeseparator(st: ExecState, opcode: int) -> None:
    st.codesep_pos = st.pc  # the scriptCode now starts after this op


def _build_table() -> list[Handler | None]:
    table: list[Handler | None] = [None] * 256
    table[Op.OP_1NEGATE] = op_push_number
    for opcode in range(Op.OP_1, Op.OP_16 + 1):
        table[opcode] = op_push_number
    table[Op.OP_NOP] = op_nop
    for opcode in (Op.OP_NOP1, *range(Op.OP_NOP4, Op.OP_NOP10 + 1)):
        table[opcode] = op_upgradable_nop
    single = {
        Op.OP_CHECKLOCKTIMEVERIFY: op_checklocktimeverify,
        Op.OP_CHECKSEQUENCEVERIFY: op_checksequenceverify,
        Op.OP_IF: op_if, Op.OP_NOTIF: op_if, Op.OP_ELSE: op_else, Op.OP_ENDIF: op_endif,
        Op.OP_VERIFY: op_verify, Op.OP_RETURN: op_return,
        Op.OP_TOALTSTACK: op_toaltstack, Op.OP_FROMALTSTACK: op_fromaltstack,
        Op.OP_2DROP: op_2drop, Op.OP_2DUP: op_2dup, Op.OP_3DUP: op_3dup,
        Op.OP_2OVER: op_2over, Op.OP_2ROT: op_2rot, Op.OP_2SWAP: op_2swap,
        Op.OP_IFDUP: op_ifdup, Op.OP_DEPTH: op_depth, Op.OP_DROP: op_drop, Op.OP_DUP: op_dup,
        Op.OP_NIP: op_nip, Op.OP_OVER: op_over, Op.OP_PICK: op_pick_roll,
        Op.OP_ROLL: op_pick_roll, Op.OP_ROT: op_rot, Op.OP_SWAP: op_swap, Op.OP_TUCK: op_tuck,
        Op.OP_SIZE: op_size, Op.OP_EQUAL: op_equal, Op.OP_EQUALVERIFY: op_equal,
        Op.OP_WITHIN: op_within, Op.OP_CODESEPARATOR: op_codeseparator,
        Op.OP_CHECKSIG: op_checksig, Op.OP_CHECKSIGVERIFY: op_checksig,
        Op.OP_CHECKMULTISIG: op_checkmultisig, Op.OP_CHECKMULTISIGVERIFY: op_checkmultisig,
    }  # fmt: skip
    for opcode, handler in single.items():
        table[opcode] = handler
    for opcode in _UNARY:
        table[opcode] = op_unary
    for opcode in _BINARY:
        table[opcode] = op_binary
    for opcode in _HASHES:
        table[opcode] = op_hash
    return table


HANDLERS: list[Handler | None] = _build_table()
