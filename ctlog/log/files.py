"""`ctlog init`: write a log's configuration, key, cluster secret and (for development) a PKI.

Layout of the directory written::

    log.toml          the configuration every replica reads (`ctlog.log.config`)
    log.key           the log's ECDSA P-256 private key, PEM, mode 0600
    log.pub           its public key, PEM (what verifiers and monitors need)
    cluster.secret    the replicas' shared secret, mode 0600
    roots.pem         the accepted roots (a copy of --roots, or the dev PKI's root)
    devpki/           only without --roots: the dev root and intermediate with their keys,
                      and example chains (`chain.pem`, `precert-chain.pem`) to submit
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path

from common.errors import ConfigError
from ctlog.devcerts import DevPki
from ctlog.keys import LogSigningKey
from ctlog.log.config import LogSection, load_accepted_roots
from ctlog.x509.pemfile import write_pem_chain

CONFIG_NAME = "log.toml"
# Settings written out with their defaults, so an operator sees what to tune.
SHOWN_SETTINGS = (
    "max_merge_delay_s",
    "sequence_interval_ms",
    "max_batch",
    "sth_interval_ms",
    "max_get_entries",
)
SECRET_MODE = 0o600  # keys and secrets: owner only
Setting = int | str | bool


def write_log_files(
    out_dir: Path,
    *,
    name: str,
    ports: Sequence[tuple[int, int]],
    now: datetime,
    roots_pem: Path | None = None,
    origin: str | None = None,
    settings: Mapping[str, Setting] | None = None,
    raft: Mapping[str, Setting] | None = None,
) -> Path:
    """Create a log directory for replicas n1..nN with (peer_port, http_port) from `ports`.

    Refuses a directory that already holds a log.toml (`ConfigError`), so a log's key and
    secret are never replaced by accident. Returns the path of log.toml.
    """
    config_path = out_dir / CONFIG_NAME
    if config_path.exists():
        raise ConfigError(f"{config_path} exists; choose another directory or remove it")
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_roots(out_dir, roots_pem, now)
    key = LogSigningKey.generate()
    _write_secret(out_dir / "log.key", key.to_pem())
    (out_dir / "log.pub").write_bytes(key.public.to_pem())
    _write_secret(out_dir / "cluster.secret", (secrets.token_hex(32) + "\n").encode())
    text = log_toml(name, origin or f"localhost/{name}", ports, settings or {}, raft or {})
    config_path.write_text(text)
    return config_path


def log_toml(
    name: str,
    origin: str,
    ports: Sequence[tuple[int, int]],
    settings: Mapping[str, Setting],
    raft: Mapping[str, Setting],
) -> str:
    """The text of log.toml (TOML written by hand: values are simple scalars)."""
    lines = ["[log]", f"name = {_toml(name)}", f"origin = {_toml(origin)}"]
    defaults: dict[str, Setting] = {
        f.name: f.default  # type: ignore[misc]
        for f in fields(LogSection)
        if f.name in SHOWN_SETTINGS
    }
    lines += [f"{key} = {_toml(value)}" for key, value in {**defaults, **settings}.items()]
    for i, (peer_port, http_port) in enumerate(ports, start=1):
        lines += ["", "[[log.replicas]]", f'id = "n{i}"', f"peer_port = {peer_port}"]
        lines.append(f"http_port = {http_port}")
    if raft:
        lines += ["", "[raft]", *(f"{key} = {_toml(value)}" for key, value in raft.items())]
    return "\n".join(lines) + "\n"


def _toml(value: Setting) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _write_secret(path: Path, data: bytes) -> None:
    path.touch(mode=SECRET_MODE)
    path.chmod(SECRET_MODE)
    path.write_bytes(data)


def _write_roots(out_dir: Path, roots_pem: Path | None, now: datetime) -> None:
    """Write roots.pem; without `roots_pem`, from a new dev PKI saved under devpki/."""
    target = out_dir / "roots.pem"
    if roots_pem is not None:
        try:
            roots = load_accepted_roots(roots_pem)
        except ConfigError as exc:
            raise ConfigError(f"--roots: {exc}") from exc
        write_pem_chain(target, roots.ders())
        return
    pki = DevPki.create(now)
    pki.save(out_dir / "devpki")
    for path in (out_dir / "devpki").glob("*-key.pem"):
        path.chmod(SECRET_MODE)
    write_pem_chain(target, [pki.root_der])
    write_pem_chain(out_dir / "devpki" / "chain.pem", pki.issue_leaf(["example.test"]))
    precert = pki.issue_precert(["precert.example.test"])
    write_pem_chain(out_dir / "devpki" / "precert-chain.pem", precert)


__all__ = ["CONFIG_NAME", "log_toml", "write_log_files"]
