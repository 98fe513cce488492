"""The HTTP/JSON client API of a KV replica.

    POST /v1/command   {"op": "put"|"append"|"delete"|"cas"|"get", "key": str,
                        "value": str, "value_b64": str, "expected": str|null,
                        "expected_b64": str, "client_id": str, "seq": int}
                       → 200 {"status": "ok"|"not_found"|"cas_failed"|..., "value": ..., "index": n}
    GET  /v1/kv/{key}[?consistency=linearizable|serializable]  → 200 {"status", "value"} | 404
    POST /v1/batch     {"commands": [command, ...]} (at most 256) → 200 {"results": [...]}
                       pipelining: each command is proposed separately (same rules as
                       /v1/command) and they share Raft rounds; each result stands alone
                       (a result may be {"error": ..., "message": ...})
    POST /v1/members   {"action": "add-learner"|"promote"|"remove", "node": id}
    POST /v1/transfer  {"target": id}
    GET  /status, /healthz (no token needed)

Every /v1 request needs `Authorization: Bearer <token>`. Errors are JSON
`{"error": code, "message": text}` with 400 (bad input), 401 (auth), 413 (too large),
421 (not the leader: `leader` and `leader_url` say where to go), 503 (no quorum in time).
Writes go through the Raft log with the client's session (client_id, seq) so a retried
command is applied once; linearizable reads use ReadIndex, serializable reads are local.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from common.errors import PeerError
from common.kv import (
    MAX_KEY_BYTES,
    MAX_VALUE_BYTES,
    KvCommand,
    KvOp,
    KvResult,
    KvStateMachine,
    KvStatus,
    encode_command,
)
from common.kv.config import ClusterConfig
from common.kv.json_values import read_value, utf8_bytes, value_fields
from common.raft import ConfChange, ConfChangeType, NotLeader, ProposalDropped, RaftError
from common.runtime import add_health_routes

if TYPE_CHECKING:
    from common.raft.driver import RaftNode

MAX_REQUEST_BYTES = 2 * MAX_VALUE_BYTES + 64 * 1024  # value + expected, base64 overhead, slack
REQUEST_TIMEOUT_S = 5.0  # a write or read that no quorum answers in this time fails with 503
MAX_BATCH_COMMANDS = 256  # one pipelined request; bounds the work a single request can queue
_OPS = {
    "get": KvOp.GET,
    "put": KvOp.PUT,
    "append": KvOp.APPEND,
    "delete": KvOp.DELETE,
    "cas": KvOp.CAS,
}
_CHANGES = {
    "add-learner": ConfChangeType.ADD_LEARNER,
    "promote": ConfChangeType.PROMOTE,
    "remove": ConfChangeType.REMOVE,
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, code: str, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": code, "message": message, **extra}, status=status)


def parse_command(body: object) -> KvCommand:
    """Turn a decoded JSON body into a KvCommand; PeerError says what is wrong."""
    if not isinstance(body, dict):
        raise PeerError("the request body must be a JSON object")
    op = _OPS.get(body.get("op"))  # type: ignore[arg-type]
    if op is None:
        raise PeerError(f"op must be one of {sorted(_OPS)}, got {body.get('op')!r}")
    key, client_id, seq = body.get("key"), body.get("client_id", ""), body.get("seq", 0)
    if not isinstance(key, str) or not key or len(utf8_bytes(key, "key")) > MAX_KEY_BYTES:
        raise PeerError(f"key must be a non-empty string of at most {MAX_KEY_BYTES} bytes")
    if not isinstance(client_id, str) or type(seq) is not int or seq < 0:
        raise PeerError("client_id must be a string and seq a non-negative integer")
    utf8_bytes(client_id, "client_id")
    value = read_value(body, "value") or b""
    expected = read_value(body, "expected")
    try:
        return KvCommand(op, key, value, expected, client_id, seq)
    except (ValueError, TypeError) as exc:
        raise PeerError(f"invalid command: {exc}") from exc


def result_json(result: KvResult) -> dict[str, object]:
    return {
        "status": result.status.name.lower(),
        "index": result.index,
        **value_fields("value", result.value),
    }


class ClientApi:
    """Request handlers bound to one replica."""

    def __init__(
        self, node: RaftNode, state_machine: KvStateMachine, config: ClusterConfig, token: str
    ) -> None:
        self.node = node
        self.sm = state_machine
        self.config = config
        self._token = token.encode()

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Authenticate /v1 requests and turn our errors into JSON answers."""
        if request.path.startswith("/v1/"):
            supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
            if not hmac.compare_digest(supplied, self._token):
                return _error(401, "unauthorized", "missing or wrong bearer token")
        try:
            return await handler(request)
        except Exception as exc:
            status, body = self.describe_error(exc)
            return web.json_response(body, status=status)

    def describe_error(self, exc: BaseException) -> tuple[int, dict[str, object]]:
        """The HTTP status and JSON body for an error; anything unexpected is re-raised."""
        if isinstance(exc, NotLeader):
            leader = {"leader": exc.leader_hint, "leader_url": self._url_of(exc.leader_hint)}
            return 421, {"error": "not_leader", "message": str(exc), **leader}
        if isinstance(exc, TimeoutError):  # asyncio.TimeoutError is TimeoutError on 3.11
            message = f"no quorum answered within {REQUEST_TIMEOUT_S:g} s; retry"
            return 503, {"error": "timeout", "message": message}
        if isinstance(exc, ProposalDropped):
            return 503, {"error": "dropped", "message": str(exc)}
        if isinstance(exc, RaftError):
            return 400, {"error": "rejected", "message": str(exc)}
        if isinstance(exc, PeerError):
            return exc.http_status, {"error": "bad_request", "message": str(exc)}
        if isinstance(exc, web.HTTPException):  # aiohttp's own answers (413, 404, 405) as JSON
            return exc.status, {
                "error": exc.reason.lower().replace(" ", "_"),
                "message": exc.reason,
            }
        raise exc

    def _url_of(self, node_id: str) -> str | None:
        for node in self.config.cluster.nodes:
            if node.id == node_id:
                return node.client_url
        return None

    async def _json_body(self, request: web.Request) -> object:
        raw = await request.read()
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PeerError(f"the request body is not valid JSON: {exc}") from exc

    async def command(self, request: web.Request) -> web.Response:
        cmd = parse_command(await self._json_body(request))
        if cmd.op == KvOp.GET and not cmd.client_id:
            return await self._linearizable_get(cmd.key)
        result = await self.node.propose(encode_command(cmd), REQUEST_TIMEOUT_S)
        return web.json_response(self._outcome_json(result))

    async def batch(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        items = body.get("commands") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH_COMMANDS:
            raise PeerError(f"commands must be a list of 1..{MAX_BATCH_COMMANDS} commands")
        commands = [parse_command(item) for item in items]
        if any(cmd.op == KvOp.GET and not cmd.client_id for cmd in commands):
            raise PeerError("a batch carries writes (or GETs with a session), not plain reads")
        if not self.node.is_leader:
            raise NotLeader(self.node.node_id, self.node.core.leader_id, self.node.core.term)
        outcomes = await asyncio.gather(
            *(self.node.propose(encode_command(cmd), REQUEST_TIMEOUT_S) for cmd in commands),
            return_exceptions=True,
        )
        return web.json_response({"results": [self._outcome_json(o) for o in outcomes]})

    def _outcome_json(self, outcome: object) -> dict[str, object]:
        if isinstance(outcome, BaseException):
            return self.describe_error(outcome)[1]
        assert isinstance(outcome, KvResult), f"state machine returned {outcome!r}"
        return result_json(outcome)

    async def _linearizable_get(self, key: str) -> web.Response:
        await self.node.read_barrier(REQUEST_TIMEOUT_S)
        return self._local_get(key)

    def _local_get(self, key: str) -> web.Response:
        value = self.sm.get(key)
        status = KvStatus.OK if value is not None else KvStatus.NOT_FOUND
        body = result_json(KvResult(status, value, self.sm.applied_index))
        return web.json_response(body, status=200 if value is not None else 404)

    async def get(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if len(utf8_bytes(key, "key")) > MAX_KEY_BYTES:
            raise PeerError(f"key longer than {MAX_KEY_BYTES} bytes")
        consistency = request.query.get("consistency", "linearizable")
        if consistency == "serializable":
            return self._local_get(key)
        if consistency != "linearizable":
            raise PeerError("consistency must be linearizable or serializable")
        return await self._linearizable_get(key)

    async def members(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if not isinstance(body, dict) or body.get("action") not in _CHANGES:
            raise PeerError(f"action must be one of {sorted(_CHANGES)}")
        node_id = body.get("node")
        if not isinstance(node_id, str) or self._url_of(node_id) is None:
            raise PeerError("node must name a node listed in the cluster configuration")
        change = ConfChange(_CHANGES[body["action"]], node_id)
        await self.node.change_membership(change, REQUEST_TIMEOUT_S)
        return web.json_response({"ok": True, "conf": self.node.status().get("conf")})

    async def transfer(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        target = body.get("target") if isinstance(body, dict) else None
        if not isinstance(target, str):
            raise PeerError("target must name a node")
        await self.node.transfer_leadership(target, REQUEST_TIMEOUT_S)
        return web.json_response({"ok": True, "leader": self.node.core.leader_id})


def make_client_app(
    node: RaftNode, state_machine: KvStateMachine, config: ClusterConfig, token: str
) -> web.Application:
    api = ClientApi(node, state_machine, config, token)
    app = web.Application(middlewares=[api.guard], client_max_size=MAX_REQUEST_BYTES)
    app.router.add_post("/v1/command", api.command)
    app.router.add_post("/v1/batch", api.batch)
    app.router.add_get("/v1/kv/{key}", api.get)
    app.router.add_post("/v1/members", api.members)
    app.router.add_post("/v1/transfer", api.transfer)
    add_health_routes(app, node.status)
    return app


__all__ = ["REQUEST_TIMEOUT_S", "ClientApi", "make_client_app", "parse_command", "result_json"]
