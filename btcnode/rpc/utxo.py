"""Blockchain methods over the UTXO set: gettxout and gettxoutsetinfo (Core 28 shapes).

gettxoutsetinfo answers from `Chainstate.utxo_stats`, which counts coins and amounts but
not Core's `bogosize`, `transactions` or `disk_size`, and hashes the set in its own
format rather than Core's hash_serialized_3 or MuHash: only `hash_type` "none" is served
(also the default here, where Core's default is hash_serialized_3).
"""

from __future__ import annotations

from typing import Any

from btcnode.consensus.coins import MEMPOOL_HEIGHT
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import OutPoint
from btcnode.rpc.args import get_bool, get_int, get_str, parse_hash
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.jsonfmt import Amount
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind
from btcnode.rpc.render_script import script_json

__all__ = ["METHODS"]

CATEGORY = "blockchain"
UINT32_MAX = 0xFFFFFFFF
SUPPORTED_HASH_TYPE = "none"


def gettxout(call: Call) -> Any:
    node = call.ctx.node
    chain = node.chainstate
    outpoint = OutPoint(parse_hash(call.arg(0), "txid"), get_int(call.arg(1), 0, UINT32_MAX))
    include_mempool = True if call.arg(2) is None else get_bool(call.arg(2))
    if include_mempool:
        coin = node.mempool.coins_view(chain).get_coin(outpoint)
        if coin is None or node.mempool.spender_of(outpoint) is not None:
            return None
    else:
        coin = chain.get_coin(outpoint)
        if coin is None:
            return None
    confirmations = 0 if coin.height == MEMPOOL_HEIGHT else chain.tip_height - coin.height + 1
    return {
        "bestblock": hash256_hex(chain.tip_hash),
        "confirmations": confirmations,
        "value": Amount(coin.out.value),
        "scriptPubKey": script_json(coin.out.script_pubkey, node.params),
        "coinbase": coin.is_coinbase,
    }


def gettxoutsetinfo(call: Call) -> Any:
    hash_type = SUPPORTED_HASH_TYPE if call.arg(0) is None else get_str(call.arg(0))
    if hash_type != SUPPORTED_HASH_TYPE:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            f"{hash_type} is not a valid hash_type (this node serves only 'none')",
        )
    if call.arg(2) is not None:
        get_bool(call.arg(2))  # there is no coinstatsindex to use either way
    if call.arg(1) is not None:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Querying specific block heights requires coinstatsindex",
        )
    stats = call.ctx.node.chainstate.utxo_stats()
    return {
        "height": stats.tip_height,
        "bestblock": hash256_hex(stats.tip_hash),
        "txouts": stats.coins,
        "total_amount": Amount(stats.total_amount),
    }


METHODS = (
    MethodSpec(
        "gettxout",
        CATEGORY,
        gettxout,
        "Returns details about an unspent transaction output.",
        (
            Param("txid", ParamKind.STR, "The transaction id", required=True),
            Param("n", ParamKind.NUM, "vout number", required=True),
            Param(
                "include_mempool",
                ParamKind.BOOL,
                "Whether to include the mempool. Note that an unspent output that is spent "
                "in the mempool won't appear.",
                default="true",
            ),
        ),
    ),
    MethodSpec(
        "gettxoutsetinfo",
        CATEGORY,
        gettxoutsetinfo,
        "Returns statistics about the unspent transaction output set.",
        (
            Param(
                "hash_type",
                ParamKind.STR,
                "Which UTXO set hash should be calculated. Options: 'none'.",
                default="none",
            ),
            Param(
                "hash_or_height",
                ParamKind.NUM,
                "The block hash or height of the target height (needs coinstatsindex).",
                skip_type_check=True,
            ),
            Param("use_index", ParamKind.BOOL, "Use coinstatsindex, if available.", default="true"),
        ),
    ),
)
