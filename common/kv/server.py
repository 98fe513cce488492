"""`opentrust kv serve`: one replica of the KV store, as a process.

Wires the pieces together: a locked data directory, LevelDB Raft storage, the authenticated
peer transport, the Raft driver with the KV state machine, and the HTTP/JSON client API
(`common.kv.http_api`). The identity of a data directory (cluster name and node id) is
recorded on first start; a later start with a configuration that disagrees is refused
(`common.runtime.check_identity`).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from common.kv import KvStateMachine
from common.kv.config import ClusterConfig
from common.kv.http_api import make_client_app
from common.net import AiohttpTransport, ClusterAuth, PeerAddress
from common.raft.driver import RaftNode
from common.raft.storage import RaftStorage
from common.runtime import IDENTITY_FILE, DataDir, check_identity, log_event, open_node_data_dir
from common.store import LevelStore

log = logging.getLogger("opentrust.kv")


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
    path = config.path(config.cluster.data_dir) / node_id
    return open_node_data_dir(path, config.cluster.name, node_id)


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
