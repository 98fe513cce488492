"""The method table of the server: every area's methods in one `MethodTable`."""

from __future__ import annotations

from btcnode.rpc import blockchain, control, mining
from btcnode.rpc.registry import MethodTable

__all__ = ["RPC_METHODS"]

RPC_METHODS = MethodTable(
    (
        *blockchain.METHODS,
        *control.METHODS,
        *mining.METHODS,
    )
)
