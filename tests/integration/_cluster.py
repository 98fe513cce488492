"""Real `opentrust kv serve` processes on 127.0.0.1 for integration tests.

`ProcessCluster` writes a cluster.toml with free ports into a temporary directory, starts,
SIGKILLs and restarts nodes, and finds the leader through `/status`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from common.devnet import spawn_kv_replica
from common.kv.config import write_cluster_files
from common.net import free_tcp_ports

LEADER_WAIT_S = 15.0  # generous: 3 processes share 2 cores with the test runner


class ProcessCluster:
    def __init__(
        self,
        root: Path,
        nodes: int = 3,
        *,
        snapshot_entries: int = 10_000,
        learners: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.ids = [f"n{i + 1}" for i in range(nodes)]
        ports = free_tcp_ports(2 * nodes)
        self.peer_ports = dict(zip(self.ids, ports[:nodes], strict=True))
        self.client_ports = dict(zip(self.ids, ports[nodes:], strict=True))
        self.config = write_cluster_files(
            root,
            name="itest",
            ports=list(zip(ports[:nodes], ports[nodes:], strict=True)),
            learners=learners,
            raft={"snapshot_entries": snapshot_entries},
        )
        self.token = (root / "client.token").read_text().strip()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def url(self, node_id: str) -> str:
        return f"http://127.0.0.1:{self.client_ports[node_id]}"

    @property
    def urls(self) -> list[str]:
        return [self.url(n) for n in self.ids]

    def start(self, node_id: str) -> None:
        log_path = self.root / f"{node_id}.log"
        self.procs[node_id] = spawn_kv_replica(self.config, node_id, log_path)

    def start_all(self) -> None:
        for node_id in self.ids:
            self.start(node_id)

    def kill(self, node_id: str) -> None:
        proc = self.procs.pop(node_id)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def alive(self, node_id: str) -> bool:
        proc = self.procs.get(node_id)
        return proc is not None and proc.poll() is None

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def status(self, node_id: str) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(self.url(node_id) + "/status", timeout=1) as response:
                body: dict[str, object] = json.loads(response.read())
                return body
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def wait_leader(self, timeout: float = LEADER_WAIT_S, exclude: str = "") -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node_id in self.ids:
                if node_id == exclude or not self.alive(node_id):
                    continue
                status = self.status(node_id)
                if status and str(status.get("role")).lower() == "leader":
                    return node_id
            time.sleep(0.05)
        logs = {n: (self.root / f"{n}.log").read_text()[-2000:] for n in self.ids}
        raise AssertionError(f"no leader within {timeout} s; log tails: {logs}")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "common.cli", "kv", *args, "--config", str(self.config)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def log_text(self, node_id: str) -> str:
        return (self.root / f"{node_id}.log").read_text()
