"""`AiohttpTransport`: the real peer transport, WebSockets over TCP between cluster nodes.

Each node listens on its own peer port (`listen`), which serves only `PEER_PATH`; anything
else gets 404, 405 or 400. A process that also serves an HTTP API runs that on a different port
with its own `web.Application`; the two never share routes.

Every node dials every other node once and keeps that connection for its own sends, so
payloads from one sender arrive in order while its connection is up. Both sides authenticate
with the cluster secret (`_handshake`) before a payload is accepted. A refused connection is
counted, logged once per (reason, remote) and closed; a frame that is oversize or malformed
closes its connection. Neither ever reaches the event loop as an exception.

Inbound payloads go to one bounded queue; when it is full the reader waits, which stops reading
the socket and pushes back on the sender through TCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
from collections.abc import Coroutine, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from common.errors import ConfigError, UsageError
from common.net._auth import NONCE_BYTES, ClusterAuth
from common.net._backoff import Backoff
from common.net._errors import AuthError, DecodeError, MessageTooLarge, NetError, RejectReason
from common.net._frame import decode_batch, frame_limit
from common.net._handshake import ServerHandshake
from common.net._peer_link import (
    CLOSE_TIMEOUT_S,
    HANDSHAKE_TIMEOUT_S,
    PEER_PATH,
    REJECT_CLOSE_CODE,
    LinkContext,
    PeerLink,
    next_handshake_frame,
    set_nodelay,
)
from common.net._stats import TransportStats
from common.net._types import MAX_MSG_BYTES_DEFAULT, MAX_MSG_BYTES_LIMIT, Envelope, PeerAddress

MAX_PENDING_HANDSHAKES = 64  # unauthenticated connections held at once; more get 503
SHUTDOWN_TIMEOUT_S = 1.0  # close() waits this long for the HTTP server to wind down
MAX_QUEUE_LEN = 1_000_000  # a larger queue is a misconfiguration, not a buffer

log = logging.getLogger("common.net")


def _check_config(
    node_id: str, listen: PeerAddress, peers: Mapping[str, PeerAddress], limits: dict[str, int]
) -> None:
    if listen.node_id != node_id:
        raise ConfigError(f"listen address is for {listen.node_id!r}, not {node_id!r}")
    for key, addr in peers.items():
        if key != addr.node_id:
            raise ConfigError(f"peers[{key!r}] holds the address of {addr.node_id!r}")
    if not 1 <= limits["max_msg_bytes"] <= MAX_MSG_BYTES_LIMIT:
        raise ConfigError(f"max_msg_bytes must be 1..{MAX_MSG_BYTES_LIMIT}")
    for name in ("send_queue_len", "recv_queue_len"):
        if not 1 <= limits[name] <= MAX_QUEUE_LEN:
            raise ConfigError(f"{name} must be 1..{MAX_QUEUE_LEN}, got {limits[name]}")


class AiohttpTransport:
    """The `Transport` between real processes; see the module docstring for the guarantees."""

    def __init__(
        self,
        node_id: str,
        listen: PeerAddress,
        peers: Mapping[str, PeerAddress],
        auth: ClusterAuth,
        *,
        max_msg_bytes: int = MAX_MSG_BYTES_DEFAULT,
        send_queue_len: int = 1024,
        recv_queue_len: int = 4096,
        reconnect_min_s: float = 0.05,
        reconnect_max_s: float = 2.0,
    ) -> None:
        limits = {
            "max_msg_bytes": max_msg_bytes,
            "send_queue_len": send_queue_len,
            "recv_queue_len": recv_queue_len,
        }
        _check_config(node_id, listen, peers, limits)
        self.node_id = node_id
        self.listen = listen
        self._auth = auth
        self._max_msg_bytes = max_msg_bytes
        self._stats = TransportStats()
        ctx = LinkContext(node_id, auth, max_msg_bytes, self._stats, random.Random(os.urandom(16)))
        self._links = {
            peer: PeerLink(ctx, addr, send_queue_len, Backoff(reconnect_min_s, reconnect_max_s))
            for peer, addr in peers.items()
            if peer != node_id
        }
        self._peer_ids = frozenset(self._links)  # who may connect to us: the peers we dial
        self._inbox: asyncio.Queue[Envelope | None] = asyncio.Queue(recv_queue_len)
        self._inbound: dict[str, web.WebSocketResponse] = {}
        self._handlers: set[asyncio.Task[object]] = set()
        self._background: set[asyncio.Task[object]] = set()
        self._link_tasks: list[asyncio.Task[None]] = []
        self._pending_handshakes = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._started = False
        self._closed = False

    async def start(self) -> None:
        """Listen on the peer port and start dialling every peer."""
        if self._started or self._closed:
            raise UsageError(f"transport {self.node_id} was already started")
        self._started = True
        app = web.Application()
        app.router.add_get(PEER_PATH, self._handle_peer)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        self._runner = runner
        try:
            await web.TCPSite(runner, self.listen.host, self.listen.port).start()
        except OSError as exc:
            await self.close()
            raise NetError(
                f"{self.node_id} cannot listen on {self.listen.host}:{self.listen.port}: {exc}"
            ) from exc
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=HANDSHAKE_TIMEOUT_S)
        self._session = aiohttp.ClientSession(timeout=timeout)
        for link in self._links.values():
            self._link_tasks.append(asyncio.create_task(link.run(self._session)))

    def send(self, dst: str, payload: bytes) -> bool:
        """Queue `payload` for `dst`; False (counted as dropped) if `dst` is unknown or full.

        Raises `MessageTooLarge` if `payload` exceeds `max_msg_bytes` (a caller bug).
        """
        if len(payload) > self._max_msg_bytes:
            raise MessageTooLarge(len(payload), self._max_msg_bytes)
        link = self._links.get(dst)
        if link is None or self._closed or not link.enqueue(payload):
            self._stats.dropped += 1
            return False
        return True

    async def recv(self) -> Envelope:
        """The next payload from any peer; raises `NetError` once the transport is closed."""
        if self._closed and self._inbox.empty():
            raise NetError(f"transport {self.node_id} is closed")
        envelope = await self._inbox.get()
        if envelope is None:
            self._inbox.put_nowait(None)  # wake the next waiter too
            raise NetError(f"transport {self.node_id} is closed")
        return envelope

    async def close(self) -> None:
        """Stop dialling and listening; queued outbound payloads are discarded."""
        if self._closed:
            return
        self._closed = True
        tasks = [*self._link_tasks, *self._handlers, *self._background]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        with contextlib.suppress(asyncio.QueueFull):
            self._inbox.put_nowait(None)

    def stats(self) -> dict[str, Any]:
        """Counters for status pages: sent, dropped, received, rejected_connections,
        reconnects, protocol_errors, last_reject_reason, last_protocol_error, queued (payloads
        waiting in send queues), connected_peers (outbound links up) and inbound_peers."""
        out: dict[str, Any] = self._stats.as_dict()
        out["queued"] = sum(len(link.queue) for link in self._links.values())
        out["connected_peers"] = sum(link.connected for link in self._links.values())
        out["inbound_peers"] = len(self._inbound)
        return out

    async def _handle_peer(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            max_msg_size=frame_limit(self._max_msg_bytes),
            compress=False,
            timeout=CLOSE_TIMEOUT_S,
        )
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="this port speaks only the peer protocol\n")
        if self._closed:
            return web.Response(status=503, text="shutting down\n")
        where = f"inbound from {request.remote}"
        if self._pending_handshakes >= MAX_PENDING_HANDSHAKES:
            self._stats.record_reject(AuthError(RejectReason.BUSY, "try again later"), where)
            return web.Response(status=503, text="busy\n")
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await ws.prepare(request)
            set_nodelay(request.transport)
            remote = await self._accept(ws, where)
            if remote is not None:
                await self._serve(remote, ws)
        finally:
            self._handlers.discard(task)
        return ws

    async def _accept(self, ws: web.WebSocketResponse, where: str) -> str | None:
        """Run the server handshake; the authenticated node id, or None if refused."""
        self._pending_handshakes += 1
        nonce = secrets.token_bytes(NONCE_BYTES)
        hs = ServerHandshake(self._auth, self.node_id, self._peer_ids, nonce)
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
                await ws.send_bytes(hs.on_hello(await next_handshake_frame(ws, None)))
                await ws.send_bytes(hs.on_proof(await next_handshake_frame(ws, hs.client_id)))
        except TimeoutError:
            err = AuthError(RejectReason.TIMEOUT, "no answer in time", remote_id=hs.client_id)
        except AuthError as exc:
            err = exc
        except (aiohttp.ClientError, OSError) as exc:
            err = AuthError(RejectReason.ABORTED, repr(exc), remote_id=hs.client_id)
        else:
            return hs.client_id
        finally:
            self._pending_handshakes -= 1
        claimed = f" claiming {hs.client_id}" if hs.client_id else ""
        self._stats.record_reject(err, where + claimed)
        with contextlib.suppress(aiohttp.ClientError, OSError):
            await ws.close(code=REJECT_CLOSE_CODE, message=err.reason.value.encode())
        return None

    async def _serve(self, remote: str, ws: web.WebSocketResponse) -> None:
        """Hand up the payloads of an authenticated connection until it ends."""
        previous = self._inbound.get(remote)
        self._inbound[remote] = ws
        if previous is not None:  # the peer redialled; its old connection is dead or dying
            self._spawn(previous.close())
        try:
            while True:
                msg = await ws.receive()
                if msg.type is aiohttp.WSMsgType.BINARY:
                    if not await self._deliver(remote, ws, msg.data):
                        return
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    self._connection_error(remote, msg.data)
                    return
                elif msg.type is aiohttp.WSMsgType.TEXT:
                    self._stats.record_protocol_error(remote, "text frame on the peer protocol")
                    await ws.close(code=aiohttp.WSCloseCode.UNSUPPORTED_DATA)
                    return
                else:
                    return
        finally:
            if self._inbound.get(remote) is ws:
                del self._inbound[remote]

    async def _deliver(self, remote: str, ws: web.WebSocketResponse, frame: bytes) -> bool:
        try:
            payloads = decode_batch(frame, self._max_msg_bytes)
        except DecodeError as exc:
            self._stats.record_protocol_error(remote, str(exc))
            await ws.close(code=aiohttp.WSCloseCode.PROTOCOL_ERROR)
            return False
        for payload in payloads:
            await self._inbox.put(Envelope(remote, payload))
            self._stats.received += 1
        return True

    def _connection_error(self, remote: str, exc: object) -> None:
        if isinstance(exc, aiohttp.WebSocketError):  # oversize or malformed WebSocket framing
            self._stats.record_protocol_error(remote, str(exc))
        else:
            log.debug("connection from %s lost: %r", remote, exc)

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
