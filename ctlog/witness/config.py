"""`witness.toml`: which logs a witness follows, its key, its data directory and address.

Example::

    key_file = "witness.key"        # written by `ctlog witness keygen`
    data_dir = "data"
    host = "127.0.0.1"
    port = 7380

    [[logs]]
    origin = "ct.example.com/2025h1"
    public_key_file = "log.pem"     # a static-ct log: RFC6962NoteSignature, ECDSA P-256

    [[logs]]
    origin = "example.com/tlog"
    vkey = "example.com/tlog+1a2b3c4d+AU0e..."   # a log that signs Ed25519 notes

A log may be listed more than once with different keys (a key rotation); any one of its keys
signing is enough. Relative paths are resolved against the directory holding the file. Every
mistake is a `ConfigError` naming the file and the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from common.errors import ConfigError
from common.runtime import load_toml_config
from ctlog.checkpoint import RFC6962NoteVerifier
from ctlog.errors import InputError
from ctlog.keys import LogPublicKey
from ctlog.note import Ed25519NoteVerifier, NoteVerifier
from ctlog.witness.cosignature import CosignatureSigner

DEFAULT_PORT = 7380  # the port litewitness and the tlog-witness examples use
DEFAULT_HOST = "127.0.0.1"  # a witness key signs on request: expose it on purpose only
MAX_KEY_FILE_BYTES = 64 * 1024  # a PEM or skey file is a few hundred bytes


@dataclass(frozen=True, slots=True)
class LogSection:
    origin: str
    public_key_file: str | None = None
    vkey: str | None = None

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise ValueError("origin must be a non-empty single line")
        if (self.public_key_file is None) == (self.vkey is None):
            raise ValueError("give exactly one of public_key_file and vkey")


@dataclass(frozen=True, slots=True)
class WitnessFile:
    key_file: str
    data_dir: str = "data"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    logs: tuple[LogSection, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 0xFFFF:
            raise ValueError(f"port {self.port} is not in [0, 65535]")
        if not self.logs:
            raise ValueError("list at least one [[logs]] entry")


@dataclass(frozen=True)
class WitnessConfig:
    """A loaded configuration: keys parsed, paths absolute."""

    signer: CosignatureSigner
    logs: dict[str, tuple[NoteVerifier, ...]]
    data_dir: Path
    host: str
    port: int


def load_witness_config(path: str | os.PathLike[str]) -> WitnessConfig:
    """Read and check `path`, load the witness key and every log key it names."""
    raw = load_toml_config(path, WitnessFile)
    base = Path(path).absolute().parent
    signer = load_signer(base / raw.key_file)
    logs: dict[str, tuple[NoteVerifier, ...]] = {}
    for i, section in enumerate(raw.logs):
        verifier = _log_verifier(section, base, f"{path}: logs[{i}]")
        logs[section.origin] = (*logs.get(section.origin, ()), verifier)
    return WitnessConfig(signer, logs, base / raw.data_dir, raw.host, raw.port)


def load_signer(path: Path) -> CosignatureSigner:
    """The cosigning key in `path` (an skey string, as `ctlog witness keygen` writes it)."""
    text = _read_key_file(path)
    try:
        return CosignatureSigner.from_skey(text.strip())
    except InputError as exc:
        raise ConfigError(f"{path}: not a witness key: {exc}") from None


def _log_verifier(section: LogSection, base: Path, where: str) -> NoteVerifier:
    try:
        if section.vkey is not None:
            return Ed25519NoteVerifier.from_vkey(section.vkey)
        pem = _read_key_file(base / str(section.public_key_file)).encode()
        return RFC6962NoteVerifier(LogPublicKey.from_pem(pem), section.origin)
    except InputError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _read_key_file(path: Path) -> str:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ConfigError(f"key file {path} is larger than {MAX_KEY_FILE_BYTES} bytes")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise ConfigError(f"key file {path} is not ASCII text") from None


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LogSection",
    "WitnessConfig",
    "WitnessFile",
    "load_signer",
    "load_witness_config",
]
