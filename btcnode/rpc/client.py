"""Small JSON-RPC clients for this node (and Bitcoin Core): `RpcClient` over aiohttp and
`SyncRpcClient` over urllib for command-line use.

`call(method, *params)` sends one JSON-RPC 1.1 request as bitcoin-cli does and returns the
`result`; an error answer raises `RpcError(code, message)`; an answer that is not JSON-RPC
(401, connection refused, HTML) raises `RpcTransportError` with the HTTP status when there
was one. Amounts come back as `Decimal` so no precision is lost.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import aiohttp

from btcnode.consensus.errors import ChainError
from btcnode.rpc.auth import RpcCredentials, basic_authorization
from btcnode.rpc.errors import RpcError
from btcnode.rpc.jsonfmt import dumps

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "RpcClient",
    "RpcTransportError",
    "SyncRpcClient",
    "http_post",
]

DEFAULT_TIMEOUT_SECONDS = 900.0  # bitcoin-cli's -rpcclienttimeout default
MAX_REPLY_BYTES = 256 * 1024 * 1024  # a verbose getblock of a full block is tens of MB


class RpcTransportError(ChainError):
    """No JSON-RPC answer: refused connection, bad credentials (401), a non-JSON body."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _request_body(method: str, params: tuple[Any, ...], request_id: int) -> bytes:
    request = {"version": "1.1", "method": method, "params": list(params), "id": request_id}
    return dumps(request).encode()


def _result_of(status: int, raw: bytes) -> Any:
    """The result of a reply, or the error it carries."""
    if status == 401:
        raise RpcTransportError("incorrect rpcuser or rpcpassword (authorization failed)", 401)
    try:
        reply = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise RpcTransportError(
            f"HTTP {status}: not a JSON-RPC reply: {raw[:200]!r}", status
        ) from None
    if not isinstance(reply, dict):
        raise RpcTransportError(f"HTTP {status}: reply is not a JSON object", status)
    error = reply.get("error")
    if error is not None:
        code = error.get("code", -1) if isinstance(error, dict) else -1
        message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
        raise RpcError(int(code), str(message))
    if "result" not in reply:
        raise RpcTransportError(f"HTTP {status}: reply has neither result nor error", status)
    return reply["result"]


def http_post(
    url: str, headers: dict[str, str], body: bytes, timeout_s: float
) -> tuple[int, bytes]:
    """POST `body` with urllib; (status, reply) for every HTTP answer, error statuses too
    (Core answers legacy errors with 404/500). Connection failures raise `URLError`/`OSError`."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), response.read(MAX_REPLY_BYTES)
    except urllib.error.HTTPError as err:
        return err.code, err.read(MAX_REPLY_BYTES)


class _JsonRpcCaller:
    """What both clients share: the endpoint, the Basic auth headers, the request ids."""

    def __init__(
        self,
        url: str,
        credentials: RpcCredentials,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        self._headers = {
            "Authorization": basic_authorization(credentials),
            "Content-Type": "application/json",
        }
        self._timeout_seconds = timeout_seconds
        self._ids = itertools.count()

    def _body(self, method: str, params: tuple[Any, ...]) -> bytes:
        return _request_body(method, params, next(self._ids))


class RpcClient(_JsonRpcCaller):
    """An async client; use as `async with RpcClient(url, creds) as rpc: await rpc.call(...)`."""

    _session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, *params: Any) -> Any:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self._timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout)
        body = self._body(method, params)
        try:
            async with self._session.post(self.url, data=body, headers=self._headers) as response:
                raw = await response.content.read(MAX_REPLY_BYTES)
                return _result_of(response.status, raw)
        except aiohttp.ClientError as err:
            raise RpcTransportError(f"cannot reach {self.url}: {err}") from None


class SyncRpcClient(_JsonRpcCaller):
    """A blocking client over urllib, for command-line tools."""

    def call(self, method: str, *params: Any) -> Any:
        body = self._body(method, params)
        try:
            return _result_of(*http_post(self.url, self._headers, body, self._timeout_seconds))
        except (urllib.error.URLError, OSError) as err:
            raise RpcTransportError(f"cannot reach {self.url}: {err}") from None
