"""`GET /events`: the notification feed as Server-Sent Events, on the RPC port.

Thin: the node listener hands each event to the `NotificationHub` (`btcnode.notify`) and
wakes the subscribers it names; each request's handler authenticates like RPC, registers a
`Subscriber`, then writes what its subscriber has, a heartbeat comment when idle for
`HEARTBEAT_INTERVAL_S`, and a final `overflow` event if the subscriber fell behind.
`close()` ends every stream (shutdown), so the HTTP server need not wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from aiohttp import web

from btcnode.node import NodeEvent
from btcnode.notify import (
    DEFAULT_SUBSCRIBER_CAPACITY,
    HEARTBEAT,
    NotificationHub,
    NotifyRequestError,
    Subscriber,
    encode_event,
    encode_overflow,
    parse_topics,
)
from btcnode.rpc.auth import WWW_AUTHENTICATE

__all__ = ["EVENTS_PATH", "HEARTBEAT_INTERVAL_S", "EventFeed"]

EVENTS_PATH = "/events"
HEARTBEAT_INTERVAL_S = 15.0  # an SSE comment this often keeps idle connections open
# A write that waits this long for the client to read means the client has stopped reading:
# its subscriber has long overflowed, so the stream is closed instead of held open.
WRITE_TIMEOUT_S = 30.0

Authorizer = Callable[[str | None], bool]  # the Authorization header -> allowed?


class EventFeed:
    """The hub, one wake-up event per live stream, and the aiohttp handler."""

    __slots__ = ("_authorized", "_closing", "_heartbeat_s", "_hub", "_wakes")

    def __init__(
        self,
        hub: NotificationHub,
        authorized: Authorizer,
        *,
        heartbeat_s: float = HEARTBEAT_INTERVAL_S,
    ) -> None:
        self._hub = hub
        self._authorized = authorized
        self._heartbeat_s = heartbeat_s
        self._wakes: dict[Subscriber, asyncio.Event] = {}
        self._closing = False

    def on_node_event(self, event: NodeEvent) -> None:
        """The node listener: runs inside the node call, so it only queues and wakes."""
        for subscriber in self._hub.publish(event):
            wake = self._wakes.get(subscriber)
            if wake is not None:
                wake.set()

    def close(self) -> None:
        """End every stream at its next wake-up (now) and refuse new ones."""
        self._closing = True
        for wake in self._wakes.values():
            wake.set()

    def install(self, app: web.Application) -> None:
        app.router.add_get(EVENTS_PATH, self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request.headers.get("Authorization")):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": WWW_AUTHENTICATE})
        if self._closing:
            raise web.HTTPServiceUnavailable(text="shutting down")
        try:
            subscriber = Subscriber(parse_topics(request.query.get("topics")), _capacity(request))
        except NotifyRequestError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        wake = asyncio.Event()
        self._wakes[subscriber] = wake
        self._hub.add(subscriber)
        try:
            topics = ",".join(sorted(subscriber.topics))
            await _write(response, f": subscribed {topics}\n\n".encode())
            await self._stream(subscriber, wake, response)
        except (ConnectionError, TimeoutError):
            pass  # the client went away, or stopped reading for WRITE_TIMEOUT_S
        finally:
            self._hub.remove(subscriber)
            del self._wakes[subscriber]
        return response

    async def _stream(
        self, subscriber: Subscriber, wake: asyncio.Event, response: web.StreamResponse
    ) -> None:
        while not self._closing:
            try:
                await asyncio.wait_for(wake.wait(), self._heartbeat_s)
            except TimeoutError:
                await _write(response, HEARTBEAT)
                continue
            wake.clear()
            if subscriber.overflowed:
                await _write(response, encode_overflow(subscriber))
                return
            first_id = subscriber.delivered + 1
            for offset, notification in enumerate(subscriber.take()):
                await _write(response, encode_event(notification, first_id + offset))
        with contextlib.suppress(ConnectionError):
            await response.write_eof()


async def _write(response: web.StreamResponse, data: bytes) -> None:
    """Write `data`; `TimeoutError` if the client does not take it within WRITE_TIMEOUT_S."""
    await asyncio.wait_for(response.write(data), WRITE_TIMEOUT_S)


def _capacity(request: web.Request) -> int:
    text = request.query.get("capacity")
    if text is None:
        return DEFAULT_SUBSCRIBER_CAPACITY
    if not text.isdigit():
        raise NotifyRequestError(f"capacity {text!r} is not a number")
    return int(text)
