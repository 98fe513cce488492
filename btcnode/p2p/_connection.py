"""One TCP connection of the peer manager: a reader task that frames and decodes, a writer
task that drains a bounded send queue, and the byte counters getpeerinfo reports.

The connection does not interpret messages: it hands each decoded message (or each
framing/decoding error) to the manager's callbacks, which call the net-processing core.
Payloads are copied once out of the receive buffer (`FrameDecoder`) and, when sent, the
24-byte header and the payload are written separately so a block is never concatenated.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence

from btcnode.p2p.control import ConnectionType
from btcnode.p2p.errors import FramingError, MessageDecodeError, PeerMisbehaving
from btcnode.p2p.framing import Frame, FrameDecoder, encode_header
from btcnode.p2p.messages import BlockMessage, Message, OutboundMessage, decode_message
from btcnode.p2p.peer import PeerAddress

__all__ = ["STREAM_BUFFER_LIMIT", "Connection"]

READ_CHUNK = 1 << 20  # bytes asked of the socket per read; the decoder holds < one frame more
# The stream reader keeps reading from the socket while a block is validated, up to twice
# this; a few blocks' worth keeps the next ones arriving without unbounded buffering.
STREAM_BUFFER_LIMIT = 4 << 20
WRITE_HIGH_WATER = 1 << 20  # the transport buffers this much before the writer waits

OnMessage = Callable[["Connection", Message, float], None]
OnError = Callable[["Connection", PeerMisbehaving, float], None]
OnClosed = Callable[["Connection", str], None]


class Connection:
    def __init__(
        self,
        peer_id: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        addr: PeerAddress,
        connection_type: ConnectionType,
        magic: bytes,
        max_send_queue_bytes: int,
        clock: Callable[[], float],
    ) -> None:
        self.peer_id = peer_id
        self.addr = addr
        self.connection_type = connection_type
        self._reader = reader
        self._writer = writer
        self._magic = magic
        self._decoder = FrameDecoder(magic)
        self._clock = clock
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._max_queue = max_send_queue_bytes
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = asyncio.Event()
        self.close_reason = ""
        self.conntime = clock()
        self.bytes_sent = self.bytes_recv = 0
        self.last_send = self.last_recv = 0.0
        sock = writer.get_extra_info("sockname")
        self.local = PeerAddress(str(sock[0]), int(sock[1])) if sock else PeerAddress("", 0)
        writer.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)

    @property
    def inbound(self) -> bool:
        return self.connection_type is ConnectionType.INBOUND

    def start(self, on_message: OnMessage, on_error: OnError, on_closed: OnClosed) -> None:
        self._tasks = [
            asyncio.create_task(self._read_loop(on_message, on_error, on_closed)),
            asyncio.create_task(self._write_loop(on_closed)),
        ]

    def send(self, message: OutboundMessage) -> bool:
        """Queue `message`; False (and nothing queued) if the queue would overflow."""
        payload = message.serialize()
        header = encode_header(self._magic, message.command, payload)
        size = len(header) + len(payload)
        pending = self._queued_bytes + self._writer.transport.get_write_buffer_size()
        if pending + size > self._max_queue:
            return False
        self._queue.append(header)
        self._queue.append(payload)
        self._queued_bytes += size
        self._wakeup.set()
        return True

    def close(self, reason: str) -> bool:
        """Close the socket and stop the tasks; False if it was already closed."""
        if self.closed.is_set():
            return False
        self.close_reason = reason
        self.closed.set()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._writer.close()
        return True

    async def wait_stopped(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(OSError, ConnectionError):
            await self._writer.wait_closed()

    async def _read_loop(
        self, on_message: OnMessage, on_error: OnError, on_closed: OnClosed
    ) -> None:
        reason = "peer-closed"
        try:
            while not self.closed.is_set():
                data = await self._reader.read(READ_CHUNK)
                if not data:
                    break
                now = self._clock()
                self.bytes_recv += len(data)
                self.last_recv = now
                await self._feed(data, now, on_message, on_error)
        except (ConnectionError, OSError) as exc:
            reason = f"read-error: {exc.__class__.__name__}"
        finally:
            on_closed(self, reason)

    async def _feed(
        self, data: bytes, now: float, on_message: OnMessage, on_error: OnError
    ) -> None:
        """Frames in `data`; a non-fatal framing error drops one frame and decoding goes on."""
        while True:
            try:
                frames = self._decoder.feed(data)
            except FramingError as exc:
                await self._deliver(exc.decoded, now, on_message, on_error)
                on_error(self, exc, now)
                if exc.disconnect or self.closed.is_set():
                    self.close(exc.reason)
                    return
                data = b""
                continue
            await self._deliver(frames, now, on_message, on_error)
            return

    async def _deliver(
        self, frames: Sequence[Frame], now: float, on_message: OnMessage, on_error: OnError
    ) -> None:
        for frame in frames:
            if self.closed.is_set():
                return
            try:
                message = decode_message(frame.command, frame.payload)
            except MessageDecodeError as exc:
                on_error(self, exc, now)
                continue
            on_message(self, message, now)
            if isinstance(message, BlockMessage):
                await asyncio.sleep(0)  # a block took a while: let other peers' I/O run

    async def _write_loop(self, on_closed: OnClosed) -> None:
        reason = "write-ended"
        writer = self._writer
        try:
            while not self.closed.is_set():
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue:
                    chunk = self._queue.popleft()
                    self._queued_bytes -= len(chunk)
                    writer.write(chunk)
                    self.bytes_sent += len(chunk)
                    self.last_send = self._clock()
                    if writer.transport.get_write_buffer_size() > WRITE_HIGH_WATER:
                        await writer.drain()
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            reason = f"write-error: {exc.__class__.__name__}"
            on_closed(self, reason)
