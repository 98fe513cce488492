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

import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from common.errors import ConfigError
from common.raft import ConfState, RaftParams
from common.runtime import load_toml_config

MIN_SECRET_BYTES = 16  # HMAC keys shorter than this are guessable
MAX_NODES = 15  # Raft quorums beyond this gain little and cost a lot of messages
MAX_PORT = 65535  # TCP port numbers are 16-bit; 0 means "any" and is no address


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
        return find_member(
            self.cluster.nodes, node_id, kind="node", group=f"cluster {self.cluster.name!r}"
        )

    def path(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()

    def bootstrap_conf(self) -> ConfState:
        nodes = self.cluster.nodes
        return ConfState(
            voters=frozenset(n.id for n in nodes if n.voter),
            learners=frozenset(n.id for n in nodes if not n.voter),
        )

    def read_secret(self) -> bytes:
        return read_key_file(self.path(self.cluster.secret_file), "cluster secret")

    def read_token(self) -> str:
        return read_key_file(self.path(self.cluster.token_file), "client token").decode()


class Member(Protocol):
    """A node as a cluster file lists it (`NodeConfig`, a CT log's `ReplicaConfig`)."""

    @property
    def id(self) -> str: ...

    @property
    def host(self) -> str: ...


M = TypeVar("M", bound=Member)


def find_member(members: Sequence[M], member_id: str, *, kind: str, group: str) -> M:
    """The member called `member_id`; a `ConfigError` naming the known ones otherwise."""
    for member in members:
        if member.id == member_id:
            return member
    known = ", ".join(m.id for m in members)
    raise ConfigError(f"{kind} {member_id!r} is not in {group} ({known})")


def check_members(
    path: Path, members: Sequence[Member], *, kind: str, list_name: str, ports: tuple[str, str]
) -> None:
    """1..MAX_NODES members with unique, non-empty ids, whose `ports` (the names of their two
    port fields) are all distinct on their host and within 1..65535."""
    if not 1 <= len(members) <= MAX_NODES:
        raise ConfigError(
            f"{path}: {list_name} must list 1..{MAX_NODES} {kind}s, found {len(members)}"
        )
    ids = [m.id for m in members]
    if len(set(ids)) != len(ids) or not all(ids):
        raise ConfigError(f"{path}: {kind} ids must be unique and non-empty, found {ids}")
    taken = [(m.host, getattr(m, name)) for m in members for name in ports]
    if len(set(taken)) != len(taken):
        raise ConfigError(f"{path}: every {ports[0]} and {ports[1]} must be distinct")
    for i, member in enumerate(members):
        for name in ports:
            port = getattr(member, name)
            if not 1 <= port <= MAX_PORT:
                raise ConfigError(
                    f"{path}: {list_name}[{i}].{name} must be 1..{MAX_PORT}, got {port}"
                )


def read_key_file(path: Path, what: str) -> bytes:
    """A secret shared by the peers (or with clients), at least MIN_SECRET_BYTES long."""
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
    ports = ("peer_port", "client_port")
    check_members(path, nodes, kind="node", list_name="cluster.nodes", ports=ports)
    if not any(n.voter for n in nodes):
        raise ConfigError(f"{path}: at least one node must be a voter")


def consecutive_ports(nodes: int, base_port: int) -> list[tuple[int, int]]:
    """(peer, client) ports for nodes n1..nN: base+i for peers, base+100+i for clients."""
    return [(base_port + i, base_port + 100 + i) for i in range(1, nodes + 1)]


def write_cluster_files(
    out_dir: Path,
    *,
    name: str,
    ports: Sequence[tuple[int, int]],
    learners: Collection[str] = (),
    raft: Mapping[str, int] | None = None,
) -> Path:
    """Create cluster.toml for nodes n1..nN on 127.0.0.1, cluster.secret and client.token.

    `ports` gives each node's (peer_port, client_port); nodes named in `learners` start as
    learners; `raft` sets fields of the [raft] section. Files that exist are kept, so a
    restarted local network keeps its secrets and layout. Secrets are written 0600.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for secret_name in ("cluster.secret", "client.token"):
        secret_path = out_dir / secret_name
        if not secret_path.exists():
            secret_path.write_text(secrets.token_hex(32) + "\n")
            secret_path.chmod(0o600)
    config_path = out_dir / "cluster.toml"
    if not config_path.exists():
        lines = [f'[cluster]\nname = "{name}"\ndata_dir = "data"\n']
        for i, (peer_port, client_port) in enumerate(ports, start=1):
            voter = "" if f"n{i}" not in learners else "voter = false\n"
            lines.append(
                f'[[cluster.nodes]]\nid = "n{i}"\npeer_port = {peer_port}\n'
                f"client_port = {client_port}\n{voter}"
            )
        if raft:
            lines.append("[raft]\n" + "".join(f"{k} = {v}\n" for k, v in raft.items()))
        config_path.write_text("\n".join(lines))
    return config_path


__all__ = [
    "MAX_NODES",
    "MIN_SECRET_BYTES",
    "ClusterConfig",
    "ClusterSection",
    "Member",
    "NodeConfig",
    "RaftSection",
    "check_members",
    "consecutive_ports",
    "find_member",
    "load_cluster_config",
    "read_key_file",
    "write_cluster_files",
]
