"""`GET /events` over a real aiohttp server: authentication, topics, heartbeat, overflow."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from btcnode.consensus.hashes import hash256_hex
from btcnode.daemon.events_http import EVENTS_PATH, EventFeed
from btcnode.node import Node
from btcnode.notify import NotificationHub, NotificationTranslator
from tests.btcnode.scenarios.helpers import T0, key, mature_node, p2wpkh

AUTH = {"Authorization": "Basic dTpw"}
MINER = key("miner")


class Harness:
    def __init__(self, node: Node, feed: EventFeed, client: TestClient) -> None:
        self.node = node
        self.feed = feed
        self.client = client


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    node, _ = mature_node(MINER, blocks=1)
    hub = NotificationHub(NotificationTranslator(node.chainstate.get_raw_block))
    feed = EventFeed(hub, lambda header: header == AUTH["Authorization"], heartbeat_s=0.05)
    node.subscribe(feed.on_node_event)
    app = web.Application()
    feed.install(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield Harness(node, feed, client)
    finally:
        feed.close()
        await client.close()


async def _lines_until(response: aiohttp.ClientResponse, stop: str) -> list[str]:
    lines: list[str] = []
    while True:
        line = (await response.content.readline()).decode()
        if not line:
            return lines
        lines.append(line.rstrip("\n"))
        if lines[-1].startswith(stop):
            return lines


async def test_requests_without_the_credentials_or_with_bad_topics_are_refused(
    harness: Harness,
) -> None:
    denied = await harness.client.get(EVENTS_PATH)
    assert denied.status == 401
    assert denied.headers["WWW-Authenticate"] == 'Basic realm="jsonrpc"'
    bad = await harness.client.get(EVENTS_PATH, params={"topics": "blocks"}, headers=AUTH)
    assert bad.status == 400 and "unknown topic 'blocks'" in await bad.text()
    bad = await harness.client.get(EVENTS_PATH, params={"capacity": "lots"}, headers=AUTH)
    assert bad.status == 400 and "not a number" in await bad.text()


async def test_blocks_stream_as_events_and_idle_streams_get_heartbeats(harness: Harness) -> None:
    response = await harness.client.get(EVENTS_PATH, params={"topics": "hashblock"}, headers=AUTH)
    assert response.headers["Content-Type"] == "text/event-stream"
    assert await _lines_until(response, ": subscribed") == [": subscribed hashblock"]
    assert (await _lines_until(response, ": heartbeat"))[-1] == ": heartbeat"
    [block] = harness.node.generate(1, p2wpkh(MINER), T0)
    lines = await _lines_until(response, "data: ")
    assert lines[-3:] == [
        "id: 1",
        "event: hashblock",
        f'data: {{"hash":"{hash256_hex(block.hash)}","height":2}}',
    ]


async def test_a_subscriber_that_falls_behind_gets_overflow_and_the_stream_ends(
    harness: Harness,
) -> None:
    params = {"topics": "hashtx", "capacity": "2"}
    response = await harness.client.get(EVENTS_PATH, params=params, headers=AUTH)
    await _lines_until(response, ": subscribed")
    harness.node.generate(3, p2wpkh(MINER), T0)  # three coinbases before the handler runs
    rest = [line for line in await _lines_until(response, "never") if line]
    assert rest == [
        "event: overflow",
        'data: {"reason":"subscriber fell behind","capacity":2}',
    ]


async def test_close_ends_every_stream(harness: Harness) -> None:
    response = await harness.client.get(EVENTS_PATH, headers=AUTH)
    await _lines_until(response, ": subscribed")
    harness.feed.close()
    rest = [line for line in await _lines_until(response, "never") if line != ": heartbeat"]
    assert rest in ([], [""])
    refused = await harness.client.get(EVENTS_PATH, headers=AUTH)
    assert refused.status == 503
