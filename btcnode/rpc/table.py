"""The method table of the server: every area's methods in one `MethodTable`."""

from __future__ import annotations

from btcnode.rpc import (
    blockchain,
    broadcast,
    control,
    mempool,
    mining,
    network,
    rawtransactions,
    utxo,
)
from btcnode.rpc.registry import MethodTable

__all__ = ["RPC_METHODS"]

RPC_METHODS = MethodTable(
    (
        *blockchain.METHODS,
        *utxo.METHODS,
        *mempool.METHODS,
        *rawtransactions.METHODS,
        *broadcast.METHODS,
        *mining.METHODS,
        *network.METHODS,
        *control.METHODS,
    )
)
