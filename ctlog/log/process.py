"""`ctlog serve`: one log replica as a process, and `spawn_log_replica` to start one.

A replica's data directory is `<data_dir>/<id>/`, locked for the life of the process and
bound to its log name and replica id on first start (`identity.json`,
`common.runtime.check_identity`): `raft/` is the Raft log (LevelDB, synced on every write),
`log/` the log's entries, indexes, Merkle tiles and published tree head (LevelDB; rebuilt
from the Raft log after a crash).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from common.devnet import spawn_logged
from common.net import AiohttpTransport, ClusterAuth, PeerAddress
from common.runtime import DataDir, log_event, open_node_data_dir
from common.store import LevelStore
from ctlog.keys import LogSigningKey
from ctlog.log.config import LogConfig
from ctlog.log.replica import LogReplica
from ctlog.server.app import make_log_app
from ctlog.x509 import RootSet

log = logging.getLogger("opentrust.ctlog")


def open_data_dir(config: LogConfig, node_id: str) -> DataDir:
    """Lock this replica's data directory and check it belongs to this log and replica."""
    config.replica(node_id)
    path = config.path(config.log.data_dir) / node_id
    return open_node_data_dir(path, config.log.name, node_id)


def build_transport(config: LogConfig, node_id: str, secret: bytes) -> AiohttpTransport:
    me = config.replica(node_id)
    peers = {r.id: PeerAddress(r.id, r.host, r.peer_port) for r in config.log.replicas}
    listen = PeerAddress(node_id, me.host, me.peer_port)
    return AiohttpTransport(node_id, listen, peers, ClusterAuth(secret))


@dataclass(frozen=True, slots=True)
class ReplicaFiles:
    """The log key, accepted roots and cluster secret a replica runs with, read once before
    it starts (so a bad file is a one-line error, not a failure inside the event loop)."""

    key: LogSigningKey
    roots: RootSet
    secret: bytes

    @classmethod
    def read(cls, config: LogConfig) -> ReplicaFiles:
        return cls(config.read_key(), config.read_roots(), config.read_secret())


async def serve(
    config: LogConfig, node_id: str, files: ReplicaFiles, data_dir: DataDir, stop: asyncio.Event
) -> None:
    """Run one replica until `stop` is set, then shut down in order."""
    with LevelStore(data_dir.sub("raft")) as raft_store, LevelStore(data_dir.sub("log")) as store:
        replica = LogReplica(
            config,
            node_id,
            raft_store=raft_store,
            log_store=store,
            transport=build_transport(config, node_id, files.secret),
            key=files.key,
            roots=files.roots,
            secret=files.secret,
        )
        await replica.start()
        me = config.replica(node_id)
        runner = web.AppRunner(make_log_app(replica, files.secret), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, me.host, me.http_port).start()
            log_event(log, "serving", node=node_id, url=me.url, tree_size=replica.machine.tree_size)
            await stop.wait()
        finally:
            log_event(log, "stopping", node=node_id)
            await runner.cleanup()
            await replica.stop()


def spawn_log_replica(
    config_path: Path, node_id: str, log_path: Path, *extra_args: str
) -> subprocess.Popen[bytes]:
    """Start `ctlog serve` for `node_id`, appending its output (JSON lines) to `log_path`."""
    cmd = [sys.executable, "-m", "ctlog.cli", "serve", "--id", node_id]
    return spawn_logged([*cmd, "--config", str(config_path), "--log-json", *extra_args], log_path)


__all__ = ["ReplicaFiles", "build_transport", "open_data_dir", "serve", "spawn_log_replica"]
