"""Script numbers (Core's CScriptNum) and the truth value of a stack element.

Operands are little-endian sign-magnitude, at most 4 bytes (5 for the CHECKLOCKTIMEVERIFY
and CHECKSEQUENCEVERIFY operands); results may be longer (up to 5 bytes, the sum of two
4-byte operands) and are pushed as they are. Under MINIMALDATA an operand must use the
shortest encoding. A bad operand fails the script with SCRIPTNUM.
"""

from __future__ import annotations

from btcnode.consensus.script.errors import ScriptErr, ScriptError
from btcnode.consensus.script.ops import script_num_encode

DEFAULT_MAX_NUM_SIZE = 4  # script.h: CScriptNum operands are 32-bit
LOCKTIME_MAX_NUM_SIZE = 5  # BIP65: lock times past 2038 need 5 bytes

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)

__all__ = [
    "DEFAULT_MAX_NUM_SIZE",
    "LOCKTIME_MAX_NUM_SIZE",
    "cast_to_bool",
    "clamp_int",
    "is_minimally_encoded",
    "script_num_decode",
    "script_num_encode",
]


def is_minimally_encoded(data: bytes) -> bool:
    """Core's CScriptNum minimality rule (rejects negative zero `80` too)."""
    if not data:
        return True
    if data[-1] & 0x7F == 0:
        # The top byte may be a bare sign byte only when the next one's high bit is set.
        return len(data) > 1 and bool(data[-2] & 0x80)
    return True


def script_num_decode(
    data: bytes, require_minimal: bool, max_size: int = DEFAULT_MAX_NUM_SIZE
) -> int:
    """The value of a stack element used as a number (Core's CScriptNum constructor)."""
    if len(data) > max_size:
        raise ScriptError(
            ScriptErr.SCRIPTNUM, debug=f"script number overflow: {len(data)} > {max_size} bytes"
        )
    if require_minimal and not is_minimally_encoded(data):
        raise ScriptError(
            ScriptErr.SCRIPTNUM, debug=f"non-minimally encoded script number {data.hex()}"
        )
    if not data:
        return 0
    value = int.from_bytes(data, "little")
    top_bit = 0x80 << (8 * (len(data) - 1))
    if value & top_bit:
        return -(value & ~top_bit)
    return value


def clamp_int(value: int) -> int:
    """Core's CScriptNum::getint: the value saturated to the 32-bit signed range."""
    if value > INT_MAX:
        return INT_MAX
    if value < INT_MIN:
        return INT_MIN
    return value


def cast_to_bool(data: bytes) -> bool:
    """False for empty, all zero bytes, and negative zero (`..00 80`); true otherwise."""
    for i, byte in enumerate(data):
        if byte:
            return not (i == len(data) - 1 and byte == 0x80)
    return False
