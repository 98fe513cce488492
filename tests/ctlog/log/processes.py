"""Real `ctlog serve` processes on 127.0.0.1 for integration tests and the benchmark.

`LogProcesses` writes a log directory with free ports (`ctlog init`'s writer), starts,
SIGKILLs and restarts replicas, and finds the leader through `/status`. Every process it
started is stopped by `stop_all` (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from common.net import free_tcp_ports
from ctlog.devcerts import DevPki
from ctlog.keys import LogPublicKey
from ctlog.log.config import LogConfig, load_log_config
from ctlog.log.files import Setting, write_log_files
from ctlog.log.process import spawn_log_replica

READY_WAIT_S = 20.0  # generous: replicas share 2 cores with the test runner
STOP_GRACE_S = 10.0


class LogProcesses:
    def __init__(
        self,
        root: Path,
        replicas: int = 1,
        *,
        settings: Mapping[str, Setting] | None = None,
        raft: Mapping[str, Setting] | None = None,
    ) -> None:
        self.root = root
        self.now = datetime.now(UTC)
        ports = free_tcp_ports(2 * replicas)
        self.config_path = write_log_files(
            root,
            name="itest",
            ports=list(zip(ports[:replicas], ports[replicas:], strict=True)),
            now=self.now,
            settings=settings,
            raft=raft,
        )
        self.config: LogConfig = load_log_config(self.config_path)
        self.ids = [r.id for r in self.config.log.replicas]
        self.key: LogPublicKey = self.config.read_key().public
        self.pki = DevPki.load(root / "devpki", self.now)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def url(self, node_id: str) -> str:
        return self.config.replica(node_id).url

    @property
    def urls(self) -> list[str]:
        return [self.url(n) for n in self.ids]

    def start(self, node_id: str, *extra: str) -> None:
        log_path = self.root / f"{node_id}.log"
        self.procs[node_id] = spawn_log_replica(self.config_path, node_id, log_path, *extra)

    def start_all(self) -> None:
        for node_id in self.ids:
            self.start(node_id)

    def kill(self, node_id: str) -> list[int]:
        """SIGKILL the replica; returns the pids of its children (validation workers)."""
        proc = self.procs.pop(node_id)
        children = child_pids(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return children

    def alive(self, node_id: str) -> bool:
        proc = self.procs.get(node_id)
        return proc is not None and proc.poll() is None

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=STOP_GRACE_S)
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

    def wait_leader(self, timeout: float = READY_WAIT_S, exclude: str = "") -> str:
        """The id of a replica that reports itself leader and has published a tree head."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node_id in self.ids:
                if node_id == exclude or not self.alive(node_id):
                    continue
                status = self.status(node_id)
                log_status = status.get("log") if status else None
                if (
                    status is not None
                    and str(status.get("role")).lower() == "leader"
                    and isinstance(log_status, dict)
                    and log_status.get("published_tree_size") is not None
                ):
                    return node_id
            time.sleep(0.05)
        raise AssertionError(f"no leader within {timeout} s; log tails: {self.log_tails()}")

    def log_tails(self, chars: int = 1500) -> dict[str, str]:
        tails = {}
        for node_id in self.ids:
            path = self.root / f"{node_id}.log"
            tails[node_id] = path.read_text()[-chars:] if path.exists() else ""
        return tails


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


__all__ = ["LogProcesses", "child_pids", "running"]
