"""Health routes through aiohttp's test client."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from common.runtime import add_health_routes


async def test_healthz_and_status() -> None:
    calls: list[int] = []

    def status() -> Mapping[str, object]:
        calls.append(1)
        return {"role": "leader", "term": 4, "id": b"\x0a", "peers": {"n2"}}

    app = web.Application()
    add_health_routes(app, status)
    async with TestClient(TestServer(app)) as client:
        health = await client.get("/healthz")
        assert (health.status, await health.json()) == (200, {"ok": True})
        assert calls == []
        reply = await client.get("/status")
        assert reply.status == 200
        assert reply.content_type == "application/json"
        assert await reply.json() == {"role": "leader", "term": 4, "id": "0a", "peers": ["n2"]}


async def test_failing_status_is_a_500_with_the_error() -> None:
    def status() -> Mapping[str, object]:
        raise KeyError("leader")

    app = web.Application()
    add_health_routes(app, status)
    async with TestClient(TestServer(app)) as client:
        reply = await client.get("/status")
        assert reply.status == 500
        assert await reply.json() == {"ok": False, "error": "KeyError: 'leader'"}
        health = await client.get("/healthz")
        assert health.status == 200
