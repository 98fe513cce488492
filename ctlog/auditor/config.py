"""The `ctlog auditor` configuration file (TOML), read with `common.runtime.load_toml_config`.

```
name = "auditor-1"              # the name this auditor presents to its peers
data_dir = "auditor-1-data"     # evidence/ and state.json live here
listen_host = "127.0.0.1"
listen_port = 8800
poll_interval_s = 10.0          # get-sth of every log this often
gossip_interval_s = 5.0         # one pollination to every peer this often
accept_clients = true           # take pollination from clients (no peer header)
peer_token = "..."              # optional: peers must present it as a bearer token

[[logs]]
url = "http://127.0.0.1:8000"
key_file = "log-key.pem"        # the log's public key, PEM

[[peers]]
name = "auditor-2"
url = "http://127.0.0.1:8801"
```
Relative paths are relative to the file's directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from common.runtime import load_toml_config

MAX_PORT = 65535  # TCP
MIN_INTERVAL_S = 0.01  # faster polling or gossip only burns CPU (tests use ~0.1 s)
MAX_URL_CHARS = 256  # a URL becomes an observation's origin, bounded by MAX_ORIGIN_CHARS


@dataclass(frozen=True, slots=True)
class LogConfig:
    url: str
    key_file: Path

    def __post_init__(self) -> None:
        _check_url(self.url, "log")


@dataclass(frozen=True, slots=True)
class PeerConfig:
    name: str
    url: str

    def __post_init__(self) -> None:
        _check_url(self.url, "peer")


@dataclass(frozen=True, slots=True)
class AuditorConfig:
    name: str
    data_dir: Path
    logs: list[LogConfig]
    peers: list[PeerConfig] = field(default_factory=list)
    listen_host: str = "127.0.0.1"
    listen_port: int = 8800
    poll_interval_s: float = 10.0
    gossip_interval_s: float = 5.0
    accept_clients: bool = True
    peer_token: str | None = None
    log_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 64 or not self.name.isprintable():
            raise ValueError("name must be 1-64 printable characters")
        if not self.logs:
            raise ValueError("configure at least one log under [[logs]]")
        if not 0 <= self.listen_port <= MAX_PORT:
            raise ValueError(f"listen_port must be in 0..{MAX_PORT}")
        for name in ("poll_interval_s", "gossip_interval_s", "log_timeout_s"):
            if getattr(self, name) < MIN_INTERVAL_S:
                raise ValueError(f"{name} must be at least {MIN_INTERVAL_S}")
        if len({p.name for p in self.peers}) != len(self.peers):
            raise ValueError("peer names must be distinct")

    def resolved(self, base: Path) -> AuditorConfig:
        """The same configuration with relative paths taken from `base`."""
        logs = [replace(log, key_file=base / log.key_file) for log in self.logs]
        return replace(self, data_dir=base / self.data_dir, logs=logs)


def _check_url(url: str, what: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{what} url must start with http:// or https://, got {url!r:.80}")
    if len(url) > MAX_URL_CHARS or not url.isprintable():
        raise ValueError(f"{what} url must be printable and at most {MAX_URL_CHARS} characters")


def load_auditor_config(path: str | Path) -> AuditorConfig:
    """Read and check the file; `ConfigError` names the field that is wrong."""
    config = load_toml_config(path, AuditorConfig)
    return config.resolved(Path(path).absolute().parent)


__all__ = ["AuditorConfig", "LogConfig", "PeerConfig", "load_auditor_config"]
