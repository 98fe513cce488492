"""Regtest mining for `btcnode run --mine-to` and `btcnode premine`.

`mine_block` mines one block on the tip from the mempool (`Node.generate`) and makes it
durable before reporting it, so a block that was logged survives a kill -9.
`mine_periodically` does that every `interval_s` seconds on the event loop (the nonce search
is instant at regtest difficulty, so the loop is not held up) until `stop` is set.
`premine` brings an offline chainstate up to a height (the devnet's spendable coins).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from btcnode.consensus.block import Block
from btcnode.consensus.errors import ChainError
from btcnode.daemon.services import NodeServices
from btcnode.node import Node
from common.runtime import log_event

__all__ = ["mine_block", "mine_periodically", "premine"]

log = logging.getLogger("opentrust.btcnode.miner")


def mine_block(services: NodeServices, script: bytes, now: int) -> Block | None:
    """One block paying `script`, flushed; None (and an error line) if mining failed."""
    try:
        [block] = services.node.generate(1, script, now)
    except ChainError as exc:
        log_event(log, f"mining failed: {exc}", level=logging.ERROR, error=type(exc).__name__)
        return None
    services.durable()
    height = services.chainstate.tip_height
    log_event(log, "mined block", height=height, hash=block.header.hash_hex, txs=len(block.txs))
    return block


async def mine_periodically(
    services: NodeServices,
    script: bytes,
    interval_s: float,
    clock: Callable[[], int],
    stop: asyncio.Event,
) -> None:
    """A block every `interval_s` seconds until `stop` is set."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
        if not stop.is_set():
            mine_block(services, script, clock())


def premine(node: Node, script: bytes, height: int, now: int) -> list[Block]:
    """Mine blocks paying `script` until the tip is at `height` (none if it is already
    there or above), so running it again never mines twice."""
    missing = height - node.chainstate.tip_height
    return node.generate(missing, script, now) if missing > 0 else []
