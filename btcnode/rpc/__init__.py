"""Bitcoin Core's JSON-RPC interface over aiohttp, serving a `btcnode.node.Node`."""

from btcnode.rpc.context import RpcContext

__all__ = ["RpcContext"]
