"""`SimTransport`: the `Transport` protocol over a `SimNetwork`, for asyncio component tests.

Sends go straight into the network, stamped with `clock()`. Nothing moves by itself: the test
owns the clock and advances time, then calls `pump()` on any transport of the network, which
moves every message due by `clock()` into the recipients' inbound queues:

    now = [0]
    net = SimNetwork(["a", "b"], random.Random(seed))
    a = SimTransport(net, "a", lambda: now[0])
    b = SimTransport(net, "b", lambda: now[0])
    a.send("b", b"hi")
    now[0] += 10
    a.pump()
    envelope = await b.recv()

Inbound queues are bounded; a message arriving at a full queue is dropped and counted, as a
lossy network would. A closed transport is detached: messages to it are discarded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from common.errors import UsageError
from common.net._errors import MessageTooLarge, NetError
from common.net._sim import SimNetwork
from common.net._types import MAX_MSG_BYTES_DEFAULT, Envelope


class SimTransport:
    """One node's endpoint on a `SimNetwork`; see the module docstring for driving time."""

    def __init__(
        self,
        network: SimNetwork,
        node_id: str,
        clock: Callable[[], int],
        *,
        recv_queue_len: int = 4096,
        max_msg_bytes: int = MAX_MSG_BYTES_DEFAULT,
    ) -> None:
        if not network.has_node(node_id):
            raise UsageError(f"node {node_id!r} is not on the simulated network")
        if recv_queue_len < 1 or max_msg_bytes < 1:
            raise UsageError("recv_queue_len and max_msg_bytes must be >= 1")
        self.node_id = node_id
        self._network = network
        self._clock = clock
        self._max_msg_bytes = max_msg_bytes
        self._inbox: asyncio.Queue[Envelope] = asyncio.Queue(recv_queue_len)
        self._closed = False
        self._counters = {"sent": 0, "dropped": 0, "received": 0}
        network.attach(node_id, self._deliver)

    async def start(self) -> None:
        """Nothing to open: the transport is on the network from construction."""
        if self._closed:
            raise UsageError(f"transport {self.node_id} is closed")

    def send(self, dst: str, payload: bytes) -> bool:
        """Hand `payload` to the network; False (counted) if closed or `dst` is unknown."""
        if len(payload) > self._max_msg_bytes:
            raise MessageTooLarge(len(payload), self._max_msg_bytes)
        if self._closed or dst == self.node_id or not self._network.has_node(dst):
            self._counters["dropped"] += 1
            return False
        self._network.send(self.node_id, dst, payload, self._clock())
        self._counters["sent"] += 1
        return True

    async def recv(self) -> Envelope:
        if self._closed and self._inbox.empty():
            raise NetError(f"transport {self.node_id} is closed")
        return await self._inbox.get()

    def pump(self) -> int:
        """Deliver every message due by `clock()` on the whole network; returns how many
        reached an attached transport."""
        return self._network.pump(self._clock())

    async def close(self) -> None:
        self._closed = True
        self._network.detach(self.node_id)

    def stats(self) -> dict[str, int]:
        """sent, dropped (refused by send or by a full inbound queue) and received."""
        return dict(self._counters)

    def _deliver(self, src: str, payload: bytes) -> None:
        try:
            self._inbox.put_nowait(Envelope(src, payload))
        except asyncio.QueueFull:
            self._counters["dropped"] += 1
            return
        self._counters["received"] += 1
