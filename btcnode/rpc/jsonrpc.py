"""The JSON-RPC envelope as Bitcoin Core's httprpc.cpp and rpc/request.cpp handle it.

`handle_body(body, run)` turns one HTTP POST body into an `HttpReply`, calling `run(method,
params)` for each request (which raises `RpcError`). Core's rules, kept exactly:

- Version: `"jsonrpc": "2.0"` selects 2.0; absent or "1.0" is legacy 1.0/1.1; anything else
  is -32600 "JSON-RPC version not supported".
- Legacy replies carry `result`, `error` and (when the request had one) `id`; 2.0 replies
  carry `jsonrpc`, one of `result`/`error`, and `id`.
- A single legacy request that fails is answered with an HTTP error status: 400 for
  -32600, 404 for -32601, 500 otherwise (JSONErrorReply). A 2.0 request's method errors
  come back with 200; a 2.0 request without an `id` is a notification: it runs, and the
  answer is 204 with no body.
- A batch (array) is always 200; each member is answered in its own envelope, except 2.0
  notifications; a non-empty batch of only notifications is 204.
- A body that is not JSON is -32700 "Parse error"; JSON that is neither object nor array
  is -32700 "Top-level object parse error".

Pure: no I/O. The body size bound is the server's (`MAX_REQUEST_BYTES`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.jsonfmt import JsonDecodeError, dumps, loads

__all__ = ["HttpReply", "JsonRpcVersion", "RpcRequest", "handle_body", "parse_request"]

HTTP_OK = 200
HTTP_NO_CONTENT = 204
HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_INTERNAL_SERVER_ERROR = 500
_NO_ID = object()  # a request without an "id" key (distinct from "id": null)

Runner = Callable[[str, Any], Any]


class JsonRpcVersion(enum.Enum):
    V1_LEGACY = "1.0"  # also 1.1 and requests without "jsonrpc"
    V2 = "2.0"


@dataclass(frozen=True, slots=True)
class HttpReply:
    """What to send: the status and, unless 204, a JSON body ending in a newline."""

    status: int
    body: bytes | None


@dataclass(slots=True)
class RpcRequest:
    """A request as far as it parsed; `id` is `_NO_ID` when the request had none."""

    id: Any = _NO_ID
    version: JsonRpcVersion = JsonRpcVersion.V1_LEGACY
    method: str = ""
    params: Any = None

    @property
    def is_notification(self) -> bool:
        return self.id is _NO_ID and self.version is JsonRpcVersion.V2


def parse_request(value: Any, into: RpcRequest) -> None:
    """Core's JSONRPCRequest::parse: fills `into` field by field, so an error raised part
    way still answers with the id and version already read."""
    if not isinstance(value, dict):
        raise RpcError(RpcErrorCode.INVALID_REQUEST, "Invalid Request object")
    into.id = value.get("id", _NO_ID)
    into.version = JsonRpcVersion.V1_LEGACY
    version = value.get("jsonrpc")
    if version is not None:
        if not isinstance(version, str):
            raise RpcError(RpcErrorCode.INVALID_REQUEST, "jsonrpc field must be a string")
        if version not in ("1.0", "2.0"):
            raise RpcError(RpcErrorCode.INVALID_REQUEST, "JSON-RPC version not supported")
        into.version = JsonRpcVersion(version)
    method = value.get("method")
    if method is None:
        raise RpcError(RpcErrorCode.INVALID_REQUEST, "Missing method")
    if not isinstance(method, str):
        raise RpcError(RpcErrorCode.INVALID_REQUEST, "Method must be a string")
    into.method = method
    params = value.get("params")
    if params is None:
        params = []
    elif not isinstance(params, list | dict):
        raise RpcError(RpcErrorCode.INVALID_REQUEST, "Params must be an array or object")
    into.params = params


def reply_object(request: RpcRequest, result: Any, error: RpcError | None) -> dict[str, Any]:
    """Core's JSONRPCReplyObj."""
    reply: dict[str, Any] = {}
    legacy = request.version is JsonRpcVersion.V1_LEGACY
    if not legacy:
        reply["jsonrpc"] = "2.0"
    if error is None:
        reply["result"] = result
        if legacy:
            reply["error"] = None
    else:
        if legacy:
            reply["result"] = None
        reply["error"] = error.to_json()
    if request.id is not _NO_ID:
        reply["id"] = request.id
    return reply


def _encode(value: Any) -> bytes:
    return (dumps(value) + "\n").encode()


def _error_reply(request: RpcRequest, error: RpcError) -> HttpReply:
    """Core's JSONErrorReply: a legacy failure as an HTTP error status."""
    status = HTTP_INTERNAL_SERVER_ERROR
    if error.code == RpcErrorCode.INVALID_REQUEST:
        status = HTTP_BAD_REQUEST
    elif error.code == RpcErrorCode.METHOD_NOT_FOUND:
        status = HTTP_NOT_FOUND
    return HttpReply(status, _encode(reply_object(request, None, error)))


def _run_one(request: RpcRequest, run: Runner) -> dict[str, Any]:
    """Core's JSONRPCExec with catch_errors: an error becomes the reply's error."""
    try:
        return reply_object(request, run(request.method, request.params), None)
    except RpcError as err:
        return reply_object(request, None, err)


def _handle_single(value: dict[str, Any], run: Runner) -> HttpReply:
    request = RpcRequest()
    try:
        parse_request(value, request)
        if request.version is JsonRpcVersion.V2:
            reply = _run_one(request, run)
        else:
            reply = reply_object(request, run(request.method, request.params), None)
    except RpcError as err:
        return _error_reply(request, err)
    if request.is_notification:
        return HttpReply(HTTP_NO_CONTENT, None)
    return HttpReply(HTTP_OK, _encode(reply))


def _handle_batch(values: list[Any], run: Runner) -> HttpReply:
    replies = []
    for value in values:
        request = RpcRequest()
        try:
            parse_request(value, request)
        except RpcError as err:
            reply = reply_object(request, None, err)
        else:
            reply = _run_one(request, run)
        if not request.is_notification:
            replies.append(reply)
    if not replies and values:
        return HttpReply(HTTP_NO_CONTENT, None)
    return HttpReply(HTTP_OK, _encode(replies))


def handle_body(body: bytes, run: Runner) -> HttpReply:
    """One HTTP POST body in, one reply out; `run` raises `RpcError` for failed calls."""
    try:
        value = loads(body)
    except JsonDecodeError:
        return _error_reply(RpcRequest(), RpcError(RpcErrorCode.PARSE_ERROR, "Parse error"))
    if isinstance(value, dict):
        return _handle_single(value, run)
    if isinstance(value, list):
        return _handle_batch(value, run)
    error = RpcError(RpcErrorCode.PARSE_ERROR, "Top-level object parse error")
    return _error_reply(RpcRequest(), error)
