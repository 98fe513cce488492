"""`opentrust kv serve`: one replica of the KV store, as a process.

Wires the pieces together: a locked data directory, LevelDB Raft storage, the authenticated
peer transport, the Raft driver with the KV state machine, and the HTTP/JSON client API
(`common.kv.http_api`). The identity of a data directory (cluster name and node id) is
recorded on first start; a later start with a configuration that disagrees is refused.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from common.errors import ConfigError
from common.kv import KvStateMachine
from common.kv.config import ClusterConfig
from common.kv.http_api import make_client_app
from common.net import AiohttpTransport, ClusterAuth, PeerAddress
from common.raft.driver import RaftNode
from common.raft.storage import RaftStorage
from common.runtime import DataDir, log_event
from common.store import LevelStore

log = logging.getLogger("opentrust.kv")

IDENTITY_FILE = "identity.json"


def check_identity(data_dir: DataDir, cluster: str, node_id: str) -> None:
    """Refuse a data directory that belongs to another cluster or node."""
    wanted = {"cluster": cluster, "node_id": node_id}
    raw = data_dir.read(IDENTITY_FILE)
    if raw is None:
        data_dir.write_atomic(IDENTITY_FILE, json.dumps(wanted).encode())
        return
    try:
        stored = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{data_dir.path / IDENTITY_FILE} is not valid JSON: {exc}") from exc
    if stored != wanted:
        raise ConfigError(
            f"data directory {data_dir.path} belongs to cluster {stored.get('cluster')!r} "
            f"node {stored.get('node_id')!r}, but this process was started as cluster "
            f"{cluster!r} node {node_id!r}; use the right --id or another data_dir"
        )


def build_transport(config: ClusterConfig, node_id: str) -> AiohttpTransport:
    me = config.node(node_id)
    peers = {n.id: PeerAddress(n.id, n.host, n.peer_port) for n in config.cluster.nodes}
    return AiohttpTransport(
        node_id,
        PeerAddress(node_id, me.host, me.peer_port),
        peers,
        ClusterAuth(config.read_secret()),
    )


def open_data_dir(config: ClusterConfig, node_id: str) -> DataDir:
    """Lock this node's data directory and check it belongs to this cluster and node."""
    data_dir = DataDir(config.path(config.cluster.data_dir) / node_id)
    try:
        check_identity(data_dir, config.cluster.name, node_id)
    except BaseException:
        data_dir.close()
        raise
    return data_dir


async def serve(
    config: ClusterConfig, node_id: str, data_dir: DataDir, stop: asyncio.Event
) -> None:
    """Run one replica until `stop` is set, then shut down in order."""
    me = config.node(node_id)
    token = config.read_token()
    store = LevelStore(data_dir.sub("raft"))
    try:
        await _serve_with_store(config, node_id, me.host, me.client_port, token, store, stop)
    finally:
        store.close()


async def _serve_with_store(
    config: ClusterConfig,
    node_id: str,
    host: str,
    client_port: int,
    token: str,
    store: LevelStore,
    stop: asyncio.Event,
) -> None:
    state_machine = KvStateMachine()
    node = RaftNode(
        node_id,
        config.raft.params(),
        RaftStorage(store),
        build_transport(config, node_id),
        state_machine,
        bootstrap_conf=config.bootstrap_conf(),
        snapshot_entries=config.raft.snapshot_entries,
    )
    node.on_role_change = lambda role, leader, term: log_event(
        log, "role", node=node_id, role=role.name.lower(), leader=leader, term=term
    )
    await node.start()
    runner = web.AppRunner(make_client_app(node, state_machine, config, token), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, client_port).start()
        log_event(log, "serving", node=node_id, client=f"http://{host}:{client_port}")
        await stop.wait()
    finally:
        log_event(log, "stopping", node=node_id)
        await runner.cleanup()
        await node.stop()


__all__ = ["IDENTITY_FILE", "build_transport", "check_identity", "open_data_dir", "serve"]
