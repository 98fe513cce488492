"""`opentrust kv ...`: run a replica, and talk to a cluster from the shell.

Exit codes: 0 success; 1 the operation was answered but negative (key not found, CAS
failed); 2 usage or configuration error; 3 the cluster did not answer (no quorum in time).
Errors are one line on stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from common.errors import CommonError, ConfigError
from common.kv.client import KvClient, KvClientError, KvReply, KvUnavailable
from common.kv.config import (
    ClusterConfig,
    consecutive_ports,
    load_cluster_config,
    write_cluster_files,
)
from common.runtime import run_until_signalled, setup_logging

T = TypeVar("T")
EXIT_NEGATIVE, EXIT_USAGE, EXIT_UNAVAILABLE = 1, 2, 3
DEFAULT_CONFIG = "cluster.toml"

config_option = click.option(
    "--config",
    "config_path",
    default=DEFAULT_CONFIG,
    envvar="OPENTRUST_KV_CONFIG",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="cluster configuration file",
)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _load(config_path: str) -> ClusterConfig:
    try:
        return load_cluster_config(config_path)
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE)


def _run_client(config: ClusterConfig, action: Callable[[KvClient], Awaitable[T]]) -> T:

    async def go() -> T:
        urls = [n.client_url for n in config.cluster.nodes]
        async with KvClient(urls, config.read_token()) as client:
            return await action(client)

    try:
        return asyncio.run(go())
    except KvUnavailable as exc:
        _fail(str(exc), EXIT_UNAVAILABLE)
    except KvClientError as exc:
        _fail(str(exc), EXIT_USAGE if exc.status in (400, 401, 413) else EXIT_UNAVAILABLE)
    except CommonError as exc:
        _fail(str(exc), EXIT_USAGE)


def _print_reply(reply: KvReply, as_json: bool) -> None:
    if as_json:
        value = reply.value.decode(errors="replace") if reply.value is not None else None
        click.echo(json.dumps({"status": reply.status, "value": value, "index": reply.index}))
    elif reply.status == "ok":
        click.echo(reply.value.decode(errors="replace") if reply.value is not None else "OK")
    else:
        click.echo(reply.status.replace("_", " "), err=True)
    if reply.status != "ok":
        sys.exit(EXIT_NEGATIVE)


json_option = click.option("--json", "as_json", is_flag=True, help="machine-readable output")


@click.group()
def kv() -> None:
    """The replicated key-value store on Raft."""


@kv.command()
@click.option("--id", "node_id", required=True, help="this node's id in the configuration")
@config_option
@click.option("--log-json", is_flag=True, help="JSON log lines even on a terminal")
@click.option("--log-level", default="info", show_default=True)
def serve(node_id: str, config_path: str, log_json: bool, log_level: str) -> None:
    """Run one replica until SIGTERM or Ctrl-C."""
    from common.kv.server import open_data_dir
    from common.kv.server import serve as serve_node

    config = _load(config_path)
    setup_logging(log_level, json_lines=True if log_json else None)
    try:
        config.node(node_id)
        config.read_token()
        config.read_secret()
        data_dir = open_data_dir(config, node_id)
    except CommonError as exc:
        _fail(str(exc), EXIT_USAGE)
    with data_dir:
        code = run_until_signalled(lambda stop: serve_node(config, node_id, data_dir, stop))
    sys.exit(code)


@kv.command()
@click.argument("key")
@click.argument("value")
@config_option
@json_option
def put(key: str, value: str, config_path: str, as_json: bool) -> None:
    """Set KEY to VALUE."""
    _print_reply(_run_client(_load(config_path), lambda c: c.put(key, value.encode())), as_json)


@kv.command()
@click.argument("key")
@click.argument("value")
@config_option
@json_option
def append(key: str, value: str, config_path: str, as_json: bool) -> None:
    """Append VALUE to KEY (creating it if absent)."""
    _print_reply(_run_client(_load(config_path), lambda c: c.append(key, value.encode())), as_json)


@kv.command()
@click.argument("key")
@config_option
@click.option("--serializable", is_flag=True, help="read the nearest replica (may be stale)")
@json_option
def get(key: str, config_path: str, serializable: bool, as_json: bool) -> None:
    """Print the value of KEY (linearizable unless --serializable)."""
    reply = _run_client(_load(config_path), lambda c: c.get(key, linearizable=not serializable))
    _print_reply(reply, as_json)


@kv.command()
@click.argument("key")
@config_option
@json_option
def delete(key: str, config_path: str, as_json: bool) -> None:
    """Delete KEY."""
    _print_reply(_run_client(_load(config_path), lambda c: c.delete(key)), as_json)


@kv.command()
@click.argument("key")
@click.argument("new")
@click.option("--expected", help="the value KEY must hold now")
@click.option("--absent", is_flag=True, help="succeed only if KEY does not exist yet")
@config_option
@json_option
def cas(
    key: str, new: str, expected: str | None, absent: bool, config_path: str, as_json: bool
) -> None:
    """Set KEY to NEW only if it holds --expected now (or is --absent)."""
    if (expected is None) != absent:
        _fail("give --expected VALUE or --absent, not both or neither", EXIT_USAGE)
    want = None if absent else (expected or "").encode()
    _print_reply(_run_client(_load(config_path), lambda c: c.cas(key, want, new.encode())), as_json)


@kv.command()
@config_option
@json_option
def status(config_path: str, as_json: bool) -> None:
    """Show every node's role, term, leader and log positions."""
    config = _load(config_path)

    async def collect(client: KvClient) -> list[dict[str, Any]]:
        rows = []
        for node in config.cluster.nodes:
            try:
                rows.append(await client.status(node.client_url))
            except Exception as exc:  # a down node is a row in the table, not a failure
                rows.append({"id": node.id, "error": f"unreachable ({type(exc).__name__})"})
        return rows

    rows = _run_client(config, collect)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        if "error" in row:
            click.echo(f"{row['id']:<6} {row['error']}")
        else:
            click.echo(
                f"{row['id']:<6} {str(row['role']).lower():<10} term={row['term']:<4} "
                f"leader={row['leader'] or '-':<6} commit={row['commit']:<8} "
                f"applied={row['applied']:<8} last={row['last_index']}"
            )


@kv.command()
@click.argument("action", type=click.Choice(["add-learner", "promote", "remove"]))
@click.argument("node")
@config_option
def member(action: str, node: str, config_path: str) -> None:
    """Change membership one server at a time: add-learner, then promote; or remove."""
    body = {"action": action, "node": node}
    answer = _run_client(_load(config_path), lambda c: c.admin("/v1/members", body))
    conf = answer.get("conf") or {}
    click.echo(f"voters: {', '.join(conf.get('voters', []))}")
    click.echo(f"learners: {', '.join(conf.get('learners', [])) or '-'}")


@kv.command()
@click.argument("target")
@config_option
def transfer(target: str, config_path: str) -> None:
    """Hand leadership to TARGET (for maintenance of the current leader)."""
    answer = _run_client(_load(config_path), lambda c: c.admin("/v1/transfer", {"target": target}))
    click.echo(f"leader: {answer.get('leader') or 'election in progress'}")


@kv.command()
@click.option("--dir", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--nodes", default=3, show_default=True, type=click.IntRange(1, 15))
@click.option("--base-port", default=7100, show_default=True, type=click.IntRange(1024, 65000))
@click.option("--name", default="devnet", show_default=True)
def init(out_dir: str, nodes: int, base_port: int, name: str) -> None:
    """Write a cluster.toml with fresh secrets for NODES replicas on 127.0.0.1."""
    path = write_cluster_files(Path(out_dir), name=name, ports=consecutive_ports(nodes, base_port))
    click.echo(str(path))


__all__ = ["kv"]
