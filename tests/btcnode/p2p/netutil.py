"""Helpers for the real-socket tests: fast configs, running managers, waiting for state."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from btcnode.node import Node
from btcnode.p2p.config import P2PConfig
from btcnode.p2p.manager import PeerManager

FAST = {
    "listen_port": 0,
    "tick_interval": 0.02,
    "reconnect_delay": 0.05,
    "reconnect_delay_max": 0.2,
}


def fast_config(**overrides: object) -> P2PConfig:
    fields = {**FAST, **overrides}
    return P2PConfig(**fields)  # type: ignore[arg-type]


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll `predicate` until true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running(node: Node, seed: int = 0, **overrides: object) -> AsyncIterator[PeerManager]:
    manager = PeerManager(node, fast_config(**overrides), rng=random.Random(seed))
    await manager.start()
    try:
        yield manager
    finally:
        await manager.stop()


def addr_of(manager: PeerManager) -> tuple[str, int]:
    return ("127.0.0.1", manager.listen_port)
