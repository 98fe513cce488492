"""`RpcContext`: everything an RPC method may use, handed in by the node process.

The RPC layer decodes requests, calls the node core through this context and renders Core's
JSON; it opens no stores and starts no tasks of its own. `clock` gives UNIX seconds (the
`now` every core call takes); `durable` is called after any method that changed the chain,
before its answer is sent, so an acknowledged `submitblock` or `generatetoaddress` survives a
kill -9; `request_stop` is the `stop` method's effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from btcnode.node import Node
from btcnode.p2p.control import PeerControl

__all__ = ["RpcContext"]


@dataclass(frozen=True, slots=True)
class RpcContext:
    node: Node
    peers: PeerControl
    clock: Callable[[], int]
    durable: Callable[[], None]
    request_stop: Callable[[], None]
