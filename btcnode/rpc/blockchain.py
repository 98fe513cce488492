"""Blockchain methods: the active chain, blocks, headers, tips, and operator overrides.

Shapes are Bitcoin Core 28's (rpc/blockchain.cpp). Deviations: `size_on_disk` is 0 (the
context offers no disk figure), and `initialblockdownload` is computed afresh on each call
from the tip's age (Core latches it to false once it has left IBD).
"""

from __future__ import annotations

from typing import Any

from btcnode.chain import Chainstate, IndexEntry
from btcnode.consensus.hashes import hash256_hex
from btcnode.rpc.args import get_bool, get_int, parse_hash, parse_verbosity
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind
from btcnode.rpc.render import block_json, difficulty, header_json

__all__ = ["CHAIN_NAMES", "MAX_TIP_AGE_SECONDS", "METHODS", "lookup_block"]

CATEGORY = "blockchain"
MAX_TIP_AGE_SECONDS = 24 * 60 * 60  # Core's DEFAULT_MAX_TIP_AGE: an older tip means IBD
CHAIN_NAMES = {"mainnet": "main", "testnet": "test"}  # Core's chain names where ours differ
_BLOCKHASH = Param("blockhash", ParamKind.STR_HEX, "The block hash", required=True)


def chain_name(call: Call) -> str:
    name = call.ctx.node.params.name
    return CHAIN_NAMES.get(name, name)


def lookup_block(chain: Chainstate, value: Any, name: str = "blockhash") -> IndexEntry:
    """The index entry of a block hash argument; -5 "Block not found" when unknown."""
    entry = chain.get_index(parse_hash(value, name))
    if entry is None:
        raise RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found")
    return entry


def in_initial_download(chain: Chainstate, now: int) -> bool:
    """Core's IsInitialBlockDownload without its latch (no minimum chain work on regtest)."""
    return chain.tip.time < now - MAX_TIP_AGE_SECONDS


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


def getblockchaininfo(call: Call) -> Any:
    chain = call.ctx.node.chainstate
    tip = chain.tip
    return {
        "chain": chain_name(call),
        "blocks": tip.height,
        "headers": chain.best_header.height,
        "bestblockhash": hash256_hex(tip.hash),
        "difficulty": difficulty(tip.bits),
        "time": tip.time,
        "mediantime": chain.median_time_past(tip.height),
        "verificationprogress": 1.0,  # Core's estimate with regtest's empty chainTxData
        "initialblockdownload": in_initial_download(chain, call.ctx.clock()),
        "chainwork": f"{tip.chain_work:064x}",
        "size_on_disk": 0,
        "pruned": False,
        "warnings": [],
    }


def getdifficulty(call: Call) -> Any:
    return difficulty(call.ctx.node.chainstate.tip.bits)


def getblock(call: Call) -> Any:
    chain = call.ctx.node.chainstate
    entry = lookup_block(chain, call.arg(0))
    verbosity = parse_verbosity(call.arg(1), 1)
    if verbosity <= 0:
        raw = chain.get_raw_block(entry.hash)
        if raw is None:
            raise RpcError(RpcErrorCode.MISC_ERROR, "Block not found on disk")
        return raw.hex()
    block = chain.get_block(entry.hash)
    if block is None:
        raise RpcError(RpcErrorCode.MISC_ERROR, "Block not found on disk")
    return block_json(chain, entry, block, verbosity)


def getblockheader(call: Call) -> Any:
    chain = call.ctx.node.chainstate
    entry = lookup_block(chain, call.arg(0), "hash")
    verbose = True if call.arg(1) is None else get_bool(call.arg(1))
    if not verbose:
        return entry.header.serialize().hex()
    block = chain.get_block(entry.hash)
    return header_json(chain, entry, 0 if block is None else len(block.txs))


def getchaintips(call: Call) -> Any:
    return [
        {
            "height": tip.height,
            "hash": hash256_hex(tip.hash),
            "branchlen": tip.branch_len,
            "status": tip.status.value,
        }
        for tip in call.ctx.node.chainstate.chain_tips()
    ]


def invalidateblock(call: Call) -> Any:
    ctx = call.ctx
    entry = lookup_block(ctx.node.chainstate, call.arg(0))
    ctx.node.invalidate_block(entry.hash, ctx.clock())
    ctx.durable()
    return None


def reconsiderblock(call: Call) -> Any:
    ctx = call.ctx
    entry = lookup_block(ctx.node.chainstate, call.arg(0))
    ctx.node.reconsider_block(entry.hash, ctx.clock())
    ctx.durable()
    return None


METHODS = (
    MethodSpec(
        "getbestblockhash",
        CATEGORY,
        getbestblockhash,
        "Returns the hash of the best (tip) block in the most-work fully-validated chain.",
    ),
    MethodSpec(
        "getblock",
        CATEGORY,
        getblock,
        "If verbosity is 0, returns a string that is serialized, hex-encoded data for block "
        "'hash'.\nIf verbosity is 1, returns an Object with information about block <hash>.\n"
        "If verbosity is 2, returns an Object with information about block <hash> and "
        "information about each transaction.",
        (
            _BLOCKHASH,
            Param(
                "verbosity",
                ParamKind.NUM,
                "0 for hex-encoded data, 1 for a JSON object, 2 for JSON object with "
                "transaction data, and 3 for JSON object with transaction data including "
                "prevout information for inputs",
                default="1",
                skip_type_check=True,
            ),
        ),
    ),
    MethodSpec(
        "getblockchaininfo",
        CATEGORY,
        getblockchaininfo,
        "Returns an object containing various state info regarding blockchain processing.",
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
    MethodSpec(
        "getblockheader",
        CATEGORY,
        getblockheader,
        "If verbose is false, returns a string that is serialized, hex-encoded data for "
        "blockheader 'hash'.\nIf verbose is true, returns an Object with information about "
        "blockheader <hash>.",
        (
            _BLOCKHASH,
            Param(
                "verbose",
                ParamKind.BOOL,
                "true for a json object, false for the hex-encoded data",
                default="true",
            ),
        ),
    ),
    MethodSpec(
        "getchaintips",
        CATEGORY,
        getchaintips,
        "Return information about all known tips in the block tree, including the main "
        "chain as well as orphaned branches.",
    ),
    MethodSpec(
        "getdifficulty",
        CATEGORY,
        getdifficulty,
        "Returns the proof-of-work difficulty as a multiple of the minimum difficulty.",
    ),
    MethodSpec(
        "invalidateblock",
        CATEGORY,
        invalidateblock,
        "Permanently marks a block as invalid, as if it violated a consensus rule.",
        (
            Param(
                "blockhash",
                ParamKind.STR_HEX,
                "the hash of the block to mark as invalid",
                required=True,
            ),
        ),
    ),
    MethodSpec(
        "reconsiderblock",
        CATEGORY,
        reconsiderblock,
        "Removes invalidity status of a block, its ancestors and its descendants, reconsider "
        "them for activation.\nThis can be used to undo the effects of invalidateblock.",
        (
            Param(
                "blockhash", ParamKind.STR_HEX, "the hash of the block to reconsider", required=True
            ),
        ),
    ),
)
