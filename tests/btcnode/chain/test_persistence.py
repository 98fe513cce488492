"""The chainstate on LevelDB: reopening, resuming an interrupted reorg, and kill -9 at random
moments while blocks connect and reorg."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from btcnode.chain import Chainstate, CorruptChainstate, SerialScriptChecker, queries
from btcnode.chain.flushing import FlushPolicy
from btcnode.chain.layout import TIP_KEY, coin_key
from btcnode.chain.scriptcheck import ScriptCheckSession
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import MAINNET, REGTEST
from btcnode.consensus.tx import OutPoint
from common.store import LevelStore
from common.store.api import WriteBatch
from tests.btcnode.chain.builder import (
    QUICK_REGTEST,
    ChainBuilder,
    feed,
    replay_stats,
    spend,
)

ROOT = Path(__file__).resolve().parents[3]
GENESIS = REGTEST.genesis.hash
KILL_ITERATIONS = 20
SEED = 20260521


def test_reopen_gives_the_same_tip_utxo_set_tips_and_flags(tmp_path: Path) -> None:
    builder = ChainBuilder()
    main = builder.chain(GENESIS, 5, tag=b"m")
    rival = builder.block(main[3].hash, tag=b"r")  # ties with main[4], seen second
    doomed = builder.chain(main[1].hash, 2, tag=b"d")
    with LevelStore(tmp_path / "db") as store:
        chainstate = Chainstate.open(store, REGTEST)
        feed(chainstate, [*main, rival, *doomed])
        chainstate.invalidate_block(doomed[0].hash)
        before = (chainstate.tip_hash, chainstate.utxo_stats(), chainstate.chain_tips())
        best = chainstate.best_header
    with LevelStore(tmp_path / "db") as store:
        chainstate = Chainstate.open(store, REGTEST)
        after = (chainstate.tip_hash, chainstate.utxo_stats(), chainstate.chain_tips())
        assert after == before
        assert chainstate.best_header == best
        assert not chainstate.activate_best_chain().changed  # the first-seen tip stays
        entry = chainstate.get_index(doomed[1].hash)
        assert entry is not None and entry.status.failed
        assert chainstate.utxo_stats() == replay_stats(chainstate)


class _CrashingChecker:
    """Checks serially, but the process "dies" (an exception) at the `crash_at`-th block."""

    def __init__(self, crash_at: int) -> None:
        self.calls = 0
        self.crash_at = crash_at

    def begin(self, flags: int) -> ScriptCheckSession:
        self.calls += 1
        if self.calls == self.crash_at:
            raise KeyboardInterrupt("simulated crash in the middle of a reorg")
        return SerialScriptChecker().begin(flags)


def test_an_interrupted_reorg_resumes_after_reopening(tmp_path: Path) -> None:
    builder = ChainBuilder(QUICK_REGTEST)
    a_chain = builder.chain(GENESIS, 4, tag=b"a")
    b_chain = builder.chain(a_chain[0].hash, 5, tag=b"b")
    coinbase = a_chain[0].txs[0]
    spender = spend([(coinbase.txid, 0)], [coinbase.vout[0].value - 1000])
    b_last = builder.block(b_chain[-1].hash, [spender], fees=1000, tag=b"b")
    with LevelStore(tmp_path / "db") as store:
        chainstate = Chainstate.open(store, QUICK_REGTEST)
        feed(chainstate, a_chain + b_chain[:3])
        chainstate._data.checker = _CrashingChecker(crash_at=4)
        with pytest.raises(KeyboardInterrupt):
            feed(chainstate, [b_chain[3], b_chain[4]])
    with LevelStore(tmp_path / "db") as store:
        chainstate = Chainstate.open(store, QUICK_REGTEST)
        # B2..B4 were connected, the crash came while connecting B5 (b_chain[3]).
        assert chainstate.tip_hash == b_chain[2].hash
        assert chainstate.utxo_stats() == replay_stats(chainstate)
        update = chainstate.activate_best_chain()
        assert update.connected == (b_chain[3],) and update.disconnected == ()
        assert chainstate.utxo_stats() == replay_stats(chainstate)
        feed(chainstate, [b_chain[4], b_last])
        assert chainstate.tip_hash == b_last.hash
        assert chainstate.utxo_stats() == replay_stats(chainstate)


def test_a_store_of_another_network_is_refused(tmp_path: Path) -> None:
    with LevelStore(tmp_path / "db") as store:
        Chainstate.open(store, REGTEST)
    with LevelStore(tmp_path / "db") as store, pytest.raises(ChainMisuse) as info:
        Chainstate.open(store, MAINNET)
    assert "mainnet" in str(info.value)


def test_a_tip_that_is_not_indexed_is_corruption(tmp_path: Path) -> None:
    with LevelStore(tmp_path / "db") as store:
        Chainstate.open(store, REGTEST)
        store.put(TIP_KEY, b"\x07" * 32, sync=True)
        with pytest.raises(CorruptChainstate) as info:
            Chainstate.open(store, REGTEST)
    assert "not a stored, indexed block" in str(info.value)


def _start_child(path: Path, seed: int, flush_every: int) -> subprocess.Popen[bytes]:
    module = "tests.btcnode.chain.crash_child"
    child = subprocess.Popen(
        [sys.executable, "-m", module, str(path), str(seed), str(flush_every)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != b"ready":
        child.kill()
        child.wait()
        raise AssertionError(f"child did not start: {line!r}")
    return child


def _check_consistent(path: Path) -> bool:
    """Open the store: its tip is a stored block, its UTXO set that of a replay from genesis
    of its active chain, before and after resuming the best chain. Returns whether the kill
    had interrupted a change of the chain (resuming moved the tip).

    The tip may be marked failed when the kill came between `invalidate_block` persisting
    its flags and disconnecting the blocks; resuming then moves off it.
    """
    with LevelStore(path) as store:
        chainstate = Chainstate.open(store, QUICK_REGTEST)
        tip = chainstate.get_index(chainstate.tip_hash)
        assert tip is not None and tip.status.have_data
        assert chainstate.get_block(chainstate.tip_hash) is not None
        assert chainstate.utxo_stats() == replay_stats(chainstate)
        update = chainstate.activate_best_chain()
        tip = chainstate.get_index(chainstate.tip_hash)
        assert tip is not None and not tip.status.failed
        assert chainstate.utxo_stats() == replay_stats(chainstate)
        return update.changed


@pytest.mark.parametrize("flush_every", [1, 3], ids=["flush-every-block", "write-back-cache"])
def test_kill_9_at_random_moments_leaves_a_consistent_chainstate(
    tmp_path: Path, flush_every: int
) -> None:
    """With a write-back cache (flush every 3 blocks) the store reopens at the last flushed
    tip, consistent, and resuming reconnects the stored blocks above it."""
    rng = random.Random(SEED)
    path = tmp_path / "db"
    interrupted = 0
    for iteration in range(KILL_ITERATIONS):
        child = _start_child(path, SEED + iteration, flush_every)
        time.sleep(rng.uniform(0.01, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL, f"SEED={SEED} iteration {iteration}"
        interrupted += _check_consistent(path)
    # Most kills land inside a reorg or an invalidation (about 3 in 4 when measured).
    assert interrupted > 0


def test_unflushed_blocks_are_reconnected_from_the_stored_blocks(tmp_path: Path) -> None:
    """Without a flush the store keeps the old tip and UTXO set; the raw blocks are stored,
    so resuming after reopening reaches the same tip and UTXO set."""
    builder = ChainBuilder(QUICK_REGTEST)
    blocks = builder.chain(QUICK_REGTEST.genesis.hash, 6, tag=b"w")
    never = FlushPolicy(every_blocks=0)
    with LevelStore(tmp_path / "db") as store:
        chainstate = Chainstate.open(store, QUICK_REGTEST, flush_policy=never)
        feed(chainstate, blocks[:2])
        chainstate.flush()
        feed(chainstate, blocks[2:])
        assert chainstate.unflushed_blocks == 4
        tip = chainstate.tip_hash
        stats = queries.utxo_stats(store, lambda _: 0)
        assert stats.tip_hash == blocks[1].hash  # the store was not touched past the flush
    with LevelStore(tmp_path / "db") as store:
        chainstate = Chainstate.open(store, QUICK_REGTEST, flush_policy=never)
        assert chainstate.tip_hash == blocks[1].hash
        assert chainstate.utxo_stats() == replay_stats(chainstate)
        assert chainstate.activate_best_chain().changed
        assert chainstate.tip_hash == tip
        assert chainstate.utxo_stats() == replay_stats(chainstate)


class _RecordingStore(LevelStore):
    """A `LevelStore` that remembers the keys of every batch written."""

    __slots__ = ("written",)

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.written: list[bytes] = []

    def write(self, batch: WriteBatch, *, sync: bool = False) -> None:
        self.written.extend(key for key, _ in batch)
        super().write(batch, sync=sync)


def test_a_coin_created_and_spent_between_flushes_never_reaches_the_store(
    tmp_path: Path,
) -> None:
    builder = ChainBuilder(QUICK_REGTEST)
    first = builder.block(QUICK_REGTEST.genesis.hash, tag=b"f")
    second = builder.block(first.hash, tag=b"s")
    value = first.txs[0].vout[0].value
    parent = spend([(first.txs[0].txid, 0)], [value - 1000])
    child = spend([(parent.txid, 0)], [value - 2000])
    third = builder.block(second.hash, [parent, child], fees=2000, tag=b"t")
    with _RecordingStore(tmp_path / "db") as store:
        policy = FlushPolicy(every_blocks=0)
        chainstate = Chainstate.open(store, QUICK_REGTEST, flush_policy=policy)
        feed(chainstate, [first, second])
        chainstate.flush()
        store.written.clear()
        feed(chainstate, [third])
        chainstate.flush()
        written = store.written
    created_and_spent = coin_key(OutPoint(parent.txid, 0))
    assert written and created_and_spent not in written
    assert coin_key(OutPoint(child.txid, 0)) in written
