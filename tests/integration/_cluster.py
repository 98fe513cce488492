"""Real peer processes on 127.0.0.1 for integration tests.

`PeerProcesses` is what every group of peers shares: start, SIGKILL and restart by node id,
stop everything (SIGTERM, then SIGKILL after a grace period), and find the leader through
`/status`. `ProcessCluster` runs `opentrust kv serve` nodes from a cluster.toml with free
ports in a temporary directory (`tests.ctlog.log.processes.LogProcesses` runs CT log
replicas the same way).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from common.devnet import spawn_kv_replica, stop_processes
from common.kv.config import write_cluster_files
from common.net import free_tcp_ports

LEADER_WAIT_S = 15.0  # generous: 3 processes share 2 cores with the test runner
LOG_TAIL_CHARS = 2000  # of each node's log, in a failure message


class PeerProcesses:
    """Peer processes by node id; each writes its log to `<root>/<node id>.log`."""

    leader_wait_s = LEADER_WAIT_S

    def __init__(self, root: Path, ids: list[str]) -> None:
        self.root = root
        self.ids = ids
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, node_id: str, log_path: Path, *extra: str) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def url(self, node_id: str) -> str:
        raise NotImplementedError

    def is_leader(self, status: Mapping[str, object]) -> bool:
        """Whether a node's `/status` shows the leader a test waits for."""
        return str(status.get("role")).lower() == "leader"

    @property
    def urls(self) -> list[str]:
        return [self.url(n) for n in self.ids]

    def log_path(self, node_id: str) -> Path:
        return self.root / f"{node_id}.log"

    def start(self, node_id: str, *extra: str) -> None:
        self.procs[node_id] = self.spawn(node_id, self.log_path(node_id), *extra)

    def start_all(self) -> None:
        for node_id in self.ids:
            self.start(node_id)

    def kill(self, node_id: str) -> list[int]:
        """SIGKILL the node; returns the pids its children had (e.g. worker processes)."""
        proc = self.procs.pop(node_id)
        children = child_pids(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return children

    def alive(self, node_id: str) -> bool:
        proc = self.procs.get(node_id)
        return proc is not None and proc.poll() is None

    def stop_all(self) -> None:
        stop_processes(self.procs)
        self.procs.clear()

    def status(self, node_id: str) -> dict[str, object] | None:
        try:
            with urllib.request.urlopen(self.url(node_id) + "/status", timeout=1) as response:
                body: dict[str, object] = json.loads(response.read())
                return body
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def wait_leader(self, timeout: float | None = None, exclude: str = "") -> str:
        """The id of a live node other than `exclude` that `is_leader` accepts."""
        timeout = self.leader_wait_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node_id in self.ids:
                if node_id == exclude or not self.alive(node_id):
                    continue
                status = self.status(node_id)
                if status is not None and self.is_leader(status):
                    return node_id
            time.sleep(0.05)
        raise AssertionError(f"no leader within {timeout} s; log tails: {self.log_tails()}")

    def log_text(self, node_id: str) -> str:
        return self.log_path(node_id).read_text()

    def log_tails(self, chars: int = LOG_TAIL_CHARS) -> dict[str, str]:
        tails = {}
        for node_id in self.ids:
            path = self.log_path(node_id)
            tails[node_id] = path.read_text()[-chars:] if path.exists() else ""
        return tails


class ProcessCluster(PeerProcesses):
    """`opentrust kv serve` nodes n1..nN from a cluster.toml written with free ports."""

    def __init__(
        self,
        root: Path,
        nodes: int = 3,
        *,
        snapshot_entries: int = 10_000,
        learners: tuple[str, ...] = (),
    ) -> None:
        super().__init__(root, [f"n{i + 1}" for i in range(nodes)])
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

    def spawn(self, node_id: str, log_path: Path, *extra: str) -> subprocess.Popen[bytes]:
        return spawn_kv_replica(self.config, node_id, log_path, *extra)

    def url(self, node_id: str) -> str:
        return f"http://127.0.0.1:{self.client_ports[node_id]}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "common.cli", "kv", *args, "--config", str(self.config)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def child_pids(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children


def running(pids: list[int]) -> list[int]:
    """Those of `pids` still running (not exited, not zombies)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


__all__ = ["PeerProcesses", "ProcessCluster", "child_pids", "running"]
