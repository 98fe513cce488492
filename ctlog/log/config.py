"""The configuration file of a replicated CT log (`log.toml`).

Example::

    [log]
    name = "devlog"                  # the cluster name: data directories are bound to it
    origin = "localhost/devlog"      # static-ct-api checkpoint origin (schema-less URL)
    key_file = "log.key"             # the log's ECDSA P-256 key (PEM, 0600)
    roots_file = "roots.pem"         # accepted roots (PEM bundle)
    secret_file = "cluster.secret"   # shared secret of the replicas (Raft and forwarding)
    data_dir = "data"                # each replica uses <data_dir>/<id>/
    max_merge_delay_s = 86400        # RFC 6962 §3: the MMD every SCT promises
    sequence_interval_ms = 20        # the leader sequences the pool this often ...
    max_batch = 256                  # ... or as soon as this many entries wait
    sth_interval_ms = 1000           # the leader signs a tree head this often when it grew
    max_get_entries = 1000           # RFC 6962 §4.6: get-entries answers at most this many
    not_after_start = "2025-01-01T00:00:00Z"   # optional: temporal shard window [start, end)
    not_after_end = "2026-01-01T00:00:00Z"
    allow_expired = false
    validation_workers = 1           # processes validating chains (0: in the event loop)

    [[log.replicas]]
    id = "n1"
    peer_port = 8101
    http_port = 8201

    [raft]                           # common.kv.config.RaftSection, without snapshot_entries
    tick_ms = 10

Every replica reads the same file. Relative paths are resolved against its directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common.errors import ConfigError
from common.kv.config import RaftSection, check_members, find_member, read_key_file
from common.raft import ConfState
from common.runtime import load_toml_config
from ctlog.errors import CtlogError
from ctlog.keys import LogSigningKey
from ctlog.log.codec import MAX_BATCH_ENTRIES
from ctlog.note import is_valid_key_name
from ctlog.x509 import RootSet
from ctlog.x509.pemfile import load_roots

MAX_GET_ENTRIES_LIMIT = 10_000  # RFC 6962 §4.6 allows truncation; more per answer is a DoS lever
MAX_POOL_LIMIT = 1_000_000  # a larger pool is a misconfiguration, not a buffer
MAX_VALIDATION_WORKERS = 64  # processes validating chains; more than cores only costs memory
SUBMIT_TIMEOUT_MS = 15_000  # a submission not logged in this time gets 503 (clients retry)
MIN_MMD_MARGIN_MS = 5_000  # MMD headroom beyond submission and publishing delays
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReplicaConfig:
    id: str
    peer_port: int
    http_port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"


@dataclass(frozen=True, slots=True)
class LogSection:
    name: str
    origin: str
    replicas: tuple[ReplicaConfig, ...]
    key_file: str = "log.key"
    roots_file: str = "roots.pem"
    secret_file: str = "cluster.secret"
    data_dir: str = "data"
    max_merge_delay_s: int = 86_400  # 24 h, what Web PKI logs promise
    sequence_interval_ms: int = 20
    max_batch: int = 256
    max_pool: int = 16_384
    sth_interval_ms: int = 1_000
    max_get_entries: int = 1_000
    not_after_start: str | None = None
    not_after_end: str | None = None
    allow_expired: bool = False
    validation_workers: int = 1  # processes validating chains off the event loop (0: inline)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.origin):
            raise ValueError(f"origin {self.origin!r} must be a note key name (no spaces or +)")
        _check_range("max_batch", self.max_batch, 1, MAX_BATCH_ENTRIES)
        _check_range("max_pool", self.max_pool, self.max_batch, MAX_POOL_LIMIT)
        _check_range("max_get_entries", self.max_get_entries, 1, MAX_GET_ENTRIES_LIMIT)
        _check_range("validation_workers", self.validation_workers, 0, MAX_VALIDATION_WORKERS)
        for name in ("sequence_interval_ms", "sth_interval_ms", "max_merge_delay_s"):
            _check_range(name, getattr(self, name), 1, 10**9)
        needed = self.sth_interval_ms + SUBMIT_TIMEOUT_MS + MIN_MMD_MARGIN_MS
        if self.max_merge_delay_s * 1000 < needed:
            raise ValueError(
                f"max_merge_delay_s must be at least {-(-needed // 1000)} s: an SCT is issued up "
                f"to {SUBMIT_TIMEOUT_MS} ms after its timestamp and published within "
                f"sth_interval_ms"
            )
        window = (self.not_after_start_ms, self.not_after_end_ms)
        if None not in window and window[0] >= window[1]:  # type: ignore[operator]
            raise ValueError("not_after_start must be before not_after_end")

    @property
    def max_merge_delay_ms(self) -> int:
        return self.max_merge_delay_s * 1000

    @property
    def not_after_start_ms(self) -> int | None:
        return _parse_time("not_after_start", self.not_after_start)

    @property
    def not_after_end_ms(self) -> int | None:
        return _parse_time("not_after_end", self.not_after_end)


@dataclass(frozen=True, slots=True)
class LogConfig:
    log: LogSection
    raft: RaftSection = field(default_factory=RaftSection)
    base_dir: Path = Path(".")  # set by `load_log_config`, not read from the file

    def replica(self, node_id: str) -> ReplicaConfig:
        return find_member(
            self.log.replicas, node_id, kind="replica", group=f"log {self.log.name!r}"
        )

    def path(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()

    def bootstrap_conf(self) -> ConfState:
        return ConfState(voters=frozenset(r.id for r in self.log.replicas))

    def read_secret(self) -> bytes:
        return read_key_file(self.path(self.log.secret_file), "cluster secret")

    def read_key(self) -> LogSigningKey:
        path = self.path(self.log.key_file)
        try:
            return LogSigningKey.from_pem(path.read_bytes())
        except OSError as exc:
            raise ConfigError(f"cannot read the log key from {path}: {exc.strerror}") from exc
        except CtlogError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    def read_roots(self) -> RootSet:
        return load_accepted_roots(self.path(self.log.roots_file))


def load_log_config(path: str | Path) -> LogConfig:
    """Read and check `log.toml`; errors name the file and the field."""
    path = Path(path)
    config = load_toml_config(path, LogConfig)
    config = LogConfig(log=config.log, raft=config.raft, base_dir=path.parent)
    ports = ("peer_port", "http_port")
    check_members(path, config.log.replicas, kind="replica", list_name="log.replicas", ports=ports)
    if config.raft.snapshot_entries != RaftSection().snapshot_entries:
        raise ConfigError(
            f"{path}: raft.snapshot_entries: a log group never compacts its Raft log "
            "(see docs/ctlog/log.md); remove the setting"
        )
    config.raft.params()
    return config


def load_accepted_roots(path: Path) -> RootSet:
    """The roots a log accepts, from a PEM bundle; `ConfigError` if unreadable or empty."""
    try:
        roots = load_roots(path)
    except CtlogError as exc:
        raise ConfigError(f"cannot load the accepted roots: {exc}") from exc
    if not roots.ders():
        raise ConfigError(f"{path} holds no certificates; a log needs at least one root")
    return roots


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")


def _parse_time(name: str, value: str | None) -> int | None:
    """An RFC 3339 UTC time as milliseconds since the epoch (CT timestamps, RFC 6962 §3.2)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} {value!r} needs a time zone (Z for UTC)")
    return (moment - EPOCH) // timedelta(milliseconds=1)


__all__ = [
    "MAX_GET_ENTRIES_LIMIT",
    "SUBMIT_TIMEOUT_MS",
    "LogConfig",
    "LogSection",
    "ReplicaConfig",
    "load_accepted_roots",
    "load_log_config",
]
