"""Raw transaction methods: getrawtransaction, decoderawtransaction, decodescript and
createrawtransaction (Core 28's rpc/rawtransaction.cpp shapes and messages).

getrawtransaction finds mempool transactions, and confirmed ones when the block is named
(`blockhash`): this node keeps no transaction index (Core's -txindex), as Core without it.
"""

from __future__ import annotations

from typing import Any

from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import Tx
from btcnode.rpc.args import parse_hash, parse_hex, parse_verbosity
from btcnode.rpc.blockchain import lookup_block
from btcnode.rpc.construct import construct_transaction
from btcnode.rpc.decodescript import decode_script
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind
from btcnode.rpc.render import spent_within_block, tx_json
from btcnode.rpc.txdecode import decode_hex_tx

__all__ = ["METHODS", "require_tx"]

CATEGORY = "rawtransactions"
NO_TXINDEX = (
    "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain "
    "transaction queries. Use gettransaction for wallet transactions."
)
NOT_IN_BLOCK = (
    "No such transaction found in the provided block. Use gettransaction for wallet transactions."
)


def require_tx(text: Any, *, try_no_witness: bool = True, try_witness: bool = True) -> Tx:
    """A hex transaction argument; -22 "TX decode failed" (Core's wording) otherwise."""
    tx = decode_hex_tx(str(text), try_no_witness=try_no_witness, try_witness=try_witness)
    if tx is None:
        raise RpcError(
            RpcErrorCode.DESERIALIZATION_ERROR,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    return tx


def getrawtransaction(call: Call) -> Any:
    node = call.ctx.node
    txid = parse_hash(call.arg(0), "parameter 1")
    verbosity = parse_verbosity(call.arg(1), 0)
    if txid == node.params.genesis.txs[0].txid:
        raise RpcError(
            RpcErrorCode.INVALID_ADDRESS_OR_KEY,
            "The genesis block coinbase is not considered an ordinary transaction and cannot "
            "be retrieved",
        )
    if call.arg(2) is None:
        entry = node.mempool.get(txid)
        if entry is None:
            raise RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, NO_TXINDEX)
        return (
            entry.tx.serialize().hex()
            if verbosity <= 0
            else tx_json(entry.tx, node.params, include_hex=True)
        )
    return _confirmed_tx(call, txid, verbosity)


def _confirmed_tx(call: Call, txid: bytes, verbosity: int) -> Any:
    chain = call.ctx.node.chainstate
    entry = lookup_block(chain, call.arg(2))
    block = chain.get_block(entry.hash)
    if block is None:
        raise RpcError(RpcErrorCode.MISC_ERROR, "Block not available")
    tx = next((tx for tx in block.txs if tx.txid == txid), None)
    if tx is None:
        raise RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, NOT_IN_BLOCK)
    if verbosity <= 0:
        return tx.serialize().hex()
    on_chain = chain.is_on_active_chain(entry.hash)
    result: dict[str, Any] = {"in_active_chain": on_chain}
    spent = spent_within_block(block, entry.height) if verbosity >= 2 else None
    result |= tx_json(tx, chain.params, include_hex=True, spent=spent, show_prevout=verbosity >= 2)
    result["blockhash"] = hash256_hex(entry.hash)
    result["confirmations"] = chain.tip_height - entry.height + 1 if on_chain else 0
    result["time"] = entry.time
    result["blocktime"] = entry.time
    return result


def decoderawtransaction(call: Call) -> Any:
    witness = call.arg(1)  # None: try both serializations (Core's heuristic)
    tx = require_tx(
        call.arg(0),
        try_no_witness=witness is None or not witness,
        try_witness=witness is None or witness,
    )
    return tx_json(tx, call.ctx.node.params, include_hex=False)


def decodescript(call: Call) -> Any:
    return decode_script(parse_hex(call.arg(0), "argument"), call.ctx.node.params)


def createrawtransaction(call: Call) -> Any:
    params: ChainParams = call.ctx.node.params
    tx = construct_transaction(call.arg(0), call.arg(1), call.arg(2), call.arg(3), params)
    return tx.serialize().hex()


METHODS = (
    MethodSpec(
        "createrawtransaction",
        CATEGORY,
        createrawtransaction,
        "Create a transaction spending the given inputs and creating new outputs.\n"
        "Outputs can be addresses or data.\nReturns hex-encoded raw transaction.\n"
        "Note that the transaction's inputs are not signed, and\n"
        "it is not stored in the wallet or transmitted to the network.",
        (
            Param("inputs", ParamKind.ARR, "The inputs", required=True),
            Param(
                "outputs",
                ParamKind.ARR,
                "The outputs specified as key-value pairs.",
                required=True,
                skip_type_check=True,
            ),
            Param(
                "locktime",
                ParamKind.NUM,
                "Raw locktime. Non-0 value also locktime-activates inputs",
                default="0",
            ),
            Param(
                "replaceable",
                ParamKind.BOOL,
                "Marks this transaction as BIP125-replaceable.",
                default="false",
            ),
        ),
    ),
    MethodSpec(
        "decoderawtransaction",
        CATEGORY,
        decoderawtransaction,
        "Return a JSON object representing the serialized, hex-encoded transaction.",
        (
            Param("hexstring", ParamKind.STR_HEX, "The transaction hex string", required=True),
            Param(
                "iswitness",
                ParamKind.BOOL,
                "Whether the transaction hex is a serialized witness transaction.",
                default="depends on heuristic tests",
            ),
        ),
    ),
    MethodSpec(
        "decodescript",
        CATEGORY,
        decodescript,
        "Decode a hex-encoded script.",
        (Param("hexstring", ParamKind.STR_HEX, "the hex-encoded script", required=True),),
    ),
    MethodSpec(
        "getrawtransaction",
        CATEGORY,
        getrawtransaction,
        "By default, this call only returns a transaction if it is in the mempool. If -txindex "
        "is enabled and no blockhash argument is passed, it will return the transaction if it "
        "is in a block in the blockchain.\n\nHint: Use gettransaction for wallet transactions.\n\n"
        "If verbosity is 0 or omitted, returns the serialized transaction as a hex-encoded "
        "string.\nIf verbosity is 1, returns a JSON Object with information about the "
        "transaction.\nIf verbosity is 2, returns a JSON Object with information about the "
        "transaction, including fee and prevout information.",
        (
            Param("txid", ParamKind.STR_HEX, "The transaction id", required=True),
            Param(
                "verbosity",
                ParamKind.NUM,
                "0 for hex-encoded data, 1 for a JSON object, and 2 for JSON object with fee "
                "and prevout",
                default="0",
                skip_type_check=True,
            ),
            Param("blockhash", ParamKind.STR_HEX, "The block in which to look for the transaction"),
        ),
    ),
)
