"""Real `ctlog serve` processes on 127.0.0.1 for integration tests.

`LogProcesses` writes a log directory with free ports (`ctlog init`'s writer) and runs its
replicas as `tests.integration._cluster.PeerProcesses`: start, SIGKILL (returning the pids
of the replica's validation workers) and restart them, and find the leader through
`/status`. Every process it started is stopped by `stop_all`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from common.net import free_tcp_ports
from ctlog.devcerts import DevPki
from ctlog.keys import LogPublicKey
from ctlog.log.config import LogConfig, load_log_config
from ctlog.log.files import Setting, write_log_files
from ctlog.log.process import spawn_log_replica
from tests.integration._cluster import PeerProcesses, child_pids, running

READY_WAIT_S = 20.0  # generous: replicas share 2 cores with the test runner


class LogProcesses(PeerProcesses):
    leader_wait_s = READY_WAIT_S

    def __init__(
        self,
        root: Path,
        replicas: int = 1,
        *,
        settings: Mapping[str, Setting] | None = None,
        raft: Mapping[str, Setting] | None = None,
    ) -> None:
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
        super().__init__(root, [r.id for r in self.config.log.replicas])
        self.key: LogPublicKey = self.config.read_key().public
        self.pki = DevPki.load(root / "devpki", self.now)

    def spawn(self, node_id: str, log_path: Path, *extra: str) -> subprocess.Popen[bytes]:
        return spawn_log_replica(self.config_path, node_id, log_path, *extra)

    def url(self, node_id: str) -> str:
        return self.config.replica(node_id).url

    def is_leader(self, status: Mapping[str, object]) -> bool:
        """A replica that reports itself leader and has published a tree head."""
        log_status = status.get("log")
        return (
            super().is_leader(status)
            and isinstance(log_status, dict)
            and log_status.get("published_tree_size") is not None
        )


__all__ = ["LogProcesses", "child_pids", "running"]
