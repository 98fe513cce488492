"""The outbound half of the aiohttp transport: one queue and one dialling task per peer.

A link owns a bounded FIFO of payloads for its peer. Its task dials the peer's WebSocket,
runs the client handshake, then writes queued payloads, batching whatever is queued into one
frame and sending a lone payload at once. When the connection fails the task waits out a
jittered exponential backoff and dials again; payloads still queued survive the outage, but a
batch being written when the connection broke is lost (counted as dropped). The queue is
drop-newest: when full, `enqueue` refuses the new payload. Nothing here ever blocks another
peer's link.

The dialler pings an idle link every HEARTBEAT_S and drops it if no pong comes within half of
that; a receiver that stops reading (its inbound queue full) for that long loses the link and
the payloads in flight, which Raft tolerates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import socket
from collections import deque
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from yarl import URL

from common.net._auth import NONCE_BYTES, ClusterAuth
from common.net._backoff import Backoff
from common.net._errors import AuthError, RejectReason
from common.net._frame import encode_batch, frame_limit, take_batch
from common.net._handshake import ClientHandshake
from common.net._stats import TransportStats
from common.net._types import PeerAddress

PEER_PATH = "/opentrust/peer/v1"  # the only route the peer port serves
HANDSHAKE_TIMEOUT_S = 5.0  # an unauthenticated connection may hold resources this long
HEARTBEAT_S = 10.0  # ping an idle link this often; no pong within half of it drops the link
CLOSE_TIMEOUT_S = 1.0  # wait this long for the other side's close frame
REJECT_CLOSE_CODE = 4001  # WebSocket private-use code for a refused handshake; message = reason
_SOCKET_ERRORS = (aiohttp.ClientError, OSError)  # a dial or a write failed on the network side

log = logging.getLogger("common.net")

_WebSocket = aiohttp.ClientWebSocketResponse | web.WebSocketResponse


async def next_handshake_frame(ws: _WebSocket, remote: str | None) -> bytes:
    """The next binary frame, or `AuthError` if the other side closed or sent something else."""
    msg = await ws.receive()
    if msg.type is aiohttp.WSMsgType.BINARY:
        data: bytes = msg.data
        return data
    if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
        code = ws.close_code
        tag = msg.extra if isinstance(msg.extra, str) and msg.extra else "no reason given"
        if code == REJECT_CLOSE_CODE:
            detail = f"{remote} refused our handshake: {tag}"
            raise AuthError(RejectReason.REJECTED_BY_PEER, detail, remote_id=remote)
        raise AuthError(RejectReason.ABORTED, f"closed with code {code}", remote_id=remote)
    detail = f"expected a binary handshake frame, got {msg.type.name}"
    raise AuthError(RejectReason.MALFORMED, detail, remote_id=remote)


def set_nodelay(ws_transport: asyncio.BaseTransport | None) -> None:
    """Turn Nagle's algorithm off: a lone Raft message must not wait for an ACK."""
    if ws_transport is None:
        return
    sock = ws_transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@dataclass(frozen=True, slots=True)
class LinkContext:
    """What every outbound link of one transport shares."""

    node_id: str
    auth: ClusterAuth
    max_msg_bytes: int
    stats: TransportStats
    rng: random.Random


class PeerLink:
    """Queue and connection task for payloads to one peer."""

    def __init__(
        self, ctx: LinkContext, peer: PeerAddress, queue_len: int, backoff: Backoff
    ) -> None:
        self.peer = peer
        self.queue: deque[bytes] = deque()
        self.connected = False
        self._ctx = ctx
        self._queue_len = queue_len
        self._backoff = backoff
        self._wake = asyncio.Event()
        self._url = URL.build(scheme="http", host=peer.host, port=peer.port, path=PEER_PATH)

    def enqueue(self, payload: bytes) -> bool:
        """Queue `payload`; False if the queue is full (the new payload is the one dropped)."""
        if len(self.queue) >= self._queue_len:
            return False
        self.queue.append(payload)
        self._wake.set()
        return True

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Dial, carry payloads, redial after a backoff; runs until cancelled."""
        established_before = False
        while True:
            ws = await self._dial(session)
            if ws is not None:
                if established_before:
                    self._ctx.stats.reconnects += 1
                established_before = True
                self._backoff.reset()
                log.info("%s: link to %s is up", self._ctx.node_id, self.peer.node_id)
                await self._carry(ws)
                log.info("%s: link to %s is down", self._ctx.node_id, self.peer.node_id)
            await asyncio.sleep(self._backoff.next_delay(self._ctx.rng))

    async def _dial(self, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse | None:
        peer_id = self.peer.node_id
        try:
            ws = await session.ws_connect(
                self._url,
                max_msg_size=frame_limit(self._ctx.max_msg_bytes),
                compress=0,
                heartbeat=HEARTBEAT_S,
                timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_TIMEOUT_S),
            )
        except aiohttp.WSServerHandshakeError as exc:
            detail = f"HTTP {exc.status} from {self._url}: not an opentrust peer port?"
            err = AuthError(RejectReason.REJECTED_BY_PEER, detail, remote_id=peer_id)
            self._ctx.stats.record_reject(err, f"outbound to {peer_id}")
            return None
        except (*_SOCKET_ERRORS, TimeoutError) as exc:
            log.debug("dialling %s at %s failed: %r", peer_id, self._url, exc)
            return None
        set_nodelay(ws.get_extra_info("transport"))
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
                await self._handshake(ws)
        except TimeoutError:
            err = AuthError(RejectReason.TIMEOUT, "no answer in time", remote_id=peer_id)
            self._ctx.stats.record_reject(err, f"outbound to {peer_id}")
        except AuthError as exc:
            self._ctx.stats.record_reject(exc, f"outbound to {peer_id}")
        except _SOCKET_ERRORS as exc:
            log.debug("handshake with %s broke off: %r", peer_id, exc)
        else:
            return ws
        await ws.close()
        return None

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        ctx = self._ctx
        peer_id = self.peer.node_id
        hs = ClientHandshake(ctx.auth, ctx.node_id, peer_id, secrets.token_bytes(NONCE_BYTES))
        await ws.send_bytes(hs.hello())
        await ws.send_bytes(hs.on_challenge(await next_handshake_frame(ws, peer_id)))
        hs.on_accept(await next_handshake_frame(ws, peer_id))

    async def _carry(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Write queued payloads until the connection ends."""
        stats = self._ctx.stats
        max_frame = frame_limit(self._ctx.max_msg_bytes)
        watcher = asyncio.create_task(self._watch(ws))
        self.connected = True
        try:
            while not watcher.done():
                if not self.queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                batch = take_batch(self.queue, max_frame)
                try:
                    await ws.send_bytes(encode_batch(batch))
                except _SOCKET_ERRORS as exc:
                    stats.dropped += len(batch)
                    log.debug("link to %s broke while writing: %r", self.peer.node_id, exc)
                    break
                stats.sent += len(batch)
        finally:
            self.connected = False
            watcher.cancel()
            with contextlib.suppress(*_SOCKET_ERRORS):
                await ws.close()

    async def _watch(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read our outbound connection until it ends; the peer never sends data on it."""
        try:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                self._ctx.stats.record_protocol_error(
                    self.peer.node_id, "sent data on our outbound link"
                )
            else:
                log.debug("link to %s ended: %s %r", self.peer.node_id, msg.type.name, msg.data)
        finally:
            self._wake.set()
