"""A 3-node KV cluster of real processes on 127.0.0.1, killed with SIGKILL."""

from __future__ import annotations

import asyncio
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from common.kv.client import KvClient, KvUnavailable
from common.net import AiohttpTransport, ClusterAuth, PeerAddress, free_tcp_ports
from tests.integration._cluster import ProcessCluster
from tests.lincheck import Operation, check_history

pytestmark = pytest.mark.integration

NEW_LEADER_WITHIN_S = 5.0  # the bound for electing a new leader after SIGKILL


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ProcessCluster]:
    c = ProcessCluster(tmp_path)
    c.start_all()
    try:
        yield c
    finally:
        c.stop_all()


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def write_many(cluster: ProcessCluster, prefix: str, n: int) -> list[str]:
    async with KvClient(cluster.urls, cluster.token) as client:
        keys = []
        for i in range(n):
            reply = await client.put(f"{prefix}{i}", f"value-{i}".encode())
            assert reply.status == "ok"
            keys.append(f"{prefix}{i}")
        return keys


async def read_all(cluster: ProcessCluster, keys: list[str]) -> dict[str, bytes | None]:
    async with KvClient(cluster.urls, cluster.token) as client:
        return {k: (await client.get(k)).value for k in keys}


def test_basic_operations_and_status(cluster: ProcessCluster) -> None:
    cluster.wait_leader()

    async def scenario() -> None:
        async with KvClient(cluster.urls, cluster.token) as client:
            assert (await client.put("a", b"1")).status == "ok"
            assert (await client.append("a", b"2")).status == "ok"
            assert (await client.get("a")).value == b"12"
            assert (await client.cas("a", b"wrong", b"x")).status == "cas_failed"
            assert (await client.cas("a", b"12", b"x")).status == "ok"
            assert (await client.cas("new", None, b"y")).status == "ok"
            assert (await client.delete("a")).status == "ok"
            assert (await client.get("a")).status == "not_found"
            assert (await client.get("new", linearizable=False)).status in ("ok", "not_found")

    run(scenario())


def test_sigkill_leader_under_load_loses_no_acknowledged_write(cluster: ProcessCluster) -> None:
    leader = cluster.wait_leader()
    acked: dict[str, bytes] = {}
    stop = False

    async def writer(client_no: int) -> None:
        async with KvClient(cluster.urls, cluster.token, deadline_s=20) as client:
            i = 0
            while not stop:
                key, value = f"w{client_no}-{i}", f"{client_no}:{i}".encode()
                if (await client.put(key, value)).status == "ok":
                    acked[key] = value
                i += 1

    async def scenario() -> float:
        nonlocal stop
        tasks = [asyncio.create_task(writer(n)) for n in range(4)]
        await asyncio.sleep(1.5)
        before = len(acked)
        cluster.kill(leader)
        killed_at = time.monotonic()
        new_leader = await asyncio.to_thread(cluster.wait_leader, 10.0, leader)
        elected_after = time.monotonic() - killed_at
        assert new_leader != leader
        await asyncio.sleep(1.5)
        stop = True
        await asyncio.gather(*tasks)
        assert len(acked) > before, "writes must continue after the leader died"
        return elected_after

    elected_after = run(scenario())
    assert isinstance(elected_after, float)
    assert elected_after < NEW_LEADER_WITHIN_S
    values = run(read_all(cluster, sorted(acked)))
    assert isinstance(values, dict)
    missing = [k for k, v in acked.items() if values[k] != v]
    assert missing == [], f"acknowledged writes lost: {missing[:10]}"


def test_sigkill_all_and_restart_keeps_everything_acknowledged(cluster: ProcessCluster) -> None:
    cluster.wait_leader()
    keys = run(write_many(cluster, "k", 60))
    assert isinstance(keys, list)
    for node_id in cluster.ids:
        cluster.kill(node_id)
    cluster.start_all()
    cluster.wait_leader()
    values = run(read_all(cluster, keys))
    assert values == {k: f"value-{i}".encode() for i, k in enumerate(keys)}


def test_lagging_node_catches_up_by_install_snapshot(tmp_path: Path) -> None:
    cluster = ProcessCluster(tmp_path, snapshot_entries=40)
    cluster.start_all()
    try:
        leader = cluster.wait_leader()
        lagging = next(n for n in cluster.ids if n != leader)
        cluster.kill(lagging)
        keys = run(write_many(cluster, "s", 200))  # several snapshots while it is down
        assert isinstance(keys, list)
        status = cluster.status(leader)
        assert status is not None and int(status["snapshot_index"]) > 0  # type: ignore[call-overload]
        cluster.start(lagging)
        deadline = time.monotonic() + 15
        caught_up = None
        while time.monotonic() < deadline:
            caught_up = cluster.status(lagging)
            if caught_up and int(caught_up["applied"]) >= 200:  # type: ignore[call-overload]
                break
            time.sleep(0.1)
        assert caught_up is not None and int(caught_up["applied"]) >= 200  # type: ignore[call-overload]
        assert int(caught_up["snapshot_index"]) > 0  # type: ignore[call-overload]
        assert "snapshot" in cluster.log_text(lagging).lower() or caught_up["snapshot_index"]

        async def local_read() -> bytes | None:
            async with KvClient([cluster.url(lagging)], cluster.token) as client:
                return (await client.get("s199", linearizable=False)).value

        assert run(local_read()) == b"value-199"
    finally:
        cluster.stop_all()


def _send_raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(data)
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


def test_garbage_and_oversize_input_is_rejected_without_crash(cluster: ProcessCluster) -> None:
    leader = cluster.wait_leader()
    peer_port, client_port = cluster.peer_ports[leader], cluster.client_ports[leader]
    _send_raw(peer_port, b"\x00\xff garbage \r\n\r\n" * 100)
    _send_raw(client_port, b"NOT HTTP AT ALL\r\n\r\n")

    async def bad_requests() -> list[int]:
        headers = {"Authorization": f"Bearer {cluster.token}"}
        codes = []
        async with aiohttp.ClientSession(headers=headers) as session:
            url = cluster.url(leader)
            for body in (b"{not json", b"[]", b'{"op": "put"}', b'{"op": "nope", "key": "k"}'):
                async with session.post(url + "/v1/command", data=body) as response:
                    codes.append(response.status)
                    assert "message" in await response.json()
            async with session.post(url + "/v1/command", data=b"x" * (4 << 20)) as response:
                codes.append(response.status)
                assert (await response.json())["error"] == "request_entity_too_large"
            async with (
                aiohttp.ClientSession() as anonymous,
                anonymous.post(url + "/v1/command", json={"op": "get"}) as response,
            ):
                codes.append(response.status)
        return codes

    codes = run(bad_requests())
    assert codes == [400, 400, 400, 400, 413, 401]
    assert cluster.alive(leader)
    assert run(write_many(cluster, "after", 3)) == ["after0", "after1", "after2"]


def test_wrong_secret_peer_is_refused_and_follower_redirects(cluster: ProcessCluster) -> None:
    leader = cluster.wait_leader()
    follower = next(n for n in cluster.ids if n != leader)
    target = PeerAddress(leader, "127.0.0.1", cluster.peer_ports[leader])
    me = PeerAddress(follower, "127.0.0.1", free_tcp_ports(1)[0])

    async def impostor() -> None:
        transport = AiohttpTransport(follower, me, {leader: target}, ClusterAuth(b"w" * 32))
        await transport.start()
        transport.send(leader, b"\x00" * 10)
        await asyncio.sleep(1.0)
        await transport.close()

    run(impostor())
    status = cluster.status(leader)
    assert status is not None
    transport = status["transport"]
    assert isinstance(transport, dict) and transport["rejected_connections"] >= 1
    assert "secret" in str(transport["last_reject_reason"]) or "proof" in str(
        transport["last_reject_reason"]
    )

    async def ask_follower() -> tuple[int, dict[str, object]]:
        headers = {"Authorization": f"Bearer {cluster.token}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.post(
                cluster.url(follower) + "/v1/command", json={"op": "put", "key": "k", "value": "v"}
            ) as response,
        ):
            return response.status, await response.json()

    code, body = run(ask_follower())  # type: ignore[misc]
    assert code == 421
    assert (body["error"], body["leader"], body["leader_url"]) == (
        "not_leader",
        leader,
        cluster.url(leader),
    )


def test_batch_endpoint_applies_each_command_and_validates(cluster: ProcessCluster) -> None:
    leader = cluster.wait_leader()
    follower = next(n for n in cluster.ids if n != leader)
    puts = [{"op": "put", "key": f"b{i}", "value": str(i)} for i in range(20)]
    cas = {"op": "cas", "key": "b0", "value": "x", "expected": "wrong"}

    async def post(node: str, body: object) -> tuple[int, dict[str, object]]:
        headers = {"Authorization": f"Bearer {cluster.token}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.post(cluster.url(node) + "/v1/batch", json=body) as response,
        ):
            return response.status, await response.json()

    code, body = run(post(leader, {"commands": [*puts, cas]}))  # type: ignore[misc]
    assert code == 200
    results = body["results"]
    assert isinstance(results, list) and len(results) == 21
    assert [r["status"] for r in results] == ["ok"] * 20 + ["cas_failed"]
    assert results[-1]["value"] == "0"
    assert run(read_all(cluster, ["b0", "b19"])) == {"b0": b"0", "b19": b"19"}
    bad = [
        ({"commands": []}, 400),
        ({"commands": [puts[0]] * 257}, 400),
        ({"commands": [{"op": "get", "key": "b0"}]}, 400),
        ({"commands": [{"op": "put"}]}, 400),
    ]
    for request, want in bad:
        assert run(post(leader, request))[0] == want  # type: ignore[index]
    code, body = run(post(follower, {"commands": puts[:1]}))  # type: ignore[misc]
    assert (code, body["error"], body["leader_url"]) == (421, "not_leader", cluster.url(leader))


def test_no_quorum_is_a_clear_timeout(cluster: ProcessCluster) -> None:
    cluster.wait_leader()
    for node_id in cluster.ids[1:]:
        cluster.kill(node_id)

    async def scenario() -> None:
        async with KvClient(cluster.urls, cluster.token, deadline_s=3) as client:
            with pytest.raises(KvUnavailable) as info:
                await client.put("x", b"y")
            assert "no leader with a quorum" in str(info.value)

    run(scenario())


def test_cli_round_trip_and_exit_codes(cluster: ProcessCluster) -> None:
    cluster.wait_leader()
    base = [sys.executable, "-m", "common.cli", "kv"]
    cfg = ["--config", str(cluster.config)]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args, *cfg], capture_output=True, text=True, timeout=60)

    assert cli("put", "greeting", "hello").returncode == 0
    got = cli("get", "greeting")
    assert (got.returncode, got.stdout.strip()) == (0, "hello")
    missing = cli("get", "nope")
    assert missing.returncode == 1 and "not found" in missing.stderr
    bad = cli("cas", "greeting", "y", "--expected", "x", "--absent")
    assert bad.returncode == 2 and bad.stderr.startswith("error:")
    assert cli("cas", "lock", "me", "--absent").returncode == 0
    taken = cli("cas", "lock", "you", "--absent")
    assert taken.returncode == 1 and "cas failed" in taken.stderr
    assert cli("cas", "lock", "you", "--expected", "me").returncode == 0
    status = cli("status")
    assert status.returncode == 0 and "leader" in status.stdout


def test_data_dir_of_another_node_is_refused(cluster: ProcessCluster) -> None:
    cluster.wait_leader()
    cluster.stop_all()
    data = cluster.root / "data"
    (data / "n1").rename(data / "tmp")
    (data / "n2").rename(data / "n1")
    (data / "tmp").rename(data / "n2")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "common.cli",
            "kv",
            "serve",
            "--id",
            "n1",
            "--config",
            str(cluster.config),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "belongs to cluster 'itest' node 'n2'" in result.stderr


def test_membership_changes_and_transfer_from_the_cli(tmp_path: Path) -> None:
    cluster = ProcessCluster(tmp_path, nodes=4, learners=("n4",))
    cluster.start_all()
    try:
        leader = cluster.wait_leader()
        assert cluster.cli("put", "m", "1").returncode == 0
        promoted = cluster.cli("member", "promote", "n4")
        assert promoted.returncode == 0, promoted.stderr
        assert "voters: n1, n2, n3, n4" in promoted.stdout
        again = cluster.cli("member", "promote", "n4")
        assert again.returncode == 2 and "error:" in again.stderr
        removed_id = next(n for n in ("n1", "n2", "n3") if n != leader)
        removed = cluster.cli("member", "remove", removed_id)
        assert removed.returncode == 0, removed.stderr
        assert removed_id not in removed.stdout.splitlines()[0]
        moved = cluster.cli("transfer", "n4")
        assert moved.returncode == 0, moved.stderr
        assert cluster.wait_leader() == "n4"
        got = cluster.cli("get", "m")
        assert (got.returncode, got.stdout.strip()) == (0, "1")
    finally:
        cluster.stop_all()


def test_history_under_leader_kill_is_linearizable(cluster: ProcessCluster) -> None:
    leader = cluster.wait_leader()
    history: list[Operation] = []
    keys = ["x", "y", "z"]

    async def client(n: int, stop_at: float) -> None:
        rng = random.Random(n)
        async with KvClient(cluster.urls, cluster.token, client_id=f"c{n}", deadline_s=8) as kv:
            i = 0
            while time.monotonic() < stop_at:
                key, value = rng.choice(keys), f"{n}.{i};".encode()
                kind = rng.choice(("get", "put", "append", "append"))
                call = time.monotonic_ns()
                try:
                    if kind == "get":
                        reply = await kv.get(key)
                        output: object = reply.value
                    elif kind == "put":
                        await kv.put(key, value)
                        output = None
                    else:
                        await kv.append(key, value)
                        output = None
                    ret: int | None = time.monotonic_ns()
                except KvUnavailable:
                    output, ret = None, None
                inp = None if kind == "get" else value
                history.append(Operation(f"c{n}", kind, key, inp, None, output, call, ret))
                i += 1

    async def scenario() -> None:
        stop_at = time.monotonic() + 5
        tasks = [asyncio.create_task(client(n, stop_at)) for n in range(4)]
        await asyncio.sleep(1.5)
        cluster.kill(leader)
        await asyncio.gather(*tasks)

    run(scenario())
    assert len(history) > 100
    result = check_history(history, timeout_s=60)
    assert result.ok is True, f"{result.bad_key}: {result.explanation}"
