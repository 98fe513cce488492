"""`python -m bench raft`: replicated puts, ours against PySyncObj 0.3.17.

Both systems run as 3 processes on 127.0.0.1 (sharing this machine's cores with the load
generator) and are driven by the same HTTP load generator: POST /v1/command puts of 100-byte
values. Ours fsyncs every Raft write (group commit); PySyncObj keeps its log in memory and is
configured with `appendEntriesUseBatch=False` as the issue asks.

Configurations: 1 client (sequential; throughput and p50/p99 latency), 64 clients (each
sequential, own session), and pipelined (16 clients, each request a batch of 16 puts via
POST /v1/batch; latency is per request).
RESULT compares the best concurrent configuration of each.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from common.devnet import stop_processes
from common.net import free_tcp_ports

VALUE = b"v" * 100
READY_TIMEOUT_S = 30.0  # a cluster that has no leader after this is broken, not slow


@dataclass(frozen=True)
class Measurement:
    system: str
    config: str
    ops: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Cluster:
    """Three server processes and the URLs a client may use."""

    def __init__(
        self, name: str, procs: list[subprocess.Popen[bytes]], urls: list[str], token: str
    ):
        self.name, self.procs, self.urls, self.token = name, procs, urls, token

    def stop(self) -> None:
        stop_processes({str(i): proc for i, proc in enumerate(self.procs)})


def start_ours(workdir: Path) -> Cluster:
    from common.devnet import spawn_kv_replica
    from common.kv.config import write_cluster_files

    ports = free_tcp_ports(6)
    node_ports = list(zip(ports[:3], ports[3:], strict=True))
    config = write_cluster_files(workdir / "ours", name="bench", ports=node_ports)
    token = (workdir / "ours" / "client.token").read_text().strip()
    procs = [
        spawn_kv_replica(
            config, f"n{i + 1}", workdir / f"ours-n{i + 1}.log", "--log-level", "warning"
        )
        for i in range(3)
    ]
    return Cluster("opentrust", procs, [f"http://127.0.0.1:{p}" for p in ports[3:]], token)


def start_pysyncobj(workdir: Path) -> Cluster:
    ports = free_tcp_ports(6)
    raft = [f"127.0.0.1:{p}" for p in ports[:3]]
    token = secrets.token_hex(16)
    procs = []
    for i in range(3):
        cmd = [sys.executable, "-m", "bench._pysyncobj_server", "--self", raft[i]]
        for j in range(3):
            if j != i:
                cmd += ["--other", raft[j]]
        cmd += ["--http-port", str(ports[3 + i]), "--token", token]
        log = (workdir / f"pysyncobj-{i + 1}.log").open("wb")
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log))
    return Cluster("PySyncObj", procs, [f"http://127.0.0.1:{p}" for p in ports[3:]], token)


async def find_writer(cluster: Cluster, session: aiohttp.ClientSession) -> str:
    """The URL that accepts a put: wait until some node commits one."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        for url in cluster.urls:
            body = {"op": "put", "key": "warmup", "value": "x"}
            try:
                async with session.post(url + "/v1/command", json=body) as response:
                    if response.status == 200:
                        return url
            except (TimeoutError, aiohttp.ClientError):
                pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{cluster.name}: no node accepted a write within {READY_TIMEOUT_S} s")


async def put_loop(
    session: aiohttp.ClientSession,
    url: str,
    client: str,
    stop_at: float,
    latencies: list[float],
    batch: int,
) -> int:
    """One client: sequential requests until `stop_at`; each carries `batch` puts."""
    done = 0
    seq = 0
    value = VALUE.decode()
    while time.monotonic() < stop_at:
        if batch == 1:
            seq += 1
            path = "/v1/command"
            body: dict[str, object] = {"op": "put", "key": f"{client}-{seq % 1000}", "value": value}
            body.update(client_id=client, seq=seq)
        else:
            path = "/v1/batch"
            keys = [f"{client}-{(seq + i) % 1000}" for i in range(batch)]
            seq += batch
            body = {"commands": [{"op": "put", "key": k, "value": value} for k in keys]}
        started = time.perf_counter()
        async with session.post(url + path, json=body) as response:
            answer = await response.json(content_type=None)
        if response.status != 200 or (batch > 1 and any("error" in r for r in answer["results"])):
            raise RuntimeError(f"put failed: HTTP {response.status} {str(answer)[:200]}")
        latencies.append((time.perf_counter() - started) * 1000)
        done += batch
    return done


async def measure(
    cluster: Cluster, config: str, clients: int, in_flight: int, seconds: float
) -> Measurement:
    headers = {"Authorization": f"Bearer {cluster.token}"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        url = await find_writer(cluster, session)
        latencies: list[float] = []
        stop_at = time.monotonic() + seconds
        started = time.perf_counter()
        counts = await asyncio.gather(
            *(
                put_loop(session, url, f"c{i}", stop_at, latencies, in_flight)
                for i in range(clients)
            )
        )
        elapsed = time.perf_counter() - started
    return Measurement(cluster.name, config, sum(counts), elapsed, tuple(latencies))


# (name, clients, puts per request): "pipelined" clients send 16 puts in each request.
CONFIGS = [("1 client", 1, 1), ("64 clients", 64, 1), ("16 pipelined x16", 16, 16)]


def bench_cluster(
    starter: Callable[[Path], Cluster], workdir: Path, seconds: float
) -> list[Measurement]:
    cluster = starter(workdir)
    try:
        return [asyncio.run(measure(cluster, name, c, w, seconds)) for name, c, w in CONFIGS]
    finally:
        cluster.stop()


def run(quick: bool = False) -> None:
    seconds = 2.0 if quick else 6.0
    with tempfile.TemporaryDirectory(prefix="bench-raft-") as tmp:
        workdir = Path(tmp)
        results = bench_cluster(start_ours, workdir, seconds)
        results += bench_cluster(start_pysyncobj, workdir, seconds)
    print(f"{'system':<11} {'configuration':<19} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for m in results:
        print(
            f"{m.system:<11} {m.config:<19} {m.ops_per_s:>9.0f} "
            f"{statistics.median(m.latencies_ms):>8.2f} {m.percentile(99):>8.2f}"
        )
    ours = max(m.ops_per_s for m in results if m.system == "opentrust" and m.config != "1 client")
    peer = max(m.ops_per_s for m in results if m.system == "PySyncObj" and m.config != "1 client")
    print(f"(cores: {os.cpu_count()}; ours fsyncs every write, PySyncObj keeps its log in memory)")
    print(f"RESULT name=raft ours={ours:.0f} peer={peer:.0f} ratio={ours / peer:.2f} unit=ops/s")
