"""An RPC server on 127.0.0.1 over a real in-process regtest node, for the RPC tests.

The server runs its own event loop in a thread, so blocking clients (urllib, http.client,
python-bitcoinlib) can call it from the test. Tests look at the node directly only between
calls. `FakePeers` is a PeerControl double with Core's refusals, for the network methods.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from btcnode.node import Node
from btcnode.p2p.control import AddNodeCommand, BanEntry, ConnectionCounts, PeerInfo
from btcnode.p2p.errors import P2PMisuse
from btcnode.rpc import RpcContext, RpcCredentials, SyncRpcClient, create_rpc_app
from btcnode.rpc.auth import basic_authorization
from tests.btcnode.scenarios.helpers import T0, new_node

CREDENTIALS = RpcCredentials("alice", "correct horse")


@dataclass
class FakePeers:
    """PeerControl with a fixed peer list; refusals as the peer manager raises them."""

    peers: list[PeerInfo] = field(default_factory=list)
    active: bool = True
    added: set[str] = field(default_factory=set)
    banned: dict[str, BanEntry] = field(default_factory=dict)
    now: int = T0

    def peer_info(self) -> list[PeerInfo]:
        return list(self.peers)

    def connection_counts(self) -> ConnectionCounts:
        inbound = sum(1 for p in self.peers if p.inbound)
        return ConnectionCounts(inbound, len(self.peers) - inbound)

    @property
    def network_active(self) -> bool:
        return self.active

    def set_network_active(self, active: bool) -> None:
        self.active = active

    def add_node(self, address: str, command: AddNodeCommand) -> None:
        if command is AddNodeCommand.ADD:
            if address in self.added:
                raise P2PMisuse(f"Node {address} already added")
            self.added.add(address)
        elif command is AddNodeCommand.REMOVE:
            if address not in self.added:
                raise P2PMisuse(f"Node {address} has not been added")
            self.added.remove(address)

    def disconnect_node(self, address: str | None = None, node_id: int | None = None) -> None:
        for peer in self.peers:
            if peer.addr == address or peer.id == node_id:
                self.peers.remove(peer)
                return
        raise P2PMisuse("Node not found in connected nodes")

    def list_banned(self) -> list[BanEntry]:
        return list(self.banned.values())

    def set_ban(self, address: str, add: bool, ban_seconds: int) -> None:
        if add:
            if address in self.banned:
                raise P2PMisuse(f"{address} already banned")
            self.banned[address] = BanEntry(address, self.now, self.now + ban_seconds, "manual")
        elif self.banned.pop(address, None) is None:
            raise P2PMisuse(f"{address} was not banned")

    def clear_banned(self) -> None:
        self.banned.clear()


@dataclass
class Harness:
    node: Node
    peers: FakePeers
    url: str
    clock: list[int]
    stops: list[int] = field(default_factory=list)
    durable_calls: list[int] = field(default_factory=list)

    def client(self, credentials: RpcCredentials = CREDENTIALS) -> SyncRpcClient:
        return SyncRpcClient(self.url, credentials, timeout_seconds=30)

    def call(self, method: str, *params: Any) -> Any:
        return self.client().call(method, *params)

    def post(
        self,
        body: bytes | str,
        *,
        path: str = "/",
        headers: dict[str, str] | None = None,
        method: str = "POST",
        auth: bool = True,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """A raw HTTP request; returns status, headers and body."""
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=30)
        sent = {"Content-Type": "application/json"}
        if auth:
            sent["Authorization"] = basic_authorization(CREDENTIALS)
        sent.update(headers or {})
        data = body.encode() if isinstance(body, str) else body
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            return response.status, response.msg, response.read()
        finally:
            connection.close()

    def post_json(self, value: Any, **kwargs: Any) -> tuple[int, Any]:
        status, _, raw = self.post(json.dumps(value), **kwargs)
        return status, (json.loads(raw, parse_float=Decimal) if raw else None)


class ServerThread:
    """An aiohttp app served on 127.0.0.1:0 by an event loop in a daemon thread."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self._app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("RPC test server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def serve(node: Node | None = None, **app_options: Any) -> Iterator[Harness]:
    """Generator for fixtures: a harness around a fresh (or the given) node."""
    node = node if node is not None else new_node()
    peers = FakePeers()
    clock = [T0]
    harness_box: list[Harness] = []
    ctx = RpcContext(
        node=node,
        peers=peers,
        clock=lambda: clock[0],
        durable=lambda: harness_box[0].durable_calls.append(node.chainstate.tip_height),
        request_stop=lambda: harness_box[0].stops.append(clock[0]),
    )
    app = create_rpc_app(ctx, [CREDENTIALS], auth_failure_delay=0.01, **app_options)
    with ServerThread(app) as server:
        harness = Harness(node, peers, f"http://127.0.0.1:{server.port}/", clock)
        harness_box.append(harness)
        yield harness
