"""The `btcnode` command: a Bitcoin regtest node and its bitcoin-cli.

    btcnode run [--datadir DIR] [--p2p-port N] [--rpc-port N] [--connect HOST:PORT ...]
                [--addnode HOST:PORT ...] [--mine-to ADDRESS [--mine-interval S]]
                [--rpcuser U --rpcpassword P] [--walletdir DIR] [--par N] [--log-json]
    btcnode rpc [--datadir DIR] [--rpc-port N] [--rpcwait] METHOD [ARGS...]
    btcnode premine [--datadir DIR] --to ADDRESS [--height 101]
    btcnode scenario NAME|all [--keep] [--nodes-dir DIR]

`run` keeps a node running until SIGTERM or Ctrl-C (exit 0 after a clean shutdown; 2 for a
bad flag; 1 if the data directory is in use or the node failed). Its files are under
`<datadir>/regtest/` (see `btcnode.daemon.layout`). `premine` mines offline, on a stopped
node's data directory, until the chain reaches a height; run again it mines nothing.
`scenario` starts real nodes on free ports and narrates a fork, race or double-spend
(`btcnode.scenarios`).
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from btcnode.cli_rpc import rpc
from btcnode.consensus.params import REGTEST
from btcnode.daemon.layout import DEFAULT_DATADIR, network_dir
from btcnode.daemon.options import (
    DEFAULT_MINE_INTERVAL_S,
    DEFAULT_P2P_PORT,
    DEFAULT_RPC_PORT,
    MAX_PAR,
    NodeOptionError,
    decode_mine_to,
    node_options,
)
from btcnode.scenarios.command import scenario
from common.runtime import DataDir, DataDirError, setup_logging

__all__ = ["main"]

EXIT_FAILURE = 1
EXIT_USAGE = 2
DEFAULT_PREMINE_HEIGHT = 101  # the first coinbase matures at 101 (100 confirmations)
MAX_PREMINE_HEIGHT = 100_000  # a typo guard: minutes of mining, not hours


def _fail(text: str, code: int) -> NoReturn:
    click.echo(f"error: {' '.join(text.split())}", err=True)
    sys.exit(code)


def _open_datadir(datadir: str) -> DataDir:
    """Lock `<datadir>/regtest`, or exit with one line saying who holds it."""
    try:
        return DataDir(network_dir(datadir))
    except DataDirError as exc:
        _fail(f"{exc}; is another btcnode running on --datadir {datadir}?", EXIT_FAILURE)


@click.command("run")
@click.option("--datadir", default=DEFAULT_DATADIR, show_default=True)
@click.option("--p2p-port", default=DEFAULT_P2P_PORT, show_default=True, type=int)
@click.option("--rpc-port", default=DEFAULT_RPC_PORT, show_default=True, type=int)
@click.option("--connect", multiple=True, metavar="HOST:PORT", help="only connect to these")
@click.option("--addnode", multiple=True, metavar="HOST:PORT", help="also keep these connected")
@click.option("--mine-to", default=None, metavar="ADDRESS", help="mine a block periodically")
@click.option("--mine-interval", default=DEFAULT_MINE_INTERVAL_S, show_default=True, type=float)
@click.option("--rpcuser", default=None, help="an RPC login besides the cookie")
@click.option("--rpcpassword", default=None)
@click.option("--walletdir", default=None, help="wallet RPC's wallets [DATADIR/regtest/wallets]")
@click.option(
    "--par",
    default=None,
    type=int,
    help="script-checking processes in all (default: one per core; 1: no workers)",
)
@click.option("--log-json", is_flag=True, help="JSON log lines even on a terminal")
@click.option("--log-level", default="info", show_default=True)
def run(
    datadir: str,
    p2p_port: int,
    rpc_port: int,
    connect: tuple[str, ...],
    addnode: tuple[str, ...],
    mine_to: str | None,
    mine_interval: float,
    rpcuser: str | None,
    rpcpassword: str | None,
    walletdir: str | None,
    par: int | None,
    log_json: bool,
    log_level: str,
) -> None:
    """Run a regtest node until SIGTERM or Ctrl-C."""
    from btcnode.daemon.process import run_node  # aiohttp and the P2P stack: only here
    from common.runtime import run_until_signalled

    try:
        options = node_options(
            REGTEST,
            datadir=datadir,
            p2p_port=p2p_port,
            rpc_port=rpc_port,
            connect=connect,
            addnode=addnode,
            mine_to=mine_to,
            mine_interval_s=mine_interval,
            rpc_user=rpcuser,
            rpc_password=rpcpassword,
            par=par if par is not None else min(os.cpu_count() or 1, MAX_PAR),
            log_json=log_json,
            walletdir=walletdir,
        )
        setup_logging(log_level, json_lines=True if log_json else None)
    except (NodeOptionError, ValueError) as exc:
        _fail(str(exc), EXIT_USAGE)
    with _open_datadir(datadir) as locked:
        code = run_until_signalled(lambda stop: run_node(options, locked, stop))
    sys.exit(code)


@click.command("premine")
@click.option("--datadir", default=DEFAULT_DATADIR, show_default=True)
@click.option("--to", "address", required=True, metavar="ADDRESS", help="who the coinbases pay")
@click.option(
    "--height",
    default=DEFAULT_PREMINE_HEIGHT,
    show_default=True,
    type=click.IntRange(1, MAX_PREMINE_HEIGHT),
    help="mine until the chain is this high",
)
def premine(datadir: str, address: str, height: int) -> None:
    """Mine a stopped node's chain up to --height (nothing if it is there already)."""
    from btcnode.daemon.mining import premine as mine_up_to
    from btcnode.daemon.process import wall_clock
    from btcnode.daemon.services import NodeServices

    try:
        script = decode_mine_to(address, REGTEST)
    except NodeOptionError as exc:
        _fail(str(exc).replace("--mine-to", "--to", 1), EXIT_USAGE)
    with _open_datadir(datadir) as locked:
        services, _ = NodeServices.open(locked, REGTEST, par=1, now=wall_clock())
        try:
            mined = mine_up_to(services.node, script, height, wall_clock())
        finally:
            services.close()
    tip = services.chainstate.tip_height
    click.echo(f"chain at height {tip}; mined {len(mined)} block(s) to {address}")


@click.group()
@click.version_option(package_name="opentrust")
def main() -> None:
    """btcnode: a Bitcoin regtest node (run), its command-line client (rpc) and demos
    (scenario)."""


main.add_command(run)
main.add_command(rpc)
main.add_command(premine)
main.add_command(scenario)

if __name__ == "__main__":
    main()
