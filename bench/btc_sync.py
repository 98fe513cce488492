"""`python -m bench btc-sync`: initial sync of one btcnode from another over P2P, against
validating the same chain from local files with no networking.

The chain (`bench._btc_chain`, the btc-validate layout): REGTEST, 101 setup blocks, then
2,000 blocks (100 with `--quick`) of 500 one-input transactions each, half spending P2PKH and
half P2WPKH outputs; generated once from seeded keys and cached under `bench/.cache/`.

The peer, measured first: the node's own services (`btcnode.daemon.services.NodeServices`,
exactly what `btcnode run` opens: the chainstate store, flush policy and script checker on
every core, and the node's garbage-collector policy while syncing) in this process, fed the
blocks from memory with `Node.submit_block`. This run also builds node A's data directory.

Ours: node A (`btcnode run --par 1` on that directory; it only serves) and node B (an empty
data directory, script checks on every core), as real processes on 127.0.0.1 started by the
scenario harness. Once both answer RPC, B is told to connect to A (`addnode onetry`); timed
from then to B's tip being A's: handshake, headers-first sync, block download and full
validation over the wire.
Both rates count the measured blocks' inputs; the setup blocks are in both runs, untimed in
neither (they are 101 small blocks).

The last line compares P2P inputs/s with local inputs/s; target: ratio >= 0.8.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import _btc_chain
from bench._btc_measure import Throughput
from btcnode.chain import ChainUpdate
from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST
from btcnode.daemon.gcpolicy import SyncGc
from btcnode.daemon.layout import network_dir
from btcnode.daemon.options import MAX_PAR
from btcnode.daemon.services import NodeServices
from btcnode.scenarios.harness import Cluster, NodeProcess
from btcnode.scenarios.waits import wait_until
from common.runtime import DataDir

TXS_PER_BLOCK = 500  # the block shape
FULL_BLOCKS = 2000  # the chain length
QUICK_BLOCKS = 100  # a smoke run
TARGET_RATIO = 0.8  # the target: P2P sync at >= 80% of the local rate
SYNC_TIMEOUT_S = 3600.0  # a sync slower than this is a failure, not a measurement


def _submit(services: NodeServices, raw: bytes, now: int) -> None:
    block = Block.deserialize(raw)
    update = services.node.submit_block(block, now, raw=raw)
    if not isinstance(update, ChainUpdate) or update.tip_hash != block.hash:
        error = update.rejection(block.hash) if isinstance(update, ChainUpdate) else update
        raise RuntimeError(f"block {block.header.hash_hex} did not become the tip: {error}")


def default_par() -> int:
    """`btcnode run`'s default --par: one script-checking process per core."""
    return min(os.cpu_count() or 1, MAX_PAR)


def validate_locally(chain: _btc_chain.BenchChain, datadir: Path) -> Throughput:
    """The peer: every block through the node's own services, no networking."""
    now = _btc_chain.block_time(len(chain.setup) + len(chain.measured)) + 1
    with DataDir(network_dir(datadir)) as locked:
        services, _ = NodeServices.open(locked, REGTEST, par=default_par(), now=now)
        sync_gc = SyncGc(lambda: False)  # what `btcnode run` does while behind its headers
        services.node.subscribe(sync_gc.on_node_event)
        try:
            for raw in chain.setup:
                _submit(services, raw, now)
            started = time.perf_counter()
            for raw in chain.measured:
                _submit(services, raw, now)
            services.durable()
            seconds = time.perf_counter() - started
        finally:
            sync_gc.close()
            services.close()
    return Throughput(len(chain.measured), chain.measured_inputs, seconds)


def sync_over_p2p(chain: _btc_chain.BenchChain, a_datadir: Path, root: Path) -> Throughput:
    """Ours: B syncs A's chain over P2P; timed from B's first RPC answer to its full tip.

    A must live at `root / "a"` (the scenario harness's layout); B is made at `root / "b"`.
    A only serves (`--par 1`); B checks scripts on every core, as the local run did."""
    if a_datadir != root / "a":
        raise ValueError(f"node A must be at {root / 'a'}, not {a_datadir}")
    with Cluster(root, ["a", "b"]) as nodes:
        nodes["a"].spawn(par=1)
        tip = nodes["a"].wait_ready()
        nodes["b"].spawn(par=default_par())
        nodes["b"].wait_ready()
        started = time.perf_counter()
        nodes.link("b", "a")
        wait_until(
            f"node b syncing to height {tip}",
            lambda: _height_while_running(nodes["b"]),
            lambda height: height >= tip,
            timeout_s=SYNC_TIMEOUT_S,
        )
        seconds = time.perf_counter() - started
    return Throughput(len(chain.measured), chain.measured_inputs, seconds)


def _height_while_running(node: NodeProcess) -> int:
    code = node.exited()
    if code is not None:
        raise RuntimeError(f"node {node.name} exited with {code}:\n{node.log_tail()}")
    return int(node.call("getblockcount"))


def _table(
    chain: _btc_chain.BenchChain, ours: Throughput, peer: Throughput, generation: str
) -> Table:
    table = Table(
        title=(
            f"btc-sync: {ours.blocks:,} blocks x {chain.chains} txs, {ours.inputs:,} inputs "
            "(half P2PKH, half P2WPKH), 2 btcnodes on 127.0.0.1"
        )
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row(
        "ours: P2P sync, inputs/s",
        f"{ours.inputs_per_s:,.0f}",
        f"{ours.seconds:.1f} s, {ours.blocks_per_s:,.1f} blocks/s, headers-first from A",
    )
    table.add_row(
        "peer: local, inputs/s",
        f"{peer.inputs_per_s:,.0f}",
        f"{peer.seconds:.1f} s, {peer.blocks_per_s:,.1f} blocks/s, same services, no network",
    )
    table.add_row(
        "ratio", f"{ours.inputs_per_s / peer.inputs_per_s:.2f}", f"target >= {TARGET_RATIO}"
    )
    table.add_row("chain", generation, str(_btc_chain.CACHE_DIR))
    return table


def run(quick: bool = False) -> None:
    blocks = QUICK_BLOCKS if quick else FULL_BLOCKS
    chain, generation = _btc_chain.load_described(
        functools.partial(_btc_chain.load_or_generate, TXS_PER_BLOCK, blocks)
    )
    with tempfile.TemporaryDirectory(prefix="bench-btc-sync-") as tmp:
        root = Path(tmp)
        peer = validate_locally(chain, root / "a")
        ours = sync_over_p2p(chain, root / "a", root)
    Console(width=130).print(_table(chain, ours, peer, generation))
    ratio = ours.inputs_per_s / peer.inputs_per_s
    print(
        f"RESULT name=btc-sync ours={ours.inputs_per_s:.0f} peer={peer.inputs_per_s:.0f} "
        f"ratio={ratio:.2f} unit=inputs/s"
    )
