"""`python -m bench wallet`: restoring a wallet from its mnemonic and rescanning a node's
whole chain, against the floor of a plain scan of the same blocks.

The chain (`bench._wallet_chain`): REGTEST, 101 setup blocks, then 1,000 blocks (50 with
`--quick`) of 200 transactions each, 5 a block paying or spending the benchmark wallet
(BIP84 account 0 of BIP39's public all-"abandon" mnemonic): 200,000 transactions, 5,000
the wallet's. Generated once from seeded keys and cached under `bench/.cache/`; its data
directory is built untimed with the node's own services (`btc_sync.validate_locally`), then
node A (`btcnode run --par 1`) serves it on 127.0.0.1.

Both measurements read every block from genesis to the tip from A over the same JSON-RPC
(`getblockhash` then `getblock HASH 0`), so both rates count the same blocks:

- peer, the floor: decode each block with btcnode's decoder and look every output's
  scriptPubKey up in a set of the wallet's scripts (the addresses a finished rescan
  watches, derived beforehand, untimed); no wallet state at all;
- ours: `Wallet.restore` (mnemonic to seed, keystore written with scrypt at the small
  `BENCH_SCRYPT` so key stretching does not dominate, addresses derived) then
  `wallet.sync(node)` from height 0, timed from the start of restore to the end of sync.
  The result is then checked against what the generator wrote (balance, history entries,
  unspent coins): a rescan that finds the wrong transactions fails the benchmark.

The last line compares ours with the floor in blocks/s; target: ratio >= 0.7.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import _btc_chain, _wallet_chain, btc_sync
from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST
from btcnode.consensus.tx import OutPoint
from btcnode.daemon.layout import cookie_path
from btcnode.rpc import SyncRpcClient, read_cookie
from btcnode.scenarios import Cluster
from wallets.keystore import DEFAULT_SCRYPT, ScryptParams
from wallets.wallet import Balance, HistoryEntry, NodeClient, Wallet, WalletCoin

TXS_PER_BLOCK = 200  # the block shape
WALLET_PER_BLOCK = 5  # 5,000 of 200,000 transactions are the wallet's
FULL_BLOCKS = 1000  # the chain length
QUICK_BLOCKS = 50  # a smoke run: 10,000 transactions, 250 the wallet's
TARGET_RATIO = 0.7  # the target: a rescan at >= 70% of the plain scan's rate
RPC_TIMEOUT_S = 120.0  # one getblock of a 200-transaction block answers well within this
BENCH_SCRYPT = ScryptParams(n=2**10, r=8, p=1)  # 1 MiB, milliseconds: the scan is measured
PASSWORD = "opentrust wallet-rescan"
NODE = "a"


@dataclass(frozen=True, slots=True)
class FloorScan:
    """The plain scan: blocks read and decoded, and the outputs that pay the wallet."""

    blocks: int
    seconds: float
    found: tuple[OutPoint, ...]

    @property
    def blocks_per_s(self) -> float:
        return self.blocks / self.seconds


def serve_datadir(chain: _wallet_chain.WalletChain, datadir: Path) -> None:
    """Node A's data directory: every block through the node's own services (untimed)."""
    as_bench_chain = _btc_chain.BenchChain(chain.txs_per_block, chain.setup, chain.measured, ())
    btc_sync.validate_locally(as_bench_chain, datadir)


@contextlib.contextmanager
def serving(chain: _wallet_chain.WalletChain, root: Path) -> Iterator[SyncRpcClient]:
    """Node A on `chain` under `root/a`, as a real `btcnode run --par 1` process; stopped
    on leaving the block."""
    with Cluster(root, [NODE], par=1) as cluster:
        node = cluster[NODE]
        serve_datadir(chain, node.datadir)
        cluster.start()
        if (height := node.call("getblockcount")) != chain.height:
            raise RuntimeError(f"node A holds {height} blocks, the chain {chain.height}")
        url = f"http://127.0.0.1:{node.rpc_port}/"
        yield SyncRpcClient(
            url, read_cookie(cookie_path(node.datadir)), timeout_seconds=RPC_TIMEOUT_S
        )


def fetch_block(node: NodeClient, height: int) -> Block:
    """The block at `height`, as a wallet rescanning over RPC reads it."""
    block_hash = node.call("getblockhash", height)
    return Block.deserialize(bytes.fromhex(node.call("getblock", block_hash, 0)))


def scan_floor(node: NodeClient, scripts: frozenset[bytes]) -> FloorScan:
    """The peer: every block from genesis to the tip, every output looked up in `scripts`."""
    started = time.perf_counter()
    tip = node.call("getblockcount")
    found: list[OutPoint] = []
    for height in range(tip + 1):
        for tx in fetch_block(node, height).txs:
            for n, out in enumerate(tx.vout):
                if out.script_pubkey in scripts:
                    found.append(OutPoint(tx.txid, n))
    return FloorScan(tip + 1, time.perf_counter() - started, tuple(found))


def check_floor(scan: FloorScan, expected: _wallet_chain.WalletExpectation) -> None:
    """The floor found exactly the generated receives, or it measured the wrong thing."""
    generated = [OutPoint(r.txid, r.vout) for r in expected.receives]
    if sorted(scan.found, key=str) != sorted(generated, key=str):
        raise RuntimeError(
            f"the plain scan found {len(scan.found)} wallet outputs, "
            f"the generator wrote {len(generated)}"
        )


@dataclass(frozen=True, slots=True)
class Rescan:
    """Ours: restore + sync timed together, and what the wallet shows afterwards."""

    blocks: int
    seconds: float
    restore_seconds: float
    blocks_scanned: int
    balance: Balance
    history: tuple[HistoryEntry, ...]
    unspent: tuple[WalletCoin, ...]

    @property
    def blocks_per_s(self) -> float:
        return self.blocks / self.seconds


def rescan(node: NodeClient, wallet_dir: Path, kdf: ScryptParams = BENCH_SCRYPT) -> Rescan:
    """Ours: the benchmark wallet restored into `wallet_dir` and synced from block 0."""
    blocks = node.call("getblockcount") + 1
    started = time.perf_counter()
    with Wallet.restore(wallet_dir, REGTEST, _wallet_chain.MNEMONIC, PASSWORD, kdf=kdf) as wallet:
        restored = time.perf_counter()
        report = wallet.sync(node)
        seconds = time.perf_counter() - started
        history, unspent = tuple(wallet.history()), tuple(wallet.list_unspent())
        balance = wallet.balance()
    return Rescan(
        blocks, seconds, restored - started, report.blocks_scanned, balance, history, unspent
    )


class RescanMismatch(RuntimeError):
    """The wallet's view after the rescan is not what the generator wrote."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the rescan found the wrong wallet: " + "; ".join(problems))
        self.problems = problems


def _expected_history(expected: _wallet_chain.WalletExpectation) -> dict[bytes, tuple[int, int]]:
    """txid -> (height, change of the balance) of every generated wallet transaction."""
    entries = {r.txid: (r.height, r.value) for r in expected.receives}
    entries.update((s.txid, (s.height, -s.value)) for s in expected.spends)
    return entries


def rescan_problems(ours: Rescan, expected: _wallet_chain.WalletExpectation) -> list[str]:
    """How the wallet's history, balance and coins differ from the generated ones."""
    problems = []
    if ours.blocks_scanned != ours.blocks:
        problems.append(f"scanned {ours.blocks_scanned} blocks of {ours.blocks}")
    history = {h.txid: (h.height, h.amount) for h in ours.history}
    want = _expected_history(expected)
    if len(ours.history) != len(want) or history != want:
        missing, extra = want.keys() - history.keys(), history.keys() - want.keys()
        wrong = sum(1 for t in want.keys() & history.keys() if want[t] != history[t])
        problems.append(
            f"{len(ours.history)} history entries for {len(want)} generated "
            f"({len(missing)} missing, {len(extra)} extra, {wrong} with a wrong height or amount)"
        )
    balance = (ours.balance.confirmed, ours.balance.unconfirmed, ours.balance.immature)
    if balance != (expected.balance, 0, 0):
        problems.append(
            f"balance {balance} (confirmed, unconfirmed, immature), want {expected.balance}"
        )
    unspent = [coin.outpoint for coin in ours.unspent]
    if len(unspent) != len(expected.unspent) or set(unspent) != expected.unspent:
        problems.append(f"{len(unspent)} unspent coins, want {len(expected.unspent)}")
    return problems


def check_rescan(ours: Rescan, expected: _wallet_chain.WalletExpectation) -> None:
    if problems := rescan_problems(ours, expected):
        raise RescanMismatch(problems)


@dataclass(frozen=True, slots=True)
class Measurement:
    """Both scans of one chain from one node; the floor ran before and after ours."""

    floors: tuple[FloorScan, FloorScan]
    ours: Rescan
    script_count: int
    derive_seconds: float

    @property
    def floor(self) -> FloorScan:
        return min(self.floors, key=lambda scan: scan.seconds)


def measure(chain: _wallet_chain.WalletChain, root: Path) -> Measurement:
    """Node A on `chain` under `root`; the floor, ours, and the floor again."""
    started = time.perf_counter()
    count = chain.expected.address_count
    scripts = frozenset(_wallet_chain.wallet_scripts(count))
    derive_seconds = time.perf_counter() - started
    with serving(chain, root) as node:
        first = scan_floor(node, scripts)
        ours = rescan(node, root / "wallet")
        second = scan_floor(node, scripts)
    return Measurement((first, second), ours, count, derive_seconds)


def _table(chain: _wallet_chain.WalletChain, m: Measurement, generation: str) -> Table:
    ours, floor, expected = m.ours, m.floor, chain.expected
    table = Table(
        title=(
            f"wallet-rescan: {ours.blocks:,} blocks (genesis, {len(chain.setup)} setup, "
            f"{len(chain.measured):,} x {chain.txs_per_block} txs), "
            f"{len(expected.txids):,} wallet txs, btcnode --par 1 on 127.0.0.1, getblock over RPC"
        )
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row(
        "ours: restore + sync, blocks/s",
        f"{ours.blocks_per_s:,.1f}",
        f"{ours.seconds:.1f} s (restore {ours.restore_seconds:.2f} s), Wallet.restore + sync",
    )
    floors = ", ".join(f"{scan.seconds:.1f} s" for scan in m.floors)
    table.add_row(
        "peer: plain scan, blocks/s",
        f"{floor.blocks_per_s:,.1f}",
        f"best of {floors} (before, after ours); decode + output scripts in a set",
    )
    ratio = ours.blocks_per_s / floor.blocks_per_s
    table.add_row("ratio", f"{ratio:.2f}", f"target >= {TARGET_RATIO}")
    table.add_row(
        "wallet matches",
        f"{len(ours.history):,}",
        f"history entries: {len(expected.receives):,} receives + {len(expected.spends):,} "
        f"spends as generated; balance {ours.balance.confirmed:,} sat, "
        f"{len(ours.unspent):,} coins; the floor matched {len(floor.found):,} outputs",
    )
    kdf, default = BENCH_SCRYPT, DEFAULT_SCRYPT
    table.add_row(
        "keystore scrypt",
        f"n=2^{kdf.n.bit_length() - 1} r={kdf.r} p={kdf.p}",
        f"small so key stretching does not dominate (default n=2^{default.n.bit_length() - 1} "
        f"r={default.r} p={default.p}, about a second)",
    )
    table.add_row(
        "floor's script set",
        f"{m.script_count:,}",
        f"receive addresses 0..{m.script_count - 1}, derived in {m.derive_seconds:.1f} s, untimed",
    )
    table.add_row("chain", generation, str(_btc_chain.CACHE_DIR))
    return table


def run(quick: bool = False) -> None:
    blocks = QUICK_BLOCKS if quick else FULL_BLOCKS
    chain, generation = _btc_chain.load_described(
        functools.partial(_wallet_chain.load_or_generate, TXS_PER_BLOCK, blocks, WALLET_PER_BLOCK)
    )
    with tempfile.TemporaryDirectory(prefix="bench-wallet-") as tmp:
        m = measure(chain, Path(tmp))
    for scan in m.floors:
        check_floor(scan, chain.expected)
    check_rescan(m.ours, chain.expected)
    Console(width=140).print(_table(chain, m, generation))
    ratio = m.ours.blocks_per_s / m.floor.blocks_per_s
    print(
        f"RESULT name=wallet-rescan ours={m.ours.blocks_per_s:.1f} "
        f"peer={m.floor.blocks_per_s:.1f} ratio={ratio:.2f} unit=blocks/s"
    )
