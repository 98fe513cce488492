"""Scripts as Core's JSON shows them: assembly, type, address and inferred descriptor.

`script_asm` is Core's ScriptToAsmStr (pushes of up to 4 bytes as numbers, longer ones as
hex, signatures in a scriptSig with their sighash type as `[ALL]` etc.); `script_json` is
ScriptToUniv (`asm`, `desc`, `hex`, `address`, `type`); `infer_descriptor` is what Core's
InferDescriptor gives without any key or script information (`pk()`, `multi()`, `rawtr()`,
`addr()`, `raw()`), with the BIP380 checksum. Pure.
"""

from __future__ import annotations

from typing import Any

import coincurve

from btcnode.address import address_for_script
from btcnode.consensus.params import ChainParams
from btcnode.consensus.script.num import script_num_decode
from btcnode.consensus.script.opcodes import MAX_OPCODE, Op
from btcnode.consensus.script.ops import ScriptParseError, is_unspendable, iter_ops
from btcnode.consensus.script.signature import (
    is_defined_hashtype_signature,
    is_valid_signature_encoding,
)
from btcnode.mempool import TxoutType, solve

__all__ = [
    "descriptor_checksum",
    "infer_descriptor",
    "opcode_name",
    "script_asm",
    "script_json",
]

ASM_NUMBER_MAX_BYTES = 4  # Core's ScriptToAsmStr shows pushes up to 4 bytes as numbers
SIGHASH_NAMES = {
    0x01: "ALL",
    0x81: "ALL|ANYONECANPAY",
    0x02: "NONE",
    0x82: "NONE|ANYONECANPAY",
    0x03: "SINGLE",
    0x83: "SINGLE|ANYONECANPAY",
}
# BIP380: the descriptor character set (groups of 32) and the checksum alphabet.
_INPUT_CHARSET = (
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    'ijklmnopqrstuvwxyzABCDEFGH`#"\\ '
)
_CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0xF5DEE51989, 0xA9FDCA3312, 0x1BAB10E32D, 0x3706B1677A, 0x644D626FFD)


def opcode_name(opcode: int) -> str:
    """Core's GetOpName for a non-push opcode."""
    if opcode == Op.OP_1NEGATE:
        return "-1"
    if Op.OP_1 <= opcode <= Op.OP_16:
        return str(opcode - Op.OP_1 + 1)
    if opcode <= MAX_OPCODE or opcode in (Op.OP_CHECKSIGADD, Op.OP_INVALIDOPCODE):
        return Op(opcode).name
    return "OP_UNKNOWN"


def _push_asm(data: bytes, decode_sighash: bool) -> str:
    if len(data) <= ASM_NUMBER_MAX_BYTES:
        return str(script_num_decode(data, require_minimal=False, max_size=ASM_NUMBER_MAX_BYTES))
    if decode_sighash and is_valid_signature_encoding(data) and is_defined_hashtype_signature(data):
        name = SIGHASH_NAMES.get(data[-1])
        if name is not None:
            return data[:-1].hex() + f"[{name}]"
    return data.hex()


def script_asm(script: bytes, *, decode_sighash: bool = False) -> str:
    """Core's ScriptToAsmStr; `decode_sighash` for scriptSigs."""
    decode_sighash = decode_sighash and not is_unspendable(script)
    words: list[str] = []
    try:
        for opcode, data, _ in iter_ops(script):
            if data is not None:
                words.append(_push_asm(data, decode_sighash))
            else:
                words.append(opcode_name(opcode))
    except ScriptParseError:
        words.append("[error]")
    return " ".join(words)


def descriptor_checksum(descriptor: str) -> str:
    """The 8-character BIP380 checksum of `descriptor`."""
    symbols: list[int] = []
    groups: list[int] = []
    for char in descriptor:
        value = _INPUT_CHARSET.find(char)
        if value < 0:
            raise ValueError(f"character {char!r} is not allowed in a descriptor")
        symbols.append(value & 31)
        groups.append(value >> 5)
        if len(groups) == 3:
            symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2])
            groups = []
    if len(groups) == 1:
        symbols.append(groups[0])
    elif len(groups) == 2:
        symbols.append(groups[0] * 3 + groups[1])
    checksum = _descriptor_polymod([*symbols, 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1
    return "".join(_CHECKSUM_CHARSET[(checksum >> (5 * (7 - i))) & 31] for i in range(8))


def _descriptor_polymod(symbols: list[int]) -> int:
    chk = 1
    for value in symbols:
        top = chk >> 35
        chk = (chk & 0x7FFFFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= generator
    return chk


def _is_non_hybrid_key(key: bytes) -> bool:
    """Core's CPubKey::IsValidNonHybrid: a compressed (02/03) or uncompressed (04) key."""
    return (len(key) == 33 and key[0] in (2, 3)) or (len(key) == 65 and key[0] == 4)


def _is_xonly_point(key: bytes) -> bool:
    """XOnlyPubKey::IsFullyValid: the x coordinate of a point on secp256k1."""
    try:
        coincurve.PublicKeyXOnly(key)
    except ValueError:
        return False
    return True


def _descriptor_body(
    script: bytes, kind: TxoutType, solutions: tuple[bytes, ...], address: str | None
) -> str:
    """InferDescriptor's body from the script's `solve` result and its address."""
    if kind is TxoutType.PUBKEY and _is_non_hybrid_key(solutions[0]):
        return f"pk({solutions[0].hex()})"
    if kind is TxoutType.WITNESS_V1_TAPROOT and _is_xonly_point(solutions[0]):
        return f"rawtr({solutions[0].hex()})"
    if kind is TxoutType.MULTISIG and all(_is_non_hybrid_key(k) for k in solutions[1:-1]):
        return f"multi({solutions[0][0]},{','.join(k.hex() for k in solutions[1:-1])})"
    if address is not None:
        return f"addr({address})"
    return f"raw({script.hex()})"


def _with_checksum(body: str) -> str:
    return f"{body}#{descriptor_checksum(body)}"


def infer_descriptor(script: bytes, params: ChainParams) -> str:
    """Core's InferDescriptor(script, no keys)->ToString(), checksum included."""
    kind, solutions = solve(script)
    address = address_for_script(script, params)
    return _with_checksum(_descriptor_body(script, kind, solutions, address))


def script_json(
    script: bytes, params: ChainParams, *, include_hex: bool = True, include_address: bool = True
) -> dict[str, Any]:
    """Core's ScriptToUniv: asm, desc, hex, address (when there is one), type. The script
    is solved and its address encoded once for both the descriptor and the address."""
    kind, solutions = solve(script)
    address = address_for_script(script, params) if include_address else None
    out: dict[str, Any] = {"asm": script_asm(script)}
    if include_address:
        out["desc"] = _with_checksum(_descriptor_body(script, kind, solutions, address))
    if include_hex:
        out["hex"] = script.hex()
    if address is not None:  # None for P2PK, bare multisig, OP_RETURN and nonstandard
        out["address"] = address
    out["type"] = kind.value
    return out
