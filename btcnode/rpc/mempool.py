"""Mempool methods: getmempoolinfo, getrawmempool and getmempoolentry (Core 28 shapes).

`bip125-replaceable` is BIP125's rule (the transaction or an unconfirmed ancestor signals),
as Core reports it even under full RBF; `unbroadcast` is always false and
`unbroadcastcount` 0: the RPC layer cannot see which transactions were announced to peers.
"""

from __future__ import annotations

from typing import Any

from btcnode.consensus.hashes import hash256_hex
from btcnode.mempool import Mempool, MempoolEntry
from btcnode.rpc.args import get_bool, parse_hash
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.jsonfmt import Amount
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind

__all__ = ["METHODS", "entry_json"]

CATEGORY = "blockchain"


def bip125_replaceable(mempool: Mempool, entry: MempoolEntry) -> bool:
    """Core's IsRBFOptIn: the entry or one of its in-mempool ancestors signals."""
    if entry.signals_rbf:
        return True
    for txid in mempool.ancestors(entry.txid):
        ancestor = mempool.get(txid)
        if ancestor is not None and ancestor.signals_rbf:
            return True
    return False


def entry_json(mempool: Mempool, entry: MempoolEntry) -> dict[str, Any]:
    """Core's entryToJSON."""
    depends = sorted(
        {hash256_hex(txin.prevout.txid) for txin in entry.tx.vin if txin.prevout.txid in mempool}
    )
    return {
        "vsize": entry.vsize,
        "weight": entry.weight,
        "time": entry.time,
        "height": entry.height,
        "descendantcount": entry.descendant_count,
        "descendantsize": entry.descendant_size,
        "ancestorcount": entry.ancestor_count,
        "ancestorsize": entry.ancestor_size,
        "wtxid": hash256_hex(entry.wtxid),
        "fees": {
            "base": Amount(entry.fee),
            "modified": Amount(entry.fee),  # no prioritisetransaction: modified is base
            "ancestor": Amount(entry.ancestor_fees),
            "descendant": Amount(entry.descendant_fees),
        },
        "depends": depends,
        "spentby": sorted(hash256_hex(child) for child in entry.children),
        "bip125-replaceable": bip125_replaceable(mempool, entry),
        "unbroadcast": False,
    }


def getmempoolinfo(call: Call) -> Any:
    info = call.ctx.node.mempool.info(call.ctx.clock())
    return {
        "loaded": True,
        "size": info.size,
        "bytes": info.bytes,
        "usage": info.usage,
        "total_fee": Amount(info.total_fee),
        "maxmempool": info.max_size_bytes,
        "mempoolminfee": Amount(max(info.min_fee, info.min_relay_fee).sat_per_kvb),
        "minrelaytxfee": Amount(info.min_relay_fee.sat_per_kvb),
        "incrementalrelayfee": Amount(info.incremental_relay_fee.sat_per_kvb),
        "unbroadcastcount": 0,
        "fullrbf": info.full_rbf,
    }


def getrawmempool(call: Call) -> Any:
    mempool = call.ctx.node.mempool
    verbose = False if call.arg(0) is None else get_bool(call.arg(0))
    sequence = False if call.arg(1) is None else get_bool(call.arg(1))
    if verbose and sequence:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Verbose results cannot contain mempool sequence values.",
        )
    if sequence:
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, "mempool_sequence is not kept by this node")
    entries = mempool.entries()
    if not verbose:
        return [hash256_hex(entry.txid) for entry in entries]
    return {hash256_hex(entry.txid): entry_json(mempool, entry) for entry in entries}


def getmempoolentry(call: Call) -> Any:
    mempool = call.ctx.node.mempool
    entry = mempool.get(parse_hash(call.arg(0), "txid"))
    if entry is None:
        raise RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Transaction not in mempool")
    return entry_json(mempool, entry)


METHODS = (
    MethodSpec(
        "getmempoolentry",
        CATEGORY,
        getmempoolentry,
        "Returns mempool data for given transaction",
        (
            Param(
                "txid", ParamKind.STR_HEX, "The transaction id (must be in mempool)", required=True
            ),
        ),
    ),
    MethodSpec(
        "getmempoolinfo",
        CATEGORY,
        getmempoolinfo,
        "Returns details on the active state of the TX memory pool.",
    ),
    MethodSpec(
        "getrawmempool",
        CATEGORY,
        getrawmempool,
        "Returns all transaction ids in memory pool as a json array of string transaction ids."
        "\n\nHint: use getmempoolentry to fetch a specific transaction from the mempool.",
        (
            Param(
                "verbose",
                ParamKind.BOOL,
                "True for a json object, false for array of transaction ids",
                default="false",
            ),
            Param(
                "mempool_sequence",
                ParamKind.BOOL,
                "If verbose=false, returns a json object with transaction list and mempool "
                "sequence number attached.",
                default="false",
            ),
        ),
    ),
)
