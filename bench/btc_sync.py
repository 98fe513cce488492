"""`python -m bench btc-sync`: initial sync of one btcnode from another over P2P, against
validating the same chain from local files with no networking.

The chain (`bench._btc_chain`, the btc-validate layout): REGTEST, 101 setup blocks, then
2,000 blocks (100 with `--quick`) of 500 one-input transactions each, half spending P2PKH and
half P2WPKH outputs; generated once from seeded keys and cached under `bench/.cache/`.

The peer, measured first: the node's own services (`btcnode.daemon.services.NodeServices`,
exactly what `btcnode run` opens: the chainstate store, flush policy and script checker on
every core) in this process, fed the blocks from memory with `Node.submit_block`. This run
also builds node A's data directory.

Ours: node A (`btcnode run --par 1` on that directory; it only serves) and node B
(`btcnode run --connect A`, empty data directory, script checks on every core), as real
processes on 127.0.0.1. Timed from B's first RPC answer (its stores and checker are open) to
B's tip being A's: headers-first sync, block download and full validation over the wire.
Both rates count the measured blocks' inputs; the setup blocks are in both runs, untimed in
neither (they are 101 small blocks).

The last line compares P2P inputs/s with local inputs/s; target: ratio >= 0.8.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import _btc_chain
from btcnode.chain import ChainUpdate
from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST
from btcnode.daemon.layout import cookie_path, network_dir
from btcnode.daemon.options import MAX_PAR
from btcnode.daemon.services import NodeServices
from btcnode.rpc.auth import read_cookie
from btcnode.rpc.client import RpcError, RpcTransportError, SyncRpcClient
from common.devnet import spawn_logged, stop_processes
from common.runtime import DataDir

TXS_PER_BLOCK = 500  # the block shape
FULL_BLOCKS = 2000  # the chain length
QUICK_BLOCKS = 100  # a smoke run
TARGET_RATIO = 0.8  # the target: P2P sync at >= 80% of the local rate
START_TIMEOUT_S = 60.0  # a node's stores and checker open well within this
POLL_INTERVAL_S = 0.2  # how often B's height is read while it syncs
SYNC_TIMEOUT_S = 3600.0  # a sync slower than this is a failure, not a measurement


@dataclass(frozen=True, slots=True)
class Run:
    blocks: int
    inputs: int
    seconds: float

    @property
    def inputs_per_s(self) -> float:
        return self.inputs / self.seconds

    @property
    def blocks_per_s(self) -> float:
        return self.blocks / self.seconds


def _submit(services: NodeServices, raw: bytes, now: int) -> None:
    block = Block.deserialize(raw)
    update = services.node.submit_block(block, now, raw=raw)
    if not isinstance(update, ChainUpdate) or update.tip_hash != block.hash:
        error = update.rejection(block.hash) if isinstance(update, ChainUpdate) else update
        raise RuntimeError(f"block {block.header.hash_hex} did not become the tip: {error}")


def validate_locally(chain: _btc_chain.BenchChain, datadir: Path) -> Run:
    """The peer: every block through the node's own services, no networking."""
    now = _btc_chain.block_time(len(chain.setup) + len(chain.measured)) + 1
    with DataDir(network_dir(datadir)) as locked:
        par = min(os.cpu_count() or 1, MAX_PAR)  # `btcnode run`'s default, which B uses
        services, _ = NodeServices.open(locked, REGTEST, par=par, now=now)
        try:
            for raw in chain.setup:
                _submit(services, raw, now)
            started = time.perf_counter()
            for raw in chain.measured:
                _submit(services, raw, now)
            services.durable()
            seconds = time.perf_counter() - started
        finally:
            services.close()
    return Run(len(chain.measured), chain.measured_inputs, seconds)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class _Node:
    datadir: Path
    p2p_port: int
    rpc_port: int


def _spawn(node: _Node, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "btcnode.cli", "run", "--datadir", str(node.datadir)]
    cmd += ["--p2p-port", str(node.p2p_port), "--rpc-port", str(node.rpc_port), "--log-json"]
    node.datadir.mkdir(parents=True, exist_ok=True)
    return spawn_logged([*cmd, *extra], node.datadir / "node.log")


def _client_when_up(node: _Node, proc: subprocess.Popen[bytes]) -> SyncRpcClient:
    """An RPC client once the node answers; raises if it exits or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"node exited with {proc.returncode}; see {node.datadir}")
        with contextlib.suppress(FileNotFoundError, RpcError, RpcTransportError):
            credentials = read_cookie(cookie_path(node.datadir))
            client = SyncRpcClient(f"http://127.0.0.1:{node.rpc_port}/", credentials)
            client.call("getblockcount")
            return client
        time.sleep(POLL_INTERVAL_S)
    raise RuntimeError(f"node at {node.datadir} did not answer RPC in {START_TIMEOUT_S:g} s")


@contextlib.contextmanager
def _running(procs: dict[str, subprocess.Popen[bytes]]) -> Iterator[None]:
    try:
        yield
    finally:
        stop_processes(procs)


def sync_over_p2p(chain: _btc_chain.BenchChain, a_datadir: Path, root: Path) -> Run:
    """Ours: B syncs A's chain over P2P; timed from B's first RPC answer to its full tip."""
    a = _Node(a_datadir, _free_port(), _free_port())
    b = _Node(root / "b", _free_port(), _free_port())
    procs: dict[str, subprocess.Popen[bytes]] = {}
    with _running(procs):
        procs["a"] = _spawn(a, "--par", "1")
        tip = _client_when_up(a, procs["a"]).call("getblockcount")
        procs["b"] = _spawn(b, "--connect", f"127.0.0.1:{a.p2p_port}")
        client = _client_when_up(b, procs["b"])
        started = time.perf_counter()
        while (height := client.call("getblockcount")) < tip:
            if procs["b"].poll() is not None or time.perf_counter() - started > SYNC_TIMEOUT_S:
                raise RuntimeError(f"B stopped at height {height} of {tip}; see {b.datadir}")
            time.sleep(POLL_INTERVAL_S)
        seconds = time.perf_counter() - started
    return Run(len(chain.measured), chain.measured_inputs, seconds)


def _table(chain: _btc_chain.BenchChain, ours: Run, peer: Run, generation: str) -> Table:
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
    started = time.perf_counter()
    chain, generated = _btc_chain.load_or_generate(TXS_PER_BLOCK, blocks)
    spent = time.perf_counter() - started
    generation = f"generated in {spent:.0f} s" if generated else f"cached, read in {spent:.1f} s"
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
