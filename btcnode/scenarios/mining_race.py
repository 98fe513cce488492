"""Mining race: two miners find blocks at the same height; the first extension decides.

miner-a, miner-b and an observer start linked in a triangle and share a funded chain. Cut
apart, each miner mines one block with a different transaction in it. The observer is
linked to miner-a first and follows its block; then everyone is linked again and the
observer learns of miner-b's block too, but keeps the one it saw first (equal work: first
seen wins). miner-b then mines on its own block; every node moves to that chain, the most
work. miner-a's block is disconnected and its transaction goes back to the mempools that
had it, and miner-a mines it again in the next block.
"""

from __future__ import annotations

import time
from pathlib import Path

from btcnode.scenarios.chain import (
    block_txids,
    mature_coins,
    mempool,
    mine,
    require,
    require_in,
    send,
    tips,
    wait_tip,
)
from btcnode.scenarios.harness import Cluster, NodeProcess, Progress, quiet
from btcnode.scenarios.keys import Coin, pay, scenario_key, short_hex
from btcnode.scenarios.results import MiningRaceResult
from btcnode.scenarios.waits import wait_until

__all__ = ["NODES", "run_mining_race"]

NODES = ("miner-a", "miner-b", "observer")
FEE_SATS = 2_000  # about 18 sat/vB for a 1-in 1-out P2WPKH spend: above every relay floor
SPENDER = scenario_key("race spender")


def run_mining_race(root: Path, *, progress: Progress = quiet, par: int = 1) -> MiningRaceResult:
    started = time.monotonic()
    with Cluster(root, NODES, par=par, progress=progress) as cluster:
        cluster.start()
        a, b, observer = (cluster[name] for name in NODES)
        cluster.connect_all(
            [("miner-a", "miner-b"), ("miner-a", "observer"), ("miner-b", "observer")]
        )
        progress("miner-a mines 102 blocks: two coinbases for the spender, matured")
        coins = mature_coins(a, SPENDER, 2)
        fork = wait_tip([a, b, observer], timeout_s=60.0)[0]
        progress(f"all at height {fork.height}; cutting every link")
        cluster.split(*([name] for name in NODES))
        block_a, tx_a = _mine_with_tx(a, coins[0], "payee a")
        block_b, tx_b = _mine_with_tx(b, coins[1], "payee b")
        progress(f"miner-a mined {short_hex(block_a)}, miner-b mined {short_hex(block_b)}")
        cluster.link("observer", "miner-a")
        wait_tip([observer, a], block_a)
        cluster.link("miner-b", "miner-a")
        cluster.link("observer", "miner-b")
        _wait_fork_known(observer, block_b)
        require("observer's tip after learning miner-b's block", block_a, tips([observer])[0].tip)
        progress("observer knows both blocks and keeps the first it saw; miner-b extends its own")
        winning_tip = mine(b, 1, scenario_key("miner-b"))[0]
        wait_tip([a, b, observer], winning_tip)
        returned = _wait_returned(tx_a, [a, observer], [a, b, observer])
        progress(f"tx {short_hex(tx_a)} is back in the mempool; miner-a mines it again")
        remined = mine(a, 1, scenario_key("miner-a"))[0]
        final = wait_tip([a, b, observer], remined)
        require_in(f"transactions of block {remined}", tx_a, block_txids(a, remined))
        return MiningRaceResult(
            fork_height=fork.height + 1,
            block_a=block_a,
            tx_a=tx_a,
            block_b=block_b,
            tx_b=tx_b,
            observer_first=block_a,
            winner="miner-b",
            winning_block=block_b,
            losing_block=block_a,
            losing_tx=tx_a,
            returned_to=returned,
            remined_height=final[0].height,
            final_tips=final,
            elapsed_s=time.monotonic() - started,
        )


def _mine_with_tx(miner: NodeProcess, coin: Coin, payee: str) -> tuple[str, str]:
    """Send a payment to the (isolated) miner and mine it; the block's hash and the txid."""
    tx = pay(SPENDER, [coin], [(scenario_key(payee).script, coin.value - FEE_SATS)])
    txid = send(miner, tx)
    block = mine(miner, 1, scenario_key(miner.name))[0]
    require(
        f"transactions of {miner.name}'s block {block}", True, txid in block_txids(miner, block)
    )
    return block, txid


def _wait_fork_known(node: NodeProcess, block_hash: str) -> None:
    """Until getchaintips on `node` lists `block_hash` (as a fork it does not follow)."""
    wait_until(
        f"{node.name} knowing block {short_hex(block_hash)}",
        lambda: node.call("getchaintips"),
        lambda seen: any(t.get("hash") == block_hash for t in seen),
        show=lambda seen: ", ".join(f"{t.get('hash', '?')[:8]} {t.get('status')}" for t in seen),
    )


def _wait_returned(
    txid: str, disconnected: list[NodeProcess], nodes: list[NodeProcess]
) -> tuple[str, ...]:
    """Until `txid` is back in the mempool of every node that disconnected its block; the
    names of all `nodes` whose mempool then holds it."""
    wait_until(
        f"tx {short_hex(txid)} back in the mempool of {', '.join(n.name for n in disconnected)}",
        lambda: [txid in mempool(n) for n in disconnected],
        all,
        show=lambda seen: ", ".join(
            f"{n.name}: {'yes' if s else 'no'}" for n, s in zip(disconnected, seen, strict=True)
        ),
    )
    return tuple(n.name for n in nodes if txid in mempool(n))
