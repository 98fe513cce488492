"""add-chain end to end over HTTP: one `ctlog serve` process, 50 concurrent clients.

Setup (not timed): a single-replica log written by `ctlog init`'s writer in a temp dir, and
unique real chains (leaf + intermediate, ECDSA P-256) issued once by its dev PKI with
`cryptography`, stored as ready request bodies. The log runs as its own process with its
default settings (Raft log fsynced on every write, group commit). The load generator is a
separate process (`python -m bench._ctlog_addchain load ...`), so its CPU does not sit in
the server's event loop; both share this machine's cores, so it is a lean HTTP/1.1 client on
asyncio streams. Each of 50 clients (one keep-alive connection each) posts one chain at a
time and waits for its SCT; a request counts only if it answers 200 with an SCT. After the
run, a sample of SCTs is verified against the chains.

Reported: certificates per second (successful add-chain calls over the wall time of the run),
p50 and p99 latency per request, and errors. `run()` returns
{"addchain_per_s", "p50_ms", "p99_ms"}.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from common.devnet import stop_processes
from common.net import free_tcp_ports
from ctlog.devcerts import DevPki
from ctlog.log.config import load_log_config
from ctlog.log.files import write_log_files
from ctlog.log.process import spawn_log_replica
from ctlog.sct import SignedCertificateTimestamp, verify_chain_scts

CLIENTS = 50  # the issue's concurrency
FULL_CHAINS = 20_000  # about 10 s at the 2,000/s target
QUICK_CHAINS = 2_000
VERIFIED_SCTS = 200  # SCTs checked against their chains after the run (not timed)
READY_TIMEOUT_S = 30.0
LOAD_TIMEOUT_S = 600.0


def make_bodies(pki: DevPki, count: int) -> list[tuple[list[bytes], bytes]]:
    """`count` unique chains and their add-chain request bodies."""
    out = []
    for i in range(count):
        chain = pki.issue_leaf([f"bench-{i}.example"])
        body = json.dumps({"chain": [base64.b64encode(der).decode() for der in chain]})
        out.append((chain, body.encode()))
    return out


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/ct/v1/get-sth", timeout=1) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the log at {url} did not publish a tree head in {READY_TIMEOUT_S} s")


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def run(quick: bool = False) -> dict[str, float]:
    count = QUICK_CHAINS if quick else FULL_CHAINS
    with tempfile.TemporaryDirectory(prefix="bench-ctlog-") as tmp:
        workdir = Path(tmp)
        peer, http = free_tcp_ports(2)
        now = datetime.now(UTC)
        config_path = write_log_files(workdir / "log", name="bench", ports=[(peer, http)], now=now)
        url = load_log_config(config_path).replica("n1").url
        print(f"issuing {count} chains ...", flush=True)
        chains = make_bodies(DevPki.load(workdir / "log" / "devpki", now), count)
        bodies_path = workdir / "bodies.jsonl"
        bodies_path.write_bytes(b"\n".join(body for _, body in chains) + b"\n")
        server = spawn_log_replica(config_path, "n1", workdir / "n1.log", "--log-level", "warning")
        try:
            wait_ready(url)
            cpu_before = process_cpu_s(server.pid)
            result = run_load(url, bodies_path, workdir / "result.json")
            result["server_cpu_s"] = process_cpu_s(server.pid) - cpu_before
        finally:
            stop_processes({"n1": server})
        check_scts(chains, result, config_path)
    return report(result)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds so far of process `pid` and its live children (Linux /proc):
    the replica and its chain validation workers."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process exited meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_load(url: str, bodies_path: Path, out_path: Path) -> dict[str, object]:
    cmd = [sys.executable, "-m", "bench._ctlog_addchain", "load", "--url", url]
    cmd += ["--bodies", str(bodies_path), "--out", str(out_path), "--clients", str(CLIENTS)]
    subprocess.run(cmd, check=True, timeout=LOAD_TIMEOUT_S)
    result: dict[str, object] = json.loads(out_path.read_text())
    return result


def check_scts(
    chains: list[tuple[list[bytes], bytes]], result: dict[str, object], config_path: Path
) -> None:
    key = load_log_config(config_path).read_key().public
    samples = result["samples"]
    assert isinstance(samples, list)
    for index, sct_json in samples[:VERIFIED_SCTS]:
        sct = SignedCertificateTimestamp.from_json(sct_json)
        verify_chain_scts(chains[index][0], key, sct)


def report(result: dict[str, object]) -> dict[str, float]:
    latencies = sorted(float(x) for x in result["latencies_ms"])  # type: ignore[attr-defined]
    ok = int(result["ok"])  # type: ignore[call-overload]
    seconds = float(result["seconds"])  # type: ignore[arg-type]
    rate = ok / seconds if seconds else 0.0
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    server_ms = 1000 * float(result["server_cpu_s"]) / max(ok, 1)  # type: ignore[arg-type]
    client_ms = 1000 * float(result["client_cpu_s"]) / max(ok, 1)  # type: ignore[arg-type]
    print(
        f"{'clients':>7} {'certs':>7} {'certs/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'server CPU ms/cert':>19} {'client CPU ms/cert':>19}"
    )
    print(
        f"{CLIENTS:>7} {ok:>7} {rate:>9.0f} {p50:>8.1f} {p99:>8.1f} {result['errors']!s:>7} "
        f"{server_ms:>19.3f} {client_ms:>19.3f}"
    )
    if result["error_samples"]:
        print(f"first errors: {result['error_samples']}")
    print(f"(cores: {os.cpu_count()}; server and load generator are separate processes)")
    return {"addchain_per_s": rate, "p50_ms": p50, "p99_ms": p99}


# ----- the load generator process -----


async def post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, body: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive POST of an add-chain body; (status, response body)."""
    head = (
        f"POST /ct/v1/add-chain HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def load(url: str, bodies: list[bytes], clients: int) -> dict[str, object]:
    """`clients` connections, each posting one chain at a time until all are posted.

    A lean HTTP/1.1 client (the server's answers carry Content-Length): the generator's CPU
    shares the machine with the server, so it spends as little as it can.
    """
    host, port = url.removeprefix("http://").rsplit(":", 1)
    latencies: list[float] = []
    samples: list[tuple[int, object]] = []
    errors: list[str] = []
    next_index = 0

    async def client() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while next_index < len(bodies):
                index = next_index
                next_index += 1
                started = time.perf_counter()
                status, answer = await post(reader, writer, f"{host}:{port}", bodies[index])
                if status != 200 or b'"signature"' not in answer:
                    errors.append(f"HTTP {status}: {answer[:120]!r}")
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if len(samples) < VERIFIED_SCTS:
                    samples.append((index, json.loads(answer)))
        finally:
            writer.close()

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "ok": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "seconds": seconds,
        "client_cpu_s": cpu_s,
        "latencies_ms": latencies,
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._ctlog_addchain")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("load", help="run the load generator (used by run())")
    gen.add_argument("--url", required=True)
    gen.add_argument("--bodies", required=True, type=Path)
    gen.add_argument("--out", required=True, type=Path)
    gen.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args(argv)
    bodies = [line for line in args.bodies.read_bytes().split(b"\n") if line]
    result = asyncio.run(load(args.url, bodies, args.clients))
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
