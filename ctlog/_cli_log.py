"""`ctlog init` and `ctlog serve`: create a log and run its replicas.

    ctlog init --out DIR [--replicas N] [--base-port P] [--roots roots.pem] [--name NAME]
    ctlog serve --config DIR/log.toml --id n1
    ctlog dev-cert --pki DIR/devpki --name www.example.test --out chain.pem [--precert]

`init` writes log.toml, the log key (0600), its public key, the cluster secret (0600) and,
without --roots, a development PKI under DIR/devpki/ whose root the log accepts. Replica nI
gets peer port P+I and HTTP port P+100+I. `serve` runs one replica until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from common.errors import CommonError
from common.kv.config import MAX_NODES, consecutive_ports
from common.runtime import run_until_signalled, setup_logging
from ctlog._cli_common import EXIT_USAGE, emit, fail, json_option
from ctlog.devcerts import DevPki, write_pem_chain
from ctlog.errors import CtlogError
from ctlog.log.config import load_log_config
from ctlog.log.files import write_log_files

DEFAULT_BASE_PORT = 8100  # peer ports 8101.., HTTP ports 8201..


@click.command("init")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--replicas", default=1, show_default=True, type=click.IntRange(1, MAX_NODES))
@click.option(
    "--base-port",
    default=DEFAULT_BASE_PORT,
    show_default=True,
    type=click.IntRange(1024, 65000),
    help="replica nI gets peer port P+I and HTTP port P+100+I",
)
@click.option(
    "--roots",
    type=click.Path(dir_okay=False),
    help="PEM bundle of accepted roots (default: a new development PKI under OUT/devpki/)",
)
@click.option("--name", default="devlog", show_default=True, help="the log's name")
@click.option("--origin", default=None, help="checkpoint origin (default: localhost/NAME)")
@json_option
def init(
    out_dir: str,
    replicas: int,
    base_port: int,
    roots: str | None,
    name: str,
    origin: str | None,
    json_mode: bool,
) -> None:
    """Create a log: configuration, key, cluster secret and accepted roots."""
    try:
        config_path = write_log_files(
            Path(out_dir),
            name=name,
            ports=consecutive_ports(replicas, base_port),
            now=datetime.now(UTC),
            roots_pem=None if roots is None else Path(roots),
            origin=origin,
        )
        config = load_log_config(config_path)
    except (CommonError, CtlogError) as exc:
        fail(str(exc), code=EXIT_USAGE, json_mode=json_mode)
    urls = [r.url for r in config.log.replicas]
    payload = {"ok": True, "config": str(config_path), "urls": urls}
    lines = [f"wrote {config_path}", *(f"  {r.id}: {r.url}" for r in config.log.replicas)]
    lines.append(f"start a replica: ctlog serve --config {config_path} --id n1")
    emit(payload, "\n".join(lines), json_mode=json_mode)


@click.command("serve")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--id", "node_id", required=True, help="this replica's id in the configuration")
@click.option("--log-json", is_flag=True, help="JSON log lines even on a terminal")
@click.option("--log-level", default="info", show_default=True)
def serve(config_path: str, node_id: str, log_json: bool, log_level: str) -> None:
    """Run one replica of a log until SIGTERM or Ctrl-C."""
    from ctlog.log.process import ReplicaFiles, open_data_dir
    from ctlog.log.process import serve as serve_replica

    try:
        config = load_log_config(config_path)
        setup_logging(log_level, json_lines=True if log_json else None)
        config.replica(node_id)
        files = ReplicaFiles.read(config)
        data_dir = open_data_dir(config, node_id)
    except (CommonError, CtlogError) as exc:
        fail(str(exc), code=EXIT_USAGE, json_mode=False)
    with data_dir:
        code = run_until_signalled(
            lambda stop: serve_replica(config, node_id, files, data_dir, stop)
        )
    sys.exit(code)


@click.command("dev-cert")
@click.option(
    "--pki",
    "pki_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="a development PKI written by `ctlog init` (DIR/devpki)",
)
@click.option("--name", "names", multiple=True, required=True, help="a DNS name (repeatable)")
@click.option("--precert", is_flag=True, help="issue a precertificate (for add-pre-chain)")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@json_option
def dev_cert(
    pki_dir: str, names: tuple[str, ...], precert: bool, out_path: str, json_mode: bool
) -> None:
    """Issue a fresh certificate chain (leaf first) from a development PKI, to submit."""
    try:
        pki = DevPki.load(pki_dir, datetime.now(UTC))
        chain = pki.issue_precert(names) if precert else pki.issue_leaf(names)
        write_pem_chain(Path(out_path), chain)
    except (OSError, ValueError, CommonError, CtlogError) as exc:
        fail(f"cannot issue from {pki_dir}: {exc}", code=EXIT_USAGE, json_mode=json_mode)
    kind = "precertificate" if precert else "certificate"
    payload = {"ok": True, "chain": out_path, "names": list(names), "precert": precert}
    emit(payload, f"wrote a {kind} chain for {', '.join(names)} to {out_path}", json_mode=json_mode)


COMMANDS: list[click.Command] = [init, serve, dev_cert]

__all__ = ["COMMANDS", "dev_cert", "init", "serve"]
