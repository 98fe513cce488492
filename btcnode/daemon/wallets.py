"""The wallet RPC methods of `btcnode run`: the node's method table plus `wallets.rpc`'s,
over the wallets of `--walletdir` (default `<datadir>/regtest/wallets/`).

A wallet calls the node through `InProcessNode`: the same method table, called directly on
the event loop (no HTTP, no credentials), its results passed through JSON as a remote
client would see them, so the wallet code cannot tell the two apart.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from btcnode.consensus.params import ChainParams
from btcnode.rpc.context import RpcContext
from btcnode.rpc.jsonfmt import dumps
from btcnode.rpc.registry import Call, MethodTable
from btcnode.rpc.table import RPC_METHODS
from wallets.rpc import WalletManager, wallet_methods

__all__ = ["InProcessNode", "wallet_rpc"]


class InProcessNode:
    """A wallet's `NodeClient` that runs the node's RPC methods in this process."""

    def __init__(self, ctx: RpcContext, table: MethodTable) -> None:
        self._ctx = ctx
        self._table = table

    def call(self, method: str, *params: Any) -> Any:
        result = self._table.execute(self._ctx, method, list(params))
        return json.loads(dumps(result), parse_float=Decimal)


def _node_for(call: Call) -> InProcessNode:
    return InProcessNode(call.ctx, call.table)


def wallet_rpc(walletdir: Path, params: ChainParams) -> tuple[MethodTable, WalletManager]:
    """The table to serve (node and wallet methods) and the manager of its wallets; close
    the manager's wallets at shutdown (`close_all`)."""
    manager = WalletManager(walletdir, params, _node_for)
    return MethodTable((*RPC_METHODS.specs(), *wallet_methods(manager))), manager
