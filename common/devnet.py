"""`opentrust devnet`: start a local network of every component that exists, on 127.0.0.1.

Today that is a 3-node Raft KV cluster. Configuration and secrets are written once under the
data directory and reused, so a restarted devnet keeps its data. Ctrl-C (or SIGTERM) stops
every process with SIGTERM and waits for it; a process that does not stop in time is killed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from common.kv.config import consecutive_ports, load_cluster_config, write_cluster_files

STOP_GRACE_S = 10.0  # how long a peer gets to shut down cleanly before SIGKILL
DEVNET_KV_BASE_PORT = 7100


def spawn_kv_replica(
    config_path: Path, node_id: str, log_path: Path, *extra_args: str
) -> subprocess.Popen[bytes]:
    """Start `opentrust kv serve` for `node_id`, appending its output (JSON lines) to log_path."""
    cmd = [sys.executable, "-m", "common.cli", "kv", "serve", "--id", node_id]
    cmd += ["--config", str(config_path), "--log-json", *extra_args]
    with log_path.open("ab") as log_file:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)


def _stop_all(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            click.echo(f"{name} did not stop in {STOP_GRACE_S:g} s; killing it", err=True)
            proc.kill()
            proc.wait()


def _print_banner(config_path: Path, log_dir: Path) -> None:
    config = load_cluster_config(config_path)
    click.echo("opentrust devnet is running:\n")
    click.echo("  component  node  client API                 peer port")
    for node in config.cluster.nodes:
        click.echo(f"  raft-kv    {node.id:<5} {node.client_url:<26} {node.peer_port}")
    click.echo(f"\n  config: {config_path}\n  logs:   {log_dir}/\n")
    click.echo("Try:")
    click.echo(f"  .venv/bin/opentrust kv put greeting hello --config {config_path}")
    click.echo(f"  .venv/bin/opentrust kv get greeting --config {config_path}")
    click.echo(f"  .venv/bin/opentrust kv status --config {config_path}")
    click.echo("\nCtrl-C stops everything.")


@click.command()
@click.option("--data-dir", default="./devnet-data", show_default=True, type=click.Path())
@click.option("--kv-nodes", default=3, show_default=True, type=click.IntRange(1, 7))
@click.option(
    "--base-port",
    default=DEVNET_KV_BASE_PORT,
    show_default=True,
    type=click.IntRange(1024, 65000),
    help="KV peer ports are base+1.., client ports base+101.. (on first start)",
)
def devnet(data_dir: str, kv_nodes: int, base_port: int) -> None:
    """Run a local network of opentrust peers until Ctrl-C."""
    root = Path(data_dir).resolve()
    log_dir = root / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    ports = consecutive_ports(kv_nodes, base_port)
    config_path = write_cluster_files(root / "kv", name="devnet", ports=ports)
    config = load_cluster_config(config_path)
    procs = {
        f"kv-{n.id}": spawn_kv_replica(config_path, n.id, log_dir / f"kv-{n.id}.log")
        for n in config.cluster.nodes
    }
    stop_requested = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    _print_banner(config_path, log_dir)
    try:
        while not stop_requested:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    click.echo(
                        f"{name} exited with code {proc.returncode}; see {log_dir}", err=True
                    )
                    stop_requested = True
            time.sleep(0.2)
    finally:
        click.echo("stopping devnet ...")
        _stop_all(procs)
        click.echo("devnet stopped.")


__all__ = ["devnet", "spawn_kv_replica"]
