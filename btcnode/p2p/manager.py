"""`PeerManager`: the asyncio driver of the net-processing core, and the `PeerControl` the
RPC layer uses.

It listens (unless `config.listen` is False), keeps the `--connect` / `--addnode` peers
connected with a doubling, jittered reconnect delay (common.net's `Backoff`), runs one
`Connection` (reader + writer task) per peer, ticks the core every `config.tick_interval`
seconds, turns node events into core calls, and carries out the core's effects: sends,
disconnects and bans. Everything runs on the event loop's thread, including the node calls
the core makes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

from btcnode.node import Node, NodeEvent
from btcnode.p2p._bans import BanList, normalize_host
from btcnode.p2p._connection import STREAM_BUFFER_LIMIT, Connection
from btcnode.p2p._peerinfo import peer_info
from btcnode.p2p.config import P2PConfig, parse_host_port
from btcnode.p2p.control import (
    DEFAULT_MISBEHAVING_BANTIME,
    AddNodeCommand,
    BanEntry,
    ConnectionCounts,
    ConnectionType,
    PeerInfo,
)
from btcnode.p2p.effects import BanAddress, DisconnectPeer, Effect, SendMessage
from btcnode.p2p.errors import P2PMisuse, PeerMisbehaving
from btcnode.p2p.messages import Message
from btcnode.p2p.peer import PeerAddress
from btcnode.p2p.processor import NetProcessor
from common.net import Backoff

__all__ = ["PeerManager"]

log = logging.getLogger("btcnode.p2p")


class PeerManager:
    """Connections to peers for one `Node`; implements `btcnode.p2p.control.PeerControl`."""

    def __init__(
        self,
        node: Node,
        config: P2PConfig,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.node = node
        self.config = config
        self._clock = clock
        self._rng = rng or random.Random()  # version and ping nonces, reconnect jitter
        self.core = NetProcessor(node, config, nonces=self._rng)
        self._magic = node.params.message_start
        self._connections: dict[int, Connection] = {}
        self._next_id = 0
        self._server: asyncio.Server | None = None
        self._listen_port: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._targets: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._bans = BanList()
        self._network_active = True
        self._unsubscribe: Callable[[], None] | None = None
        self._started = False

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            raise P2PMisuse("the peer manager is already started")
        self._started = True
        self._unsubscribe = self.node.subscribe(self._on_node_event)
        if self.config.listen:
            self._server = await asyncio.start_server(
                self._on_inbound,
                self.config.listen_host,
                self.config.listen_port,
                limit=STREAM_BUFFER_LIMIT,
            )
            self._listen_port = int(self._server.sockets[0].getsockname()[1])
        for target in (*self.config.connect, *self.config.addnode):
            self._keep_connected(target, once=False)
        self._spawn(self._tick_loop())

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._server is not None:
            self._server.close()
        for task in (*self._tasks, *self._targets.values()):
            task.cancel()
        connections = list(self._connections.values())
        for conn in connections:
            self._close(conn, "shutdown")
        await asyncio.gather(*self._tasks, *self._targets.values(), return_exceptions=True)
        await asyncio.gather(*(c.wait_stopped() for c in connections), return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self._tasks.clear()
        self._targets.clear()

    @property
    def listen_port(self) -> int:
        if self._listen_port is None:
            raise P2PMisuse("the peer manager is not listening")
        return self._listen_port

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- connections ----------------------------------------------------------------------

    async def _on_inbound(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        host, port = str(peer[0]), int(peer[1])
        refused = self._inbound_refusal(host)
        if refused is not None:
            log.debug("refusing inbound connection from %s:%d: %s", host, port, refused)
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
            return
        self._register(reader, writer, PeerAddress(host, port), ConnectionType.INBOUND)

    def _inbound_refusal(self, host: str) -> str | None:
        """Why a new inbound connection from `host` is refused, or None to accept it."""
        if not self._network_active:
            return "network-inactive"
        if self._bans.is_banned(host, self._clock()):
            return "banned"
        if self.connection_counts().inbound >= self.config.max_inbound:
            return "inbound-full"
        return None

    def _register(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        addr: PeerAddress,
        connection_type: ConnectionType,
    ) -> Connection:
        self._next_id += 1
        conn = Connection(
            self._next_id,
            reader,
            writer,
            addr=addr,
            connection_type=connection_type,
            magic=self._magic,
            max_send_queue_bytes=self.config.max_send_queue_bytes,
            clock=self._clock,
        )
        self._connections[conn.peer_id] = conn
        conn.start(self._on_message, self._on_error, self._on_closed)
        self._apply(self.core.on_connected(conn.peer_id, addr, connection_type, self._clock()))
        return conn

    def _keep_connected(self, target: tuple[str, int], *, once: bool) -> None:
        if once:
            self._spawn(self._connect_loop(target, once))
        else:
            self._targets[target] = asyncio.ensure_future(self._connect_loop(target, once))

    async def _connect_loop(self, target: tuple[str, int], once: bool) -> None:
        backoff = Backoff(self.config.reconnect_delay, self.config.reconnect_delay_max)
        host, port = target
        while True:
            if self._network_active:
                try:
                    reader, writer = await asyncio.open_connection(
                        host, port, limit=STREAM_BUFFER_LIMIT
                    )
                except OSError as exc:
                    log.debug("cannot connect to %s:%d: %s", host, port, exc)
                else:
                    conn = self._register(
                        reader, writer, PeerAddress(host, port), ConnectionType.MANUAL
                    )
                    await conn.closed.wait()
                    if self._clock() - conn.conntime > self.config.reconnect_delay_max:
                        backoff.reset()  # it held: start over
            if once:
                return
            await asyncio.sleep(backoff.next_delay(self._rng))

    def _on_message(self, conn: Connection, message: Message, now: float) -> None:
        try:
            effects = self.core.on_message(conn.peer_id, message, now)
        except Exception:  # a bug must cost one connection, never the node
            log.exception("processing %r from peer %d failed", message.command, conn.peer_id)
            effects = [*self.core.take_effects(), DisconnectPeer(conn.peer_id, "internal-error")]
        self._apply(effects)

    def _on_error(self, conn: Connection, error: PeerMisbehaving, now: float) -> None:
        log.debug("peer %d (%s) sent bad data: %s", conn.peer_id, conn.addr, error)
        self._apply(self.core.on_misbehaving(conn.peer_id, error, now))

    def _on_closed(self, conn: Connection, reason: str) -> None:
        self._close(conn, reason)

    def _close(self, conn: Connection, reason: str) -> None:
        conn.close(reason)
        if self._connections.pop(conn.peer_id, None) is not None:
            log.debug("peer %d (%s) disconnected: %s", conn.peer_id, conn.addr, reason)
            self._apply(self.core.on_disconnected(conn.peer_id))
            self._spawn(conn.wait_stopped())

    def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SendMessage):
                conn = self._connections.get(effect.peer_id)
                if conn is not None and not conn.send(effect.message):
                    self._close(conn, "send-queue-overflow")
            elif isinstance(effect, DisconnectPeer):
                conn = self._connections.get(effect.peer_id)
                if conn is not None:
                    self._close(conn, effect.reason)
            elif isinstance(effect, BanAddress):
                self._ban(effect.host, effect.until, effect.reason)

    def _ban(self, host: str, until: int, reason: str) -> None:
        self._bans.ban(host, until, reason, self._clock())
        key = normalize_host(host)
        for conn in list(self._connections.values()):
            if normalize_host(conn.addr.host) == key:
                self._close(conn, f"banned: {reason}")

    def _on_node_event(self, event: NodeEvent) -> None:
        try:
            self._apply(self.core.on_node_event(event))
        except Exception:  # a listener must not raise into the node
            log.exception("announcing %s failed", type(event).__name__)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval)
            now = self._clock()
            self._bans.sweep(now)
            self._apply(self.core.on_tick(now))

    # -- PeerControl ----------------------------------------------------------------------

    def peer_info(self) -> list[PeerInfo]:
        infos = []
        for conn in self._connections.values():
            state = self.core.peers.get(conn.peer_id)
            if state is not None:
                infos.append(peer_info(conn, state, self.node.chainstate))
        return infos

    def connection_counts(self) -> ConnectionCounts:
        inbound = sum(1 for c in self._connections.values() if c.inbound)
        return ConnectionCounts(inbound, len(self._connections) - inbound)

    @property
    def network_active(self) -> bool:
        return self._network_active

    def set_network_active(self, active: bool) -> None:
        self._network_active = active
        if not active:
            for conn in list(self._connections.values()):
                self._close(conn, "network-inactive")

    def add_node(self, address: str, command: AddNodeCommand) -> None:
        target = parse_host_port(address, self.node.params.default_port)
        if command is AddNodeCommand.ONETRY:
            self._keep_connected(target, once=True)
        elif command is AddNodeCommand.ADD:
            if target in self._targets:
                raise P2PMisuse("Error: Node already added")
            self._keep_connected(target, once=False)
        else:
            task = self._targets.pop(target, None)
            if task is None:
                raise P2PMisuse(
                    "Error: Node could not be removed. It has not been added previously."
                )
            task.cancel()

    def disconnect_node(self, address: str | None = None, node_id: int | None = None) -> None:
        if (address is None) == (node_id is None):
            raise P2PMisuse("Only one of address and nodeid should be provided.")
        for conn in list(self._connections.values()):
            if conn.peer_id == node_id or (address is not None and str(conn.addr) == address):
                self._close(conn, "disconnectnode")
                return
        raise P2PMisuse("Node not found in connected nodes")

    def list_banned(self) -> list[BanEntry]:
        return self._bans.entries(self._clock())

    def set_ban(self, address: str, add: bool, ban_seconds: int) -> None:
        if not add:
            self._bans.unban(address)
            return
        if self._bans.contains(address):
            raise P2PMisuse("Error: IP/Subnet already banned")
        now = self._clock()
        seconds = ban_seconds if ban_seconds > 0 else DEFAULT_MISBEHAVING_BANTIME
        self._ban(address, int(now) + seconds, "manually added")

    def clear_banned(self) -> None:
        self._bans.clear()
