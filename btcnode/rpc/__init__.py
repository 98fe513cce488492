"""Bitcoin Core's JSON-RPC interface over aiohttp, serving a `btcnode.node.Node`.

`create_rpc_app(ctx, credentials)` is the server; `RpcContext` is all it gets from the node
process. `auth` has the cookie file and HTTP Basic checks, `client` the async and blocking
clients. The JSON-RPC envelope (`jsonrpc`), the method table (`registry`, `table`) and the
methods by area (`blockchain`, `rawtransactions`, `mempool`, `mining`, `network`, `control`)
do no I/O; `render` writes blocks, transactions and scripts as Core's JSON.
"""

from btcnode.rpc.auth import (
    COOKIE_USER,
    WWW_AUTHENTICATE,
    RpcCredentials,
    basic_authorization,
    delete_cookie,
    generate_cookie,
    is_authorized,
    read_cookie,
)
from btcnode.rpc.client import RpcClient, RpcTransportError, SyncRpcClient
from btcnode.rpc.context import RpcContext
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.server import MAX_REQUEST_BYTES, create_rpc_app
from btcnode.rpc.table import RPC_METHODS

__all__ = [
    "COOKIE_USER",
    "MAX_REQUEST_BYTES",
    "RPC_METHODS",
    "WWW_AUTHENTICATE",
    "RpcClient",
    "RpcContext",
    "RpcCredentials",
    "RpcError",
    "RpcErrorCode",
    "RpcTransportError",
    "SyncRpcClient",
    "basic_authorization",
    "create_rpc_app",
    "delete_cookie",
    "generate_cookie",
    "is_authorized",
    "read_cookie",
]
