"""The `wallet` command's connection to a node: a `SyncRpcClient` checked to serve the
wallet's chain before the wallet uses it.

`connect_node` asks for the genesis block hash first, so a wallet never syncs against a
node of another network (its coins would vanish from view, its history be rewritten). Every
transport failure, then and later, is `NodeUnavailable` with the node's URL: exit code 3.
"""

from __future__ import annotations

from typing import Any

from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from btcnode.rpc.auth import RpcCredentials
from btcnode.rpc.client import RpcTransportError, SyncRpcClient
from btcnode.rpc.errors import RpcError
from wallets._cli_common import NodeUnavailable

__all__ = ["NODE_TIMEOUT_S", "CheckedNode", "connect_node"]

NODE_TIMEOUT_S = 120.0  # a rescan asks for blocks one by one; each answer is quick


class CheckedNode:
    """A node client whose transport failures are `NodeUnavailable` naming the node."""

    def __init__(self, client: SyncRpcClient) -> None:
        self._client = client
        self.url = client.url

    def call(self, method: str, *params: Any) -> Any:
        try:
            return self._client.call(method, *params)
        except RpcTransportError as exc:
            raise NodeUnavailable(f"cannot reach the node at {self.url}: {exc}") from None


def check_chain(node: CheckedNode, params: ChainParams) -> None:
    """Refuse a node whose genesis block is not `params`' (another network or chain)."""
    try:
        genesis = node.call("getblockhash", 0)
    except RpcError as exc:
        raise NodeUnavailable(
            f"the node at {node.url} did not give its genesis block: {exc.message}"
        ) from None
    expected = hash256_hex(params.genesis_hash)
    if genesis != expected:
        raise NodeUnavailable(
            f"the node at {node.url} is on another chain: its genesis block is {genesis}, "
            f"{params.name}'s is {expected}"
        )


def connect_node(url: str, credentials: RpcCredentials, params: ChainParams) -> CheckedNode:
    node = CheckedNode(SyncRpcClient(url, credentials, timeout_seconds=NODE_TIMEOUT_S))
    check_chain(node, params)
    return node
