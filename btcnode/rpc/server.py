"""The aiohttp application serving Bitcoin Core's JSON-RPC interface for one node.

HTTP as Core's httprpc.cpp answers it: only `POST /` (and `POST /wallet/<name>`, whose
wallet methods are refused with -18 since this node has no wallets); any other method is
405, any other path 404. A missing or wrong `Authorization` is 401 with
`WWW-Authenticate: Basic realm="jsonrpc"` and an empty body; a wrong password is answered
after `AUTH_FAILURE_DELAY_SECONDS`, as Core deters brute-forcing. A body above
`MAX_REQUEST_BYTES` is 413. Everything else is `jsonrpc.handle_body`; replies are
`Content-Type: application/json` exactly.

Methods run synchronously on the event loop, one at a time, against the node core (which is
not thread-safe); a chain-changing method calls `ctx.durable()` before its answer is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from btcnode.consensus.errors import ChainMisuse
from btcnode.rpc.auth import WWW_AUTHENTICATE, RpcCredentials, is_authorized
from btcnode.rpc.context import RpcContext
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.jsonfmt import dumps
from btcnode.rpc.jsonrpc import HttpReply, handle_body
from btcnode.rpc.registry import MethodTable
from btcnode.rpc.table import RPC_METHODS

__all__ = [
    "AUTH_FAILURE_DELAY_SECONDS",
    "MAX_REQUEST_BYTES",
    "WALLET_PATH_PREFIX",
    "create_rpc_app",
]

log = logging.getLogger("opentrust.btcnode.rpc")

MAX_REQUEST_BYTES = 0x02000000  # Core's MAX_SIZE, libevent's max body size for the RPC server
AUTH_FAILURE_DELAY_SECONDS = 0.25  # Core sleeps 250 ms after a wrong password
WALLET_PATH_PREFIX = "/wallet/"
JSON_CONTENT_TYPE = "application/json"
_ALL_METHODS = ("GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


class _RpcServer:
    """One app's state: the context, the allowed credentials, the table, the start time."""

    def __init__(
        self,
        ctx: RpcContext,
        credentials: Sequence[RpcCredentials],
        table: MethodTable,
        auth_failure_delay: float,
    ) -> None:
        self.ctx = ctx
        self.credentials = tuple(credentials)
        self.table = table
        self.auth_failure_delay = auth_failure_delay
        self.started_at = ctx.clock()

    async def handle_post(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        if header is None:
            return _unauthorized()
        if not is_authorized(header, self.credentials):
            log.warning("RPC: incorrect password attempt from %s", request.remote)
            await asyncio.sleep(self.auth_failure_delay)
            return _unauthorized()
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="Request Entity Too Large")
        wallet = _wallet_name(request.path)
        try:
            reply = handle_body(body, lambda m, p: self.run(m, p, request.path, wallet))
        except Exception:  # a rendering bug must not take the server down
            log.exception("RPC: request failed outside any method")
            error = RpcError(RpcErrorCode.INTERNAL_ERROR, "Internal error; see the node's log")
            reply = HttpReply(
                500, (dumps({"result": None, "error": error.to_json()}) + "\n").encode()
            )
        return _to_response(reply)

    def run(self, method: str, params: Any, uri: str, wallet: str | None) -> Any:
        if wallet is not None and method not in self.table:
            raise RpcError(
                RpcErrorCode.WALLET_NOT_FOUND, "Requested wallet does not exist or is not loaded"
            )
        return self.table.execute(self.ctx, method, params, uri=uri, started_at=self.started_at)


def _wallet_name(path: str) -> str | None:
    return path[len(WALLET_PATH_PREFIX) :] if path.startswith(WALLET_PATH_PREFIX) else None


def _unauthorized() -> web.Response:
    return web.Response(status=401, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def _to_response(reply: HttpReply) -> web.Response:
    if reply.body is None:
        return web.Response(status=reply.status)
    return web.Response(
        status=reply.status, body=reply.body, headers={"Content-Type": JSON_CONTENT_TYPE}
    )


async def _only_post(request: web.Request) -> web.Response:
    return web.Response(status=405, text="JSONRPC server handles only POST requests")


def create_rpc_app(
    ctx: RpcContext,
    credentials: Sequence[RpcCredentials],
    *,
    table: MethodTable = RPC_METHODS,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    auth_failure_delay: float = AUTH_FAILURE_DELAY_SECONDS,
) -> web.Application:
    """The JSON-RPC application; serve it with aiohttp's runner on the node's RPC port."""
    if not credentials:
        raise ChainMisuse("the RPC server needs at least one credential (cookie or user)")
    server = _RpcServer(ctx, credentials, table, auth_failure_delay)
    app = web.Application(client_max_size=max_request_bytes)
    for path in ("/", WALLET_PATH_PREFIX + "{wallet}"):
        app.router.add_post(path, server.handle_post)
        for method in _ALL_METHODS:
            app.router.add_route(method, path, _only_post)
    return app
