"""A small P2P client modelled on Bitcoin Core's functional-test P2PInterface
(test_framework/p2p.py), over raw asyncio streams and our own codec.

It behaves as Core's client does: it sends `version` first (protocol 70016, services
NODE_NETWORK | NODE_WITNESS, relay 1, start height -1, its own user agent); on the node's
version it sends `wtxidrelay` and `sendaddrv2`, then `verack`; it answers every `ping`
with a `pong`. Everything else it receives is queued for the test to inspect.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from ipaddress import IPv4Address
from typing import TypeVar

from btcnode.p2p.errors import PeerMisbehaving
from btcnode.p2p.framing import FrameDecoder
from btcnode.p2p.messages import (
    PROTOCOL_VERSION,
    Message,
    OutboundMessage,
    PingMessage,
    PongMessage,
    SendAddrV2Message,
    VerackMessage,
    VersionMessage,
    WtxidRelayMessage,
    decode_message,
    encode_message,
)
from btcnode.p2p.netaddr import NetAddress, ServiceFlags

P2P_SERVICES = int(ServiceFlags.NODE_NETWORK | ServiceFlags.NODE_WITNESS)  # Core's framework
P2P_SUBVERSION = b"/python-p2p-tester:0.0.3/"
# Core's protocol.cpp ALL_NET_MESSAGE_TYPES: anything else a Core node would ignore
CORE_MESSAGE_TYPES = frozenset(
    b"version verack addr addrv2 sendaddrv2 inv getdata merkleblock getblocks getheaders tx "
    b"headers block getaddr mempool ping pong notfound filterload filteradd filterclear "
    b"sendheaders feefilter sendcmpct cmpctblock getblocktxn blocktxn getcfilters cfilter "
    b"getcfheaders cfheaders getcfcheckpt cfcheckpt wtxidrelay sendtxrcncl".split()
)
M = TypeVar("M")


class MiniNode:
    def __init__(self, magic: bytes) -> None:
        self.magic = magic
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.peer_version: VersionMessage | None = None
        self.verack_received = asyncio.Event()
        self.closed = asyncio.Event()
        self.received_commands: list[bytes] = []

    async def connect(self, host: str, port: int) -> None:
        self._reader, self._writer = await asyncio.open_connection(host, port)
        self._task = asyncio.create_task(self._read_loop())

    def version_message(self, nonce: int = 0x5EED) -> VersionMessage:
        nowhere = NetAddress(0, IPv4Address("0.0.0.0"), 0)
        return VersionMessage(
            PROTOCOL_VERSION,
            P2P_SERVICES,
            int(time.time()),
            nowhere,
            NetAddress(P2P_SERVICES, IPv4Address("0.0.0.0"), 0),
            nonce,
            P2P_SUBVERSION,
            -1,
            True,
        )

    async def handshake(self, timeout: float = 5.0) -> None:
        """version out; the node's version in; wtxidrelay, sendaddrv2, verack out; its
        verack in."""
        self.send(self.version_message())
        await asyncio.wait_for(self.verack_received.wait(), timeout)

    def send(self, message: OutboundMessage) -> None:
        self.send_raw(encode_message(self.magic, message))

    def send_raw(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)

    async def expect(self, kind: type[M], timeout: float = 5.0) -> M:
        """The next queued message of type `kind`, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind.__name__} within {timeout} s")
            message = await asyncio.wait_for(self.inbox.get(), remaining)
            if isinstance(message, kind):
                return message

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """The node closed the connection."""
        await asyncio.wait_for(self.closed.wait(), timeout)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read_loop(self) -> None:
        assert self._reader is not None
        decoder = FrameDecoder(self.magic)
        try:
            while data := await self._reader.read(1 << 20):
                for frame in decoder.feed(data):
                    self._on_message(decode_message(frame.command, frame.payload))
        except (ConnectionError, OSError, PeerMisbehaving):
            pass
        finally:
            self.closed.set()

    def _on_message(self, message: Message) -> None:
        self.received_commands.append(message.command)
        if isinstance(message, VersionMessage):
            self.peer_version = message
            if message.version >= PROTOCOL_VERSION:
                self.send(WtxidRelayMessage())
            self.send(SendAddrV2Message())
            self.send(VerackMessage())
        elif isinstance(message, VerackMessage):
            self.verack_received.set()
        elif isinstance(message, PingMessage):
            self.send(PongMessage(message.nonce))
        self.inbox.put_nowait(message)
