"""Mining methods: regtest block generation, block submission and mining information."""

from __future__ import annotations

from typing import Any

from btcnode.rpc.args import get_int, parse_destination
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind

__all__ = ["DEFAULT_MAX_TRIES", "METHODS"]

CATEGORY = "generating"
DEFAULT_MAX_TRIES = 1_000_000  # Core's generate*: nonces tried per block before giving up


def generatetoaddress(call: Call) -> Any:
    ctx = call.ctx
    nblocks = get_int(call.arg(0))
    script = parse_destination(call.arg(1), ctx.node.params, "Error: Invalid address")
    if call.arg(2) is not None:
        get_int(call.arg(2))  # accepted for Core compatibility; regtest needs few tries
    blocks = ctx.node.generate(max(0, nblocks), script, ctx.clock())  # Core: none if < 1
    ctx.durable()
    return [block.header.hash_hex for block in blocks]


METHODS = (
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
)
