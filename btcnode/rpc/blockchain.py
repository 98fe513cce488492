"""Blockchain methods: the active chain, blocks, headers, tips and the UTXO set."""

from __future__ import annotations

from typing import Any

from btcnode.consensus.hashes import hash256_hex
from btcnode.rpc.args import get_int
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind

__all__ = ["METHODS"]

CATEGORY = "blockchain"


def getblockcount(call: Call) -> Any:
    return call.ctx.node.chainstate.tip_height


def getbestblockhash(call: Call) -> Any:
    return hash256_hex(call.ctx.node.chainstate.tip_hash)


def getblockhash(call: Call) -> Any:
    chainstate = call.ctx.node.chainstate
    height = get_int(call.arg(0))
    if not 0 <= height <= chainstate.tip_height:
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, "Block height out of range")
    return hash256_hex(chainstate.block_hash_at(height))


METHODS = (
    MethodSpec(
        "getbestblockhash",
        CATEGORY,
        getbestblockhash,
        "Returns the hash of the best (tip) block in the most-work fully-validated chain.",
    ),
    MethodSpec(
        "getblockcount",
        CATEGORY,
        getblockcount,
        "Returns the height of the most-work fully-validated chain.\n"
        "The genesis block has height 0.",
    ),
    MethodSpec(
        "getblockhash",
        CATEGORY,
        getblockhash,
        "Returns hash of block in best-block-chain at height provided.",
        (Param("height", ParamKind.NUM, "The height index", required=True),),
    ),
)
