"""Mining methods: regtest block generation, block submission, mining information and
fee estimation (Core 28's rpc/mining.cpp and rpc/fees.cpp shapes).

Deviations: generateblock's output is an address or an `addr(...)`/`raw(...)` descriptor
(no other descriptors); a generateblock block that fails validation is refused with -25
like Core's TestBlockValidity, but it stays in the block index marked invalid (there is
no validity check without storing). submitblock answers "inconclusive" for a block whose
parent is unknown: it waits in the orphan pool, where Core answers "prev-blk-not-found".
estimatesmartfee has no estimator: it always answers Core's "no data" shape.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from btcnode.chain import ChainUpdate, IndexEntry, Validity
from btcnode.consensus.block import Block
from btcnode.consensus.errors import BlockValidationError, SerializationError
from btcnode.consensus.params import ChainParams
from btcnode.consensus.subsidy import block_subsidy
from btcnode.consensus.tx import Tx
from btcnode.node import solve_template
from btcnode.rpc.args import get_bool, get_int, get_str, parse_destination, parse_hex
from btcnode.rpc.blockchain import chain_name
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind
from btcnode.rpc.render import difficulty
from btcnode.rpc.render_script import descriptor_checksum
from btcnode.rpc.txdecode import decode_hex_tx

__all__ = ["DEFAULT_MAX_TRIES", "METHODS", "network_hashps"]

CATEGORY = "generating"
DEFAULT_MAX_TRIES = 1_000_000  # Core's generate*: nonces tried per block before giving up
NETWORK_HASHPS_LOOKUP = 120  # Core's getnetworkhashps default window (blocks)
MAX_CONF_TARGET = 1008  # Core's fee estimator's longest horizon
ESTIMATE_MODES = ("unset", "economical", "conservative")


def generatetoaddress(call: Call) -> Any:
    ctx = call.ctx
    nblocks = get_int(call.arg(0))
    script = parse_destination(call.arg(1), ctx.node.params, "Error: Invalid address")
    if call.arg(2) is not None:
        get_int(call.arg(2))  # accepted for Core compatibility; regtest needs few tries
    blocks = ctx.node.generate(max(0, nblocks), script, ctx.clock())  # Core: none if < 1
    ctx.durable()
    return [block.header.hash_hex for block in blocks]


def _output_script(value: Any, params: ChainParams) -> bytes:
    """generateblock's output: an address, `addr(ADDRESS)` or `raw(HEX)`, checksum optional."""
    text = get_str(value)
    body, _, checksum = text.partition("#")
    if checksum and checksum != descriptor_checksum(body):
        raise RpcError(
            RpcErrorCode.INVALID_ADDRESS_OR_KEY,
            f"Provided checksum '{checksum}' does not match computed checksum "
            f"'{descriptor_checksum(body)}'",
        )
    if body.startswith("raw(") and body.endswith(")"):
        return parse_hex(body[4:-1], "raw descriptor")
    if body.startswith("addr(") and body.endswith(")"):
        body = body[5:-1]
    return parse_destination(body, params, "Error: Invalid address or descriptor")


def _block_transactions(call: Call, items: Any) -> list[Tx]:
    txs = []
    mempool = call.ctx.node.mempool
    for item in items:
        text = get_str(item)
        if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
            entry = mempool.get(bytes.fromhex(text)[::-1])
            if entry is None:
                raise RpcError(
                    RpcErrorCode.INVALID_ADDRESS_OR_KEY, f"Transaction {text} not in mempool."
                )
            txs.append(entry.tx)
            continue
        tx = decode_hex_tx(text)
        if tx is None:
            raise RpcError(
                RpcErrorCode.DESERIALIZATION_ERROR,
                f"Transaction decode failed for {text}. Make sure the tx has at least one input.",
            )
        txs.append(tx)
    return txs


def generateblock(call: Call) -> Any:
    """A block with exactly the given transactions, fees forfeited as in Core."""
    ctx = call.ctx
    node = ctx.node
    script = _output_script(call.arg(0), node.params)
    txs = _block_transactions(call, call.arg(1))
    submit = True if call.arg(2) is None else get_bool(call.arg(2))
    now = ctx.clock()
    template = node.block_template(script, now)
    template = dataclasses.replace(
        template,
        txs=tuple(txs),
        fees=(0,) * len(txs),
        sigop_costs=(0,) * len(txs),
        coinbase_value=block_subsidy(template.height, node.params),
    )
    block = solve_template(template)
    if not submit:
        return {"hash": block.header.hash_hex, "hex": block.serialize().hex()}
    try:
        update = node.submit_block(block, now)
    except BlockValidationError as err:
        raise _test_block_validity_failed(err) from None
    ctx.durable()
    rejection = update.rejection(block.hash) if isinstance(update, ChainUpdate) else None
    if rejection is not None:
        raise _test_block_validity_failed(rejection)
    return {"hash": block.header.hash_hex}


def _test_block_validity_failed(err: BlockValidationError) -> RpcError:
    state = f"{err.reject_reason}, {err.debug}" if err.debug else err.reject_reason
    return RpcError(RpcErrorCode.VERIFY_ERROR, f"TestBlockValidity failed: {state}")


def _known_result(entry: IndexEntry | None) -> str | None:
    if entry is None:
        return None
    if entry.status.failed:
        return "duplicate-invalid"
    if entry.status.validity >= Validity.SCRIPTS or entry.status.have_data:
        return "duplicate"
    return None


def submitblock(call: Call) -> Any:
    """Core's submitblock: null when the block became valid, else a BIP22 result string."""
    ctx = call.ctx
    node = ctx.node
    raw = parse_hex(call.arg(0), "hexdata")
    try:
        block = Block.deserialize(raw)
    except (SerializationError, ValueError):
        raise RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "Block decode failed") from None
    if not block.txs or not block.txs[0].is_coinbase():
        raise RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "Block does not start with a coinbase")
    known = _known_result(node.chainstate.get_index(block.hash))
    if known is not None:
        return known
    try:
        update = node.submit_block(block, ctx.clock(), raw=raw)
    except BlockValidationError as err:
        return err.reject_reason or "rejected"
    ctx.durable()
    if not isinstance(update, ChainUpdate):
        return "inconclusive"  # an orphan waiting for its parent
    rejection = update.rejection(block.hash)
    if rejection is not None:
        return rejection.reject_reason or "rejected"
    return None if node.chainstate.is_on_active_chain(block.hash) else "inconclusive"


def network_hashps(call: Call, lookup: int = NETWORK_HASHPS_LOOKUP) -> float:
    """Core's GetNetworkHashPS over the last `lookup` blocks of the active chain."""
    chain = call.ctx.node.chainstate
    tip = chain.tip
    lookup = min(lookup, tip.height)
    if lookup <= 0:
        return 0
    times = [chain.block_time(h) for h in range(tip.height - lookup, tip.height + 1)]
    span = max(times) - min(times)
    if span == 0:
        return 0
    start = chain.get_index(chain.block_hash_at(tip.height - lookup))
    assert start is not None
    return (tip.chain_work - start.chain_work) / span


def getmininginfo(call: Call) -> Any:
    node = call.ctx.node
    tip = node.chainstate.tip
    return {
        "blocks": tip.height,
        "difficulty": difficulty(tip.bits),
        "networkhashps": network_hashps(call),
        "pooledtx": len(node.mempool),
        "chain": chain_name(call),
        "warnings": [],
    }


def estimatesmartfee(call: Call) -> Any:
    target = get_int(call.arg(0))
    if not 1 <= target <= MAX_CONF_TARGET:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            f"Invalid conf_target, must be between 1 and {MAX_CONF_TARGET}",
        )
    if call.arg(1) is not None and get_str(call.arg(1)).lower() not in ESTIMATE_MODES:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            'Invalid estimate_mode parameter, must be one of: "unset", "economical", '
            '"conservative"',
        )
    return {"errors": ["Insufficient data or no feerate found"], "blocks": 0}


METHODS = (
    MethodSpec(
        "estimatesmartfee",
        "util",
        estimatesmartfee,
        "Estimates the approximate fee per kilobyte needed for a transaction to begin\n"
        "confirmation within conf_target blocks if possible and return the number of blocks\n"
        "for which the estimate is valid.",
        (
            Param(
                "conf_target",
                ParamKind.NUM,
                "Confirmation target in blocks (1 - 1008)",
                required=True,
            ),
            Param("estimate_mode", ParamKind.STR, "The fee estimate mode.", default="economical"),
        ),
    ),
    MethodSpec(
        "generateblock",
        CATEGORY,
        generateblock,
        "Mine a set of ordered transactions to a specified address or descriptor and return "
        "the block hash.",
        (
            Param(
                "output",
                ParamKind.STR,
                "The address or descriptor to send the newly generated bitcoin to.",
                required=True,
            ),
            Param(
                "transactions",
                ParamKind.ARR,
                "An array of hex strings which are either txids or raw transactions.",
                required=True,
            ),
            Param(
                "submit",
                ParamKind.BOOL,
                "Whether to submit the block before the RPC call returns or to return it as hex.",
                default="true",
            ),
        ),
    ),
    MethodSpec(
        "generatetoaddress",
        CATEGORY,
        generatetoaddress,
        "Mine to a specified address and return the block hashes.",
        (
            Param("nblocks", ParamKind.NUM, "How many blocks are generated.", required=True),
            Param(
                "address",
                ParamKind.STR,
                "The address to send the newly generated bitcoin to.",
                required=True,
            ),
            Param(
                "maxtries",
                ParamKind.NUM,
                "How many iterations to try.",
                default=str(DEFAULT_MAX_TRIES),
            ),
        ),
    ),
    MethodSpec(
        "getmininginfo",
        "mining",
        getmininginfo,
        "Returns a json object containing mining-related information.",
    ),
    MethodSpec(
        "submitblock",
        "mining",
        submitblock,
        "Attempts to submit new block to network.\n"
        "See https://en.bitcoin.it/wiki/BIP_0022 for full specification.",
        (
            Param(
                "hexdata", ParamKind.STR_HEX, "the hex-encoded block data to submit", required=True
            ),
            Param(
                "dummy",
                ParamKind.STR,
                "dummy value, for compatibility with BIP22. This value is ignored.",
                default="ignored",
            ),
        ),
    ),
)
