"""Bitcoin Core's script assembler format (core_read.cpp ParseScript), for tests and tooling.

Words are separated by whitespace:

* a decimal number in -0xFFFFFFFF..0xFFFFFFFF is pushed as a script number (`push_int`);
* `0x` followed by hex is inserted raw, not pushed (so `0x14 0x<20 bytes>` is a push);
* `'text'` is pushed as bytes (no spaces inside);
* an opcode name, with or without `OP_`, for OP_NOP..OP_NOP10 and OP_RESERVED; the
  push opcodes are written as numbers or raw hex. OP_NOP2 and OP_NOP3 are spelled by
  their names CHECKLOCKTIMEVERIFY and CHECKSEQUENCEVERIFY, as Core's GetOpName does.
"""

from __future__ import annotations

import re

from btcnode.consensus.script.opcodes import MAX_OPCODE, Op
from btcnode.consensus.script.ops import push_data, push_int

MAX_ASM_NUMBER = 0xFFFFFFFF  # ParseScript refuses larger decimal numbers

__all__ = ["AsmParseError", "parse_asm"]

_NUMBER = re.compile(r"-?[0-9]+")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


class AsmParseError(ValueError):
    """A word of the assembler text is not a number, hex, string or opcode name."""


def _opcode_names() -> dict[str, int]:
    names: dict[str, int] = {}
    for op in Op:
        if (op < Op.OP_NOP and op != Op.OP_RESERVED) or op > MAX_OPCODE:
            continue
        names[op.name] = int(op)
        names[op.name.removeprefix("OP_")] = int(op)
    return names


OPCODE_NAMES = _opcode_names()


def _parse_word(word: str) -> bytes:
    if _NUMBER.fullmatch(word):
        value = int(word)
        if abs(value) > MAX_ASM_NUMBER:
            raise AsmParseError(f"decimal {word} outside -0xFFFFFFFF..0xFFFFFFFF")
        return push_int(value)
    if word.startswith("0x") and len(word) > 2:
        if not _HEX.fullmatch(word[2:]):
            raise AsmParseError(f"bad hex {word!r}")
        return bytes.fromhex(word[2:])
    if len(word) >= 2 and word[0] == "'" and word[-1] == "'":
        return push_data(word[1:-1].encode())
    opcode = OPCODE_NAMES.get(word)
    if opcode is None:
        raise AsmParseError(f"unknown opcode {word!r}")
    return bytes((opcode,))


def parse_asm(text: str) -> bytes:
    """The script Core's ParseScript builds from `text`."""
    return b"".join(_parse_word(word) for word in text.split())
