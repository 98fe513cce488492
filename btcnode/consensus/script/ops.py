"""Walking a script op by op (Core's GetScriptOp) and the script templates consensus knows.

`iter_ops` yields `(opcode, push_data, offset)`; a push whose length runs past the end of
the script raises `ScriptParseError`, which callers treat as Core does (sigop counting stops,
the interpreter fails with BAD_OPCODE). `next_op` steps over one op and reports where Core's
iterator stops on one that does not parse (FindAndDelete, the legacy scriptCode).
"""

from __future__ import annotations

from collections.abc import Iterator

from btcnode.consensus.script.opcodes import Op

MAX_SCRIPT_SIZE = 10_000  # Core's script.h: larger scripts always fail and are unspendable


class ScriptParseError(ValueError):
    """A push opcode promises more bytes than the script has."""


def iter_ops(script: bytes) -> Iterator[tuple[int, bytes | None, int]]:
    """Each op of `script`: the opcode, its pushed bytes (None for non-push ops), its offset."""
    pos, end = 0, len(script)
    while pos < end:
        start = pos
        opcode = script[pos]
        pos += 1
        if opcode > Op.OP_PUSHDATA4:
            yield opcode, None, start
            continue
        if opcode < Op.OP_PUSHDATA1:
            size = opcode
        else:
            width = 1 if opcode == Op.OP_PUSHDATA1 else 2 if opcode == Op.OP_PUSHDATA2 else 4
            if pos + width > end:
                raise ScriptParseError(f"truncated push length at offset {start}")
            size = int.from_bytes(script[pos : pos + width], "little")
            pos += width
        if pos + size > end:
            raise ScriptParseError(f"push of {size} bytes at offset {start} runs past the end")
        yield opcode, script[pos : pos + size], start
        pos += size


def next_op(script: bytes, pos: int) -> tuple[int, int, bool]:
    """(opcode, position after it, parsed) for the op at `pos`, as Core's GetScriptOp.

    When the op does not parse, the position is where Core's iterator stopped: after the
    opcode, or after the length bytes when those were read but the data is short.
    """
    end = len(script)
    opcode = script[pos]
    pos += 1
    if opcode > Op.OP_PUSHDATA4:
        return opcode, pos, True
    if opcode < Op.OP_PUSHDATA1:
        size = opcode
    else:
        width = 1 if opcode == Op.OP_PUSHDATA1 else 2 if opcode == Op.OP_PUSHDATA2 else 4
        if end - pos < width:
            return opcode, pos, False
        size = int.from_bytes(script[pos : pos + width], "little")
        pos += width
    if end - pos < size:
        return opcode, pos, False
    return opcode, pos + size, True


def decode_small_int(opcode: int) -> int:
    """The value of OP_0 and OP_1..OP_16 (Core's CScript::DecodeOP_N)."""
    if opcode == Op.OP_0:
        return 0
    if not Op.OP_1 <= opcode <= Op.OP_16:
        raise ValueError(f"opcode {opcode:#x} is not a small integer")
    return opcode - (Op.OP_1 - 1)


def encode_small_int(n: int) -> int:
    if n == 0:
        return Op.OP_0
    if not 1 <= n <= 16:
        raise ValueError(f"{n} is not a small integer")
    return Op.OP_1 + n - 1


def push_data(data: bytes) -> bytes:
    """The minimal push of `data` (Core's CScript << std::vector)."""
    n = len(data)
    if n < Op.OP_PUSHDATA1:
        return bytes((n,)) + data
    if n <= 0xFF:
        return bytes((Op.OP_PUSHDATA1, n)) + data
    if n <= 0xFFFF:
        return bytes((Op.OP_PUSHDATA2,)) + n.to_bytes(2, "little") + data
    return bytes((Op.OP_PUSHDATA4,)) + n.to_bytes(4, "little") + data


def push_int(n: int) -> bytes:
    """The push of a script number as Core's CScript << int64 writes it."""
    if n == -1 or 1 <= n <= 16:
        return bytes((n + (Op.OP_1 - 1),))
    if n == 0:
        return bytes((Op.OP_0,))
    return push_data(script_num_encode(n))


def script_num_encode(n: int) -> bytes:
    """Minimal little-endian sign-magnitude encoding (Core's CScriptNum::serialize)."""
    if n == 0:
        return b""
    negative, magnitude = n < 0, abs(n)
    out = bytearray()
    while magnitude:
        out.append(magnitude & 0xFF)
        magnitude >>= 8
    if out[-1] & 0x80:
        out.append(0x80 if negative else 0)
    elif negative:
        out[-1] |= 0x80
    return bytes(out)


def is_push_only(script: bytes) -> bool:
    """Only push ops (OP_1NEGATE..OP_16 count as pushes, OP_RESERVED too, as in Core)."""
    try:
        return all(opcode <= Op.OP_16 for opcode, _, _ in iter_ops(script))
    except ScriptParseError:
        return False


def is_p2sh(script_pubkey: bytes) -> bool:
    """OP_HASH160 <20 bytes> OP_EQUAL (BIP16)."""
    return (
        len(script_pubkey) == 23
        and script_pubkey[0] == Op.OP_HASH160
        and script_pubkey[1] == 0x14
        and script_pubkey[22] == Op.OP_EQUAL
    )


def witness_program(script_pubkey: bytes) -> tuple[int, bytes] | None:
    """(version, program) if the script is a BIP141 witness program, else None."""
    n = len(script_pubkey)
    if n < 4 or n > 42:
        return None
    first = script_pubkey[0]
    if first != Op.OP_0 and not Op.OP_1 <= first <= Op.OP_16:
        return None
    if script_pubkey[1] + 2 != n:
        return None
    return decode_small_int(first), script_pubkey[2:]


_OP_RETURN_BYTE = int(Op.OP_RETURN)  # a plain int: comparing with the enum member costs 2x


def is_unspendable(script_pubkey: bytes) -> bool:
    """OP_RETURN outputs and oversize scripts can never be spent (Core's IsUnspendable).
    Runs for every output of every connected block."""
    return (bool(script_pubkey) and script_pubkey[0] == _OP_RETURN_BYTE) or len(
        script_pubkey
    ) > MAX_SCRIPT_SIZE


def p2pkh_script(key_hash: bytes) -> bytes:
    return b"\x76\xa9\x14" + _check_len(key_hash, 20) + b"\x88\xac"


def p2sh_script(script_hash: bytes) -> bytes:
    return b"\xa9\x14" + _check_len(script_hash, 20) + b"\x87"


def p2wpkh_script(key_hash: bytes) -> bytes:
    return b"\x00\x14" + _check_len(key_hash, 20)


def p2wsh_script(script_hash: bytes) -> bytes:
    return b"\x00\x20" + _check_len(script_hash, 32)


def _check_len(data: bytes, size: int) -> bytes:
    if len(data) != size:
        raise ValueError(f"expected {size} bytes, got {len(data)}")
    return data
