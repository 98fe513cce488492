"""decodescript (Core 28's rpc/rawtransaction.cpp): a script's JSON, with the P2SH address
and the P2WPKH/P2WSH form it could be wrapped in, when Core would show them.

Deviation: the `segwit` object's `desc` is the inferred descriptor of the segwit output
alone (`addr(...)`), since this node has no descriptor engine to show `wsh(...)` around
the script as Core does.
"""

from __future__ import annotations

from typing import Any

from btcnode.address import address_for_script
from btcnode.consensus.hashes import hash160, sha256
from btcnode.consensus.params import ChainParams
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import (
    is_unspendable,
    iter_ops,
    p2sh_script,
    p2wpkh_script,
    p2wsh_script,
)
from btcnode.mempool import TxoutType, solve
from btcnode.rpc.render_script import script_json
from btcnode.rpc.txdecode import has_valid_ops

__all__ = ["decode_script", "is_op_success"]

_WRAPPABLE = frozenset(
    {
        TxoutType.MULTISIG,
        TxoutType.NONSTANDARD,
        TxoutType.PUBKEY,
        TxoutType.PUBKEYHASH,
        TxoutType.WITNESS_V0_KEYHASH,
        TxoutType.WITNESS_V0_SCRIPTHASH,
    }
)
_SEGWIT_WRAPPABLE = frozenset(
    {TxoutType.MULTISIG, TxoutType.PUBKEY, TxoutType.NONSTANDARD, TxoutType.PUBKEYHASH}
)


def is_op_success(opcode: int) -> bool:
    """BIP342's OP_SUCCESSx opcodes."""
    return (
        opcode in (80, 98)
        or 126 <= opcode <= 129
        or 131 <= opcode <= 134
        or 137 <= opcode <= 138
        or 141 <= opcode <= 142
        or 149 <= opcode <= 153
        or 187 <= opcode <= 254
    )


def _can_wrap(script: bytes, kind: TxoutType) -> bool:
    if kind not in _WRAPPABLE or not has_valid_ops(script) or is_unspendable(script):
        return False
    return not any(op == Op.OP_CHECKSIGADD or is_op_success(op) for op, _, _ in iter_ops(script))


def _can_wrap_segwit(kind: TxoutType, solutions: tuple[bytes, ...]) -> bool:
    if kind not in _SEGWIT_WRAPPABLE:
        return False
    if kind in (TxoutType.MULTISIG, TxoutType.PUBKEY):
        # Uncompressed keys cannot be used with segwit checksigs.
        return all(len(s) == 1 or (len(s) == 33 and s[0] in (2, 3)) for s in solutions)
    return True


def _segwit_script(script: bytes, kind: TxoutType, solutions: tuple[bytes, ...]) -> bytes:
    if kind is TxoutType.PUBKEY:
        return p2wpkh_script(hash160(solutions[0]))
    if kind is TxoutType.PUBKEYHASH:
        return p2wpkh_script(solutions[0])
    return p2wsh_script(sha256(script))


def decode_script(script: bytes, params: ChainParams) -> dict[str, Any]:
    result = script_json(script, params, include_hex=False)
    kind, solutions = solve(script)
    if not _can_wrap(script, kind):
        return result
    result["p2sh"] = address_for_script(p2sh_script(hash160(script)), params)
    if _can_wrap_segwit(kind, solutions):
        segwit = _segwit_script(script, kind, solutions)
        inner = script_json(segwit, params)
        inner["p2sh-segwit"] = address_for_script(p2sh_script(hash160(segwit)), params)
        result["segwit"] = inner
    return result
