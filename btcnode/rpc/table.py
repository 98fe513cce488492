"""The method table of the server: every area's methods in one `MethodTable`."""

from __future__ import annotations

from btcnode.rpc.blockchain import METHODS as BLOCKCHAIN_METHODS
from btcnode.rpc.broadcast import METHODS as BROADCAST_METHODS
from btcnode.rpc.control import METHODS as CONTROL_METHODS
from btcnode.rpc.mempool import METHODS as MEMPOOL_METHODS
from btcnode.rpc.mining import METHODS as MINING_METHODS
from btcnode.rpc.network import METHODS as NETWORK_METHODS
from btcnode.rpc.rawtransactions import METHODS as RAWTRANSACTION_METHODS
from btcnode.rpc.registry import MethodTable
from btcnode.rpc.utxo import METHODS as UTXO_METHODS

__all__ = ["RPC_METHODS"]

RPC_METHODS = MethodTable(
    (
        *BLOCKCHAIN_METHODS,
        *UTXO_METHODS,
        *MEMPOOL_METHODS,
        *RAWTRANSACTION_METHODS,
        *BROADCAST_METHODS,
        *MINING_METHODS,
        *NETWORK_METHODS,
        *CONTROL_METHODS,
    )
)
