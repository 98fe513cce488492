"""The cluster configuration file of the replicated KV store (`cluster.toml`).

Example::

    [cluster]
    name = "devnet"
    data_dir = "data"            # each node uses <data_dir>/<node id>/; relative to this file
    secret_file = "cluster.secret"  # shared secret for peer authentication (HMAC)
    token_file = "client.token"     # bearer token for the client API

    [[cluster.nodes]]
    id = "n1"
    peer_port = 7101
    client_port = 7201

    [raft]
    tick_ms = 10

Every node of a cluster reads the same file. Nodes listed with `voter = false` start as
learners. Relative paths are resolved against the directory holding the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.errors import ConfigError
from common.raft import ConfState, RaftParams
from common.runtime import load_toml_config

MIN_SECRET_BYTES = 16  # HMAC keys shorter than this are guessable
MAX_NODES = 15  # Raft quorums beyond this gain little and cost a lot of messages


@dataclass(frozen=True, slots=True)
class NodeConfig:
    id: str
    peer_port: int
    client_port: int
    host: str = "127.0.0.1"
    voter: bool = True

    @property
    def client_url(self) -> str:
        return f"http://{self.host}:{self.client_port}"


@dataclass(frozen=True, slots=True)
class RaftSection:
    tick_ms: int = 10
    election_ticks: int = 50  # 0.5 to 1 s with 10 ms ticks
    heartbeat_ticks: int = 5  # every 50 ms
    snapshot_entries: int = 10_000
    pre_vote: bool = True
    check_quorum: bool = True

    def params(self) -> RaftParams:
        try:
            return RaftParams(
                election_ticks=self.election_ticks,
                heartbeat_ticks=self.heartbeat_ticks,
                pre_vote=self.pre_vote,
                check_quorum=self.check_quorum,
                tick_ms=self.tick_ms,
            )
        except ValueError as exc:
            raise ConfigError(f"[raft]: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ClusterSection:
    name: str
    nodes: tuple[NodeConfig, ...]
    data_dir: str = "data"
    secret_file: str = "cluster.secret"
    token_file: str = "client.token"


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    cluster: ClusterSection
    raft: RaftSection = field(default_factory=RaftSection)
    base_dir: Path = Path(".")  # set by `load_cluster_config`, not read from the file

    def node(self, node_id: str) -> NodeConfig:
        for node in self.cluster.nodes:
            if node.id == node_id:
                return node
        known = ", ".join(n.id for n in self.cluster.nodes)
        raise ConfigError(f"node {node_id!r} is not in cluster {self.cluster.name!r} ({known})")

    def path(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()

    def bootstrap_conf(self) -> ConfState:
        nodes = self.cluster.nodes
        return ConfState(
            voters=frozenset(n.id for n in nodes if n.voter),
            learners=frozenset(n.id for n in nodes if not n.voter),
        )

    def read_secret(self) -> bytes:
        return _read_key_file(self.path(self.cluster.secret_file), "cluster secret")

    def read_token(self) -> str:
        return _read_key_file(self.path(self.cluster.token_file), "client token").decode()


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        value = path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} from {path}: {exc.strerror}") from exc
    if len(value) < MIN_SECRET_BYTES:
        raise ConfigError(f"the {what} in {path} must be at least {MIN_SECRET_BYTES} bytes")
    return value


def load_cluster_config(path: str | Path) -> ClusterConfig:
    """Read and check `cluster.toml`; errors name the file and the field."""
    path = Path(path)
    config = load_toml_config(path, ClusterConfig)
    config = ClusterConfig(cluster=config.cluster, raft=config.raft, base_dir=path.parent)
    _check_nodes(path, config.cluster.nodes)
    config.raft.params()
    return config


def _check_nodes(path: Path, nodes: tuple[NodeConfig, ...]) -> None:
    if not nodes:
        raise ConfigError(f"{path}: cluster.nodes must list at least one node")
    if len(nodes) > MAX_NODES:
        raise ConfigError(f"{path}: at most {MAX_NODES} nodes, found {len(nodes)}")
    if not any(n.voter for n in nodes):
        raise ConfigError(f"{path}: at least one node must be a voter")
    ids = [n.id for n in nodes]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: node ids must be unique, found {ids}")
    ports = [(n.host, p) for n in nodes for p in (n.peer_port, n.client_port)]
    if len(set(ports)) != len(ports):
        raise ConfigError(f"{path}: every peer_port and client_port must be distinct")
    for i, node in enumerate(nodes):
        for name in ("peer_port", "client_port"):
            port = getattr(node, name)
            if not 1 <= port <= 65535:
                raise ConfigError(f"{path}: cluster.nodes[{i}].{name} must be 1..65535, got {port}")


__all__ = ["ClusterConfig", "ClusterSection", "NodeConfig", "RaftSection", "load_cluster_config"]
