"""`python -m bench btc-validate`: full block validation from scratch, against libsecp256k1's
raw signature-check rate on one core.

The chain (`bench._btc_chain`): REGTEST, 101 setup blocks (coinbases, then a fan-out of 2,000
coins), then 200 measured blocks (20 with `--quick`) of 2,000 one-input, two-output
transactions each, half spending P2PKH and half P2WPKH outputs. It is generated once from
seeded keys and fixed times and cached under `bench/.cache/`.

Measured, ours: a fresh chainstate on LevelDB in a temporary directory (opened with the
chainstate's memtable size, `CHAINSTATE_WRITE_BUFFER_BYTES`), the parallel script
checker on every core (`ParallelScriptChecker()`: one worker per core but one, plus the
calling process). The setup blocks are connected first, untimed. Timed: for each measured
block, `Block.deserialize` of its bytes and `Chainstate.process_block` with every check
(header and proof of work, CheckBlock, ContextualCheckBlock, inputs, amounts, sigops, BIP68,
every script with the block's flags), the raw bytes handed along (`raw=`) so nothing is
serialized again, and the flushes of the write-back coin cache an initial sync would do:
every `IBD_FLUSH_BLOCKS` blocks and once at the end, each one synced batch of coins, undo
data and tip (the cache budget is Core's default dbcache, `IBD_MAX_CACHE_BYTES`, so it
never forces a flush sooner). Each block after the first is decoded while the worker checks
its predecessor's scripts (`ParallelScriptChecker.meanwhile`: the parent's next step overlaps
the checks instead of following them, as an initial sync with blocks queued can do).
Reported in blocks/s and inputs/s, with the time split into parse (CPU time, mostly
overlapped), the rest, and flush.

The collector is handled as `btcnode run` handles it while syncing
(`btcnode.daemon.gcpolicy.SyncGc`): frozen after each block, so the long-lived objects a block
leaves behind (cached coins, undo data, index entries) are not walked again by every later
collection; given back and collected once at the end.

The peer, measured in the same run: coincurve's libsecp256k1 verification on one core over
the exact (pubkey, DER signature, sighash) triples of the measured inputs
(`bench._btc_measure.peer_verify`). Also reported: parse and txid time of a block of exactly
1,000,000 bytes built from the benchmark's transactions.

The last line compares inputs/s with verifications/s; target: ratio >= 1.3 on 2 cores.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import _btc_chain, _btc_measure
from btcnode.chain import CHAINSTATE_WRITE_BUFFER_BYTES, Chainstate, ChainUpdate
from btcnode.chain.flushing import IBD_FLUSH_BLOCKS, IBD_MAX_CACHE_BYTES, FlushPolicy
from btcnode.chain.parallel import ParallelScriptChecker
from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST
from btcnode.daemon.gcpolicy import SyncGc
from common.store import LevelStore

TXS_PER_BLOCK = 2000  # the block shape
FULL_BLOCKS = 200  # the measured chain length
QUICK_BLOCKS = 20  # a smoke run
TARGET_RATIO = 1.3  # the target on a 2-core machine


@dataclass(frozen=True, slots=True)
class Validation(_btc_measure.Throughput):
    setup_seconds: float
    workers: int
    parse_seconds: float
    flush_seconds: float


def _connect(chainstate: Chainstate, block: Block, raw: bytes, now: int) -> None:
    """Process one parsed block; it must become the tip. A block refused by a rule raises
    that rule's `BlockValidationError` (Core's reject reason), anything else `RuntimeError`."""
    update = chainstate.process_block(block, now, raw=raw)
    if isinstance(update, ChainUpdate) and update.tip_hash == block.hash:
        return
    if isinstance(update, ChainUpdate) and (error := update.rejection(block.hash)) is not None:
        raise error
    raise RuntimeError(f"block {block.header.hash_hex} did not become the tip: {update}")


@dataclass(slots=True)
class _Split:
    parse: float = 0.0
    flush: float = 0.0


class _Decoder:
    """Decodes blocks ahead: `decode_next` is the work the checker runs while its workers
    check the current block's scripts (`ParallelScriptChecker.meanwhile`)."""

    __slots__ = ("_blocks", "_decoded", "_split")

    def __init__(self, blocks: list[bytes], split: _Split) -> None:
        self._blocks = blocks
        self._split = split
        self._decoded: dict[int, Block] = {}

    def block(self, index: int) -> Block:
        if index not in self._decoded:
            self.decode(index)
        return self._decoded.pop(index)

    def decode(self, index: int) -> None:
        if index < len(self._blocks) and index not in self._decoded:
            started = time.perf_counter()
            self._decoded[index] = Block.deserialize(self._blocks[index])
            self._split.parse += time.perf_counter() - started


def _timed_blocks(
    chainstate: Chainstate,
    checker: ParallelScriptChecker,
    blocks: list[bytes],
    now: int,
    split: _Split,
    sync_gc: SyncGc,
) -> None:
    """Parse and connect `blocks`, flushing every `IBD_FLUSH_BLOCKS` and at the end; each
    block after the first is decoded while the workers check its predecessor's scripts; the
    collector is frozen after each block, as `btcnode run` does while syncing."""
    decoder = _Decoder(blocks, split)
    for index, raw in enumerate(blocks):
        block = decoder.block(index)
        with checker.meanwhile(functools.partial(decoder.decode, index + 1)):
            _connect(chainstate, block, raw, now)
        sync_gc.tip_changed(syncing=True)
        count = index + 1
        if count % IBD_FLUSH_BLOCKS == 0 or count == len(blocks):
            started = time.perf_counter()
            chainstate.flush()
            split.flush += time.perf_counter() - started


def validate(chain: _btc_chain.BenchChain, workers: int | None = None) -> Validation:
    """Connect the whole chain to a fresh LevelDB chainstate; time the measured blocks."""
    now = _btc_chain.block_time(len(chain.setup) + len(chain.measured)) + 1
    # Flushed here, as an initial sync would, within the initial sync's cache budget.
    policy = FlushPolicy(every_blocks=0, max_cache_bytes=IBD_MAX_CACHE_BYTES)
    with (
        tempfile.TemporaryDirectory(prefix="bench-btc-validate-") as tmp,
        ParallelScriptChecker(workers) as checker,
        LevelStore(
            Path(tmp) / "chainstate", write_buffer_bytes=CHAINSTATE_WRITE_BUFFER_BYTES
        ) as store,
    ):
        chainstate = Chainstate.open(store, REGTEST, checker=checker, flush_policy=policy)
        sync_gc = SyncGc(lambda: False)
        try:
            started = time.perf_counter()
            _timed_blocks(chainstate, checker, list(chain.setup), now, _Split(), sync_gc)
            setup_seconds = time.perf_counter() - started
            split = _Split()
            started = time.perf_counter()
            _timed_blocks(chainstate, checker, list(chain.measured), now, split, sync_gc)
            seconds = time.perf_counter() - started
        finally:
            sync_gc.close()
        return Validation(
            len(chain.measured),
            chain.measured_inputs,
            seconds,
            setup_seconds,
            checker.workers,
            split.parse,
            split.flush,
        )


def _table(
    chain: _btc_chain.BenchChain,
    ours: Validation,
    peer: _btc_measure.Rate,
    parse: tuple[float, int],
    generation: str,
) -> Table:
    table = Table(
        title=(
            f"btc-validate: {ours.blocks} blocks x {chain.chains:,} txs, {ours.inputs:,} inputs "
            "(half P2PKH, half P2WPKH), fresh LevelDB chainstate"
        )
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row(
        "ours: blocks/s", f"{ours.blocks_per_s:,.2f}", f"{ours.seconds:.1f} s, all checks"
    )
    table.add_row(
        "ours: inputs/s",
        f"{ours.inputs_per_s:,.0f}",
        f"parallel checker: {ours.workers} workers + the caller",
    )
    connect = ours.seconds - ours.parse_seconds - ours.flush_seconds
    table.add_row(
        "ours: time split",
        f"{ours.parse_seconds:.1f} / {connect:.1f} / {ours.flush_seconds:.2f} s",
        f"parse (CPU; mostly while the worker checks) / the rest / flush every "
        f"{IBD_FLUSH_BLOCKS} blocks + at end",
    )
    table.add_row(
        "peer: verifies/s", f"{peer.per_s:,.0f}", "coincurve PublicKey(..).verify, one core"
    )
    table.add_row("ratio", f"{ours.inputs_per_s / peer.per_s:.2f}", f"target >= {TARGET_RATIO}")
    seconds, txs = parse
    table.add_row(
        "parse + txids, 1,000,000-byte block",
        f"{seconds * 1000:,.1f} ms",
        f"{txs:,} txs, {1 / seconds:,.1f} MB/s",
    )
    table.add_row("setup blocks", f"{ours.setup_seconds:.1f} s", "101 blocks, untimed above")
    table.add_row("chain", generation, str(_btc_chain.CACHE_DIR))
    return table


def run(quick: bool = False) -> None:
    blocks = QUICK_BLOCKS if quick else FULL_BLOCKS
    chain, generation = _btc_chain.load_described(
        functools.partial(_btc_chain.load_or_generate, TXS_PER_BLOCK, blocks)
    )
    ours = validate(chain)
    peer = _btc_measure.peer_verify(chain.triples)
    parse = _btc_measure.parse_block(_btc_measure.million_byte_block(chain.measured))
    console = Console(width=120)  # one line per row, also when output is not a terminal
    console.print(_table(chain, ours, peer, parse, generation))
    console.print(f"(cores: {os.cpu_count()})")
    ratio = ours.inputs_per_s / peer.per_s
    print(
        f"RESULT name=btc-validate ours={ours.inputs_per_s:.0f} peer={peer.per_s:.0f} "
        f"ratio={ratio:.2f} unit=inputs/s"
    )
