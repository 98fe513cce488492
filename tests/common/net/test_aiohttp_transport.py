"""AiohttpTransport over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterable

import aiohttp
import pytest
from aiohttp import web

from common.errors import ConfigError, UsageError
from common.net import (
    PEER_PATH,
    AiohttpTransport,
    ClusterAuth,
    Envelope,
    MessageTooLarge,
    NetError,
    PeerAddress,
    Transport,
    free_tcp_ports,
)
from common.net import _aiohttp_transport as transport_module
from common.net._peer_link import set_nodelay

SECRET = ClusterAuth(b"cluster-secret-0123456789")
GUARD_S = 15.0  # hang guard only; nothing here asserts on timing


def addresses(names: Iterable[str]) -> dict[str, PeerAddress]:
    ids = list(names)
    ports = free_tcp_ports(len(ids))
    return {name: PeerAddress(name, "127.0.0.1", p) for name, p in zip(ids, ports, strict=True)}


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(GUARD_S):
        while not predicate():
            await asyncio.sleep(0.01)
    assert predicate(), what


async def recv(transport: AiohttpTransport) -> Envelope:
    async with asyncio.timeout(GUARD_S):
        return await transport.recv()


class Cluster:
    """Starts transports and closes every one of them at the end of the test."""

    def __init__(self) -> None:
        self.started: list[AiohttpTransport] = []

    async def start(
        self,
        node_id: str,
        addrs: dict[str, PeerAddress],
        auth: ClusterAuth = SECRET,
        **kwargs: int | float,
    ) -> AiohttpTransport:
        transport = AiohttpTransport(node_id, addrs[node_id], addrs, auth, **kwargs)  # type: ignore[arg-type]
        await transport.start()
        self.started.append(transport)
        return transport

    async def close(self) -> None:
        for transport in self.started:
            await transport.close()


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    c = Cluster()
    try:
        yield c
    finally:
        await c.close()


async def test_three_nodes_exchange_in_every_direction(cluster: Cluster) -> None:
    addrs = addresses("abc")
    nodes = {name: await cluster.start(name, addrs) for name in "abc"}
    assert isinstance(nodes["a"], Transport)
    for src in "abc":
        for dst in "abc":
            if src != dst:
                assert nodes[src].send(dst, f"{src}->{dst}".encode())
    for dst in "abc":
        got = {(await recv(nodes[dst])).payload for _ in range(2)}
        assert got == {f"{src}->{dst}".encode() for src in "abc" if src != dst}
    for src in "abc":
        assert nodes[src].stats()["sent"] == 2
        assert nodes[src].stats()["received"] == 2


async def test_messages_from_one_sender_arrive_in_order(cluster: Cluster) -> None:
    addrs = addresses("ab")
    a = await cluster.start("a", addrs, send_queue_len=2000)
    b = await cluster.start("b", addrs)
    for i in range(2000):
        assert a.send("b", i.to_bytes(4, "big"))
    received = [await recv(b) for _ in range(2000)]
    assert [int.from_bytes(e.payload, "big") for e in received] == list(range(2000))
    assert {e.src for e in received} == {"a"}


async def test_restarted_peer_on_the_same_port_is_reconnected(cluster: Cluster) -> None:
    addrs = addresses("ab")
    a = await cluster.start("a", addrs)
    b = await cluster.start("b", addrs)
    a.send("b", b"before")
    assert (await recv(b)).payload == b"before"
    await b.close()
    await wait_until(lambda: a.stats()["connected_peers"] == 0, "a notices b is gone")
    b2 = await cluster.start("b", addrs)
    a.send("b", b"after")
    assert (await recv(b2)).payload == b"after"
    assert a.stats()["reconnects"] >= 1


async def test_wrong_secret_is_refused_and_the_reason_recorded(cluster: Cluster) -> None:
    addrs = addresses("ab")
    a = await cluster.start("a", addrs, auth=ClusterAuth(b"another-secret-9876543210"))
    # b knows a but dials a dead port for it, so only a -> b handshakes happen
    dead_port = free_tcp_ports(1)[0]
    b = await cluster.start("b", {**addrs, "a": PeerAddress("a", "127.0.0.1", dead_port)})
    a.send("b", b"must not arrive")
    await wait_until(lambda: b.stats()["rejected_connections"] >= 1, "b refuses a")
    await wait_until(lambda: a.stats()["rejected_connections"] >= 1, "a hears it was refused")
    assert b.stats()["last_reject_reason"].startswith("bad_proof: inbound from")
    assert "claiming a" in b.stats()["last_reject_reason"]
    assert a.stats()["last_reject_reason"] == (
        "rejected_by_peer: outbound to b: b refused our handshake: bad_proof"
    )
    assert b.stats()["received"] == 0
    assert b.stats()["inbound_peers"] == 0


async def test_unknown_node_is_refused_and_logged_once(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="common.net")
    addrs = addresses("abz")
    b = await cluster.start("b", {k: addrs[k] for k in "ab"})
    z = await cluster.start("z", addrs)  # z knows b and the secret, but b does not know z
    z.send("b", b"hello?")
    await wait_until(lambda: b.stats()["rejected_connections"] >= 3, "b refuses z repeatedly")
    assert b.stats()["last_reject_reason"].startswith("unknown_node")
    assert "rejected_by_peer" in z.stats()["last_reject_reason"]
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "unknown_node: inbound" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert b.stats()["received"] == 0


async def test_garbage_does_not_crash_the_server(cluster: Cluster) -> None:
    addrs = addresses("ab")
    a, b = [await cluster.start(name, addrs) for name in "ab"]
    reader, writer = await asyncio.open_connection("127.0.0.1", addrs["b"].port)
    writer.write(b"\x00\xff\x13garbage\r\n\r\n" * 50)
    await writer.drain()
    async with asyncio.timeout(GUARD_S):
        await reader.read()  # the server answers (400) and hangs up
    writer.close()
    base = f"http://127.0.0.1:{addrs['b'].port}"
    async with aiohttp.ClientSession() as session:
        async with session.get(base + "/status") as resp:
            assert resp.status == 404
        async with session.get(base + PEER_PATH) as resp:
            assert resp.status == 400
        async with session.post(base + PEER_PATH, data=b"x" * 1000) as resp:
            assert resp.status == 405
    a.send("b", b"still serving")
    assert (await recv(b)).payload == b"still serving"


@pytest.mark.parametrize(
    "frame",
    [b"not a handshake", b"", "text frame"],
    ids=["garbage-binary", "empty-binary", "text"],
)
async def test_malformed_handshake_is_refused(cluster: Cluster, frame: bytes | str) -> None:
    addrs = addresses("b")
    b = await cluster.start("b", addrs)
    url = f"http://127.0.0.1:{addrs['b'].port}{PEER_PATH}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        if isinstance(frame, str):
            await ws.send_str(frame)
        else:
            await ws.send_bytes(frame)
        msg = await ws.receive(timeout=GUARD_S)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert msg.extra == "malformed_handshake"
    assert b.stats()["last_reject_reason"].startswith("malformed_handshake")


async def test_silent_connections_time_out_and_are_bounded(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport_module, "HANDSHAKE_TIMEOUT_S", 0.2)
    monkeypatch.setattr(transport_module, "MAX_PENDING_HANDSHAKES", 1)
    addrs = addresses("b")
    b = await cluster.start("b", addrs)
    url = f"http://127.0.0.1:{addrs['b'].port}{PEER_PATH}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as silent:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(url)  # a second unauthenticated connection is one too many
        assert info.value.status == 503
        assert b.stats()["last_reject_reason"].startswith("too_many_handshakes")
        msg = await silent.receive(timeout=GUARD_S)
        assert msg.extra == "handshake_timeout"
    assert b.stats()["last_reject_reason"].startswith("handshake_timeout")
    assert b.stats()["rejected_connections"] == 2


async def test_oversize_frame_closes_only_that_connection(cluster: Cluster) -> None:
    addrs = addresses("abc")
    a = await cluster.start("a", addrs, max_msg_bytes=1 << 20)
    b = await cluster.start("b", addrs, max_msg_bytes=64 * 1024)
    c = await cluster.start("c", addrs)
    await wait_until(lambda: b.stats()["inbound_peers"] == 2, "a and c connect to b")
    assert a.send("b", b"x" * (200 * 1024))
    await wait_until(lambda: b.stats()["protocol_errors"] >= 1, "b closes a's connection")
    assert b.stats()["last_protocol_error"].startswith("a: ")
    assert "exceeds limit" in b.stats()["last_protocol_error"]
    c.send("b", b"from c")
    assert await recv(b) == Envelope("c", b"from c")
    a.send("b", b"small again")
    assert await recv(b) == Envelope("a", b"small again")
    assert b.stats()["received"] == 2


async def test_send_to_unknown_peer_and_to_itself_is_refused(cluster: Cluster) -> None:
    addrs = addresses("ab")
    a = AiohttpTransport("a", addrs["a"], addrs, SECRET)
    assert not a.send("nobody", b"x")
    assert not a.send("a", b"x")
    assert a.stats()["dropped"] == 2


async def test_full_send_queue_refuses_and_counts() -> None:
    addrs = addresses("ab")  # b is never started
    a = AiohttpTransport("a", addrs["a"], addrs, SECRET, send_queue_len=3)
    assert [a.send("b", bytes([i])) for i in range(5)] == [True, True, True, False, False]
    assert a.stats()["dropped"] == 2
    assert a.stats()["queued"] == 3


async def test_a_down_peer_does_not_block_others(cluster: Cluster) -> None:
    addrs = addresses("abd")  # d is never started
    a = await cluster.start("a", addrs, send_queue_len=8)
    b = await cluster.start("b", addrs)
    for i in range(20):
        a.send("d", bytes([i]))
    assert a.send("b", b"through")
    assert (await recv(b)).payload == b"through"
    assert a.stats()["queued"] == 8


async def test_oversize_send_is_a_caller_error() -> None:
    addrs = addresses("ab")
    a = AiohttpTransport("a", addrs["a"], addrs, SECRET, max_msg_bytes=10)
    with pytest.raises(MessageTooLarge) as info:
        a.send("b", b"x" * 11)
    assert (info.value.size, info.value.limit) == (11, 10)


async def test_close_wakes_a_pending_recv_and_later_calls_fail(cluster: Cluster) -> None:
    addrs = addresses("ab")
    a = await cluster.start("a", addrs)
    pending = asyncio.create_task(a.recv())
    await asyncio.sleep(0)
    await a.close()
    with pytest.raises(NetError) as info:
        await asyncio.wait_for(pending, GUARD_S)
    assert "closed" in str(info.value)
    assert not a.send("b", b"x")
    with pytest.raises(UsageError):
        await a.start()


async def test_peer_port_in_use_is_a_net_error(cluster: Cluster) -> None:
    addrs = addresses("ab")
    await cluster.start("a", addrs)
    clash = AiohttpTransport("a", addrs["a"], addrs, SECRET)
    with pytest.raises(NetError) as info:
        await clash.start()
    assert str(addrs["a"].port) in str(info.value)


async def test_other_routes_are_served_on_a_separate_port(cluster: Cluster) -> None:
    addrs = addresses("ab")
    a, b = [await cluster.start(name, addrs) for name in "ab"]
    app = web.Application()

    async def status(_request: web.Request) -> web.Response:
        return web.json_response(b.stats())

    app.router.add_get("/status", status)
    runner = web.AppRunner(app)
    await runner.setup()
    api_port = free_tcp_ports(1)[0]
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    try:
        a.send("b", b"ping")
        await recv(b)
        url = f"http://127.0.0.1:{api_port}/status"
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            assert (await resp.json())["received"] == 1
    finally:
        await runner.cleanup()


async def test_a_peer_address_that_is_not_a_peer_port_is_reported(cluster: Cluster) -> None:
    app = web.Application()  # an ordinary HTTP service where a's config says b listens
    runner = web.AppRunner(app)
    await runner.setup()
    addrs = addresses("ab")
    await web.TCPSite(runner, "127.0.0.1", addrs["b"].port).start()
    try:
        a = await cluster.start("a", addrs)
        await wait_until(lambda: a.stats()["rejected_connections"] >= 1, "a gives up on b")
        assert "HTTP 404" in a.stats()["last_reject_reason"]
    finally:
        await runner.cleanup()


async def test_set_nodelay_turns_off_nagle() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.transport.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
    set_nodelay(writer.transport)
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    writer.close()
    server.close()
    await server.wait_closed()


def test_configuration_is_validated() -> None:
    addrs = addresses("ab")
    with pytest.raises(ConfigError) as info:
        AiohttpTransport("a", addrs["b"], addrs, SECRET)
    assert "listen address" in str(info.value)
    with pytest.raises(ConfigError) as info:
        AiohttpTransport("a", addrs["a"], {"b": addrs["a"]}, SECRET)
    assert "peers['b']" in str(info.value)
    with pytest.raises(ConfigError):
        AiohttpTransport("a", addrs["a"], addrs, SECRET, send_queue_len=0)
    with pytest.raises(ConfigError):
        AiohttpTransport("a", addrs["a"], addrs, SECRET, reconnect_min_s=3.0)
