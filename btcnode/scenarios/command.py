"""`btcnode scenario NAME`: run a scenario with real nodes and tell what happened.

NAME is one of `SCENARIOS` or `all`. Each scenario starts its nodes in a fresh directory
under --nodes-dir (the system's temporary directory by default), prints each step as it
starts, then the story with its figures (and, for private-chain, the hash-share table).
The directory is removed after a success unless --keep; after a failure it is kept, the
tail of every node's log is printed, and the last line says what went wrong (exit 1).
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from btcnode.scenarios.errors import ScenarioError
from btcnode.scenarios.harness import Progress
from btcnode.scenarios.mining_race import run_mining_race
from btcnode.scenarios.narrative import hash_share_cells, narrate
from btcnode.scenarios.partition import run_partition_heal
from btcnode.scenarios.private_chain import DEFAULT_RUNS, DEFAULT_SEED, run_private_chain
from btcnode.scenarios.race_attack import run_race_attack
from btcnode.scenarios.replace_by_fee import run_replace_by_fee
from btcnode.scenarios.results import PrivateChainResult, ScenarioResult

__all__ = ["SCENARIOS", "scenario"]

EXIT_FAILURE = 1
MAX_RUNS = 1_000_000  # races per table cell; a million take minutes
Runner = Callable[..., ScenarioResult]  # (root, *, progress, par) -> result

SCENARIOS: dict[str, Runner] = {
    "mining-race": run_mining_race,
    "race-attack": run_race_attack,
    "replace-by-fee": run_replace_by_fee,
    "private-chain": run_private_chain,
    "partition-heal": run_partition_heal,
}


def _print_result(console: Console, result: ScenarioResult) -> None:
    *story, elapsed = narrate(result)
    for line in story:
        console.print(line, highlight=False, markup=False)
    if isinstance(result, PrivateChainResult):
        header, *rows = hash_share_cells(result.hash_shares)
        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    console.print(elapsed, highlight=False, markup=False)


def _run_one(
    console: Console, name: str, runner: Runner, nodes_dir: Path | None, keep: bool
) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"btcnode-{name}-", dir=nodes_dir))
    console.rule(name)

    def progress(step: str) -> None:
        console.print(f"· {step}", style="dim", highlight=False, markup=False)

    show: Progress = progress
    try:
        result = runner(root, progress=show)
    except ScenarioError as err:
        for note in getattr(err, "__notes__", ()):
            click.echo(note, err=True)
        click.echo(f"logs kept in {root}", err=True)
        click.echo(f"error: {name}: {' '.join(str(err).split())}", err=True)
        sys.exit(EXIT_FAILURE)
    _print_result(console, result)
    if keep:
        console.print(f"node directories kept in {root}", highlight=False, markup=False)
    else:
        shutil.rmtree(root, ignore_errors=True)


@click.command("scenario")
@click.argument("name", type=click.Choice([*SCENARIOS, "all"]))
@click.option("--keep", is_flag=True, help="keep the nodes' data directories and logs")
@click.option(
    "--nodes-dir",
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    default=None,
    help="where the node directories go (default: the temporary directory)",
)
@click.option(
    "--runs",
    type=click.IntRange(1, MAX_RUNS),
    default=DEFAULT_RUNS,
    show_default=True,
    help="private-chain: seeded races per cell of the hash-share table",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
def scenario(name: str, keep: bool, nodes_dir: Path | None, runs: int, seed: int) -> None:
    """Run a fork, reorg or double-spend scenario with real regtest nodes on 127.0.0.1."""
    if nodes_dir is not None:
        nodes_dir.mkdir(parents=True, exist_ok=True)
    runners = dict(SCENARIOS)
    runners["private-chain"] = functools.partial(run_private_chain, runs=runs, seed=seed)
    console = Console()
    for chosen in runners if name == "all" else [name]:
        _run_one(console, chosen, runners[chosen], nodes_dir, keep)


if __name__ == "__main__":
    scenario()
