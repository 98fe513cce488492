"""Race attack: two spends of one coin sent to different nodes at the same moment.

merchant, relay and miner are linked in a line (merchant - relay - miner). The attacker
pays the merchant through the merchant's node and, at the same instant, sends a conflicting
spend of the same coin back to itself through the miner's node. Each node keeps the first
spend it saw and refuses the other ("txn-mempool-conflict": neither signals BIP125); the
relay keeps whichever reached it first. The miner mines the spend it kept: after that block
exactly one spend is confirmed on every node, the other is in no mempool, and all nodes
have the same UTXO set.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from btcnode.consensus.tx import OutPoint, Tx
from btcnode.scenarios.chain import (
    block_txids,
    mature_coins,
    mine,
    offer,
    require,
    unspent_outpoints,
    utxo_summaries,
    wait_mempools,
    wait_tip,
)
from btcnode.scenarios.harness import Cluster, NodeProcess, Progress, quiet
from btcnode.scenarios.keys import pay, scenario_key, short_hex, txid_hex
from btcnode.scenarios.results import NodeTxids, RaceAttackResult, Rejection

__all__ = ["NODES", "run_race_attack"]

NODES = ("merchant", "relay", "miner")
FEE_SATS = 2_000  # the same fee on both spends: neither could replace the other anyway
ATTACKER = scenario_key("race attacker")
MERCHANT = scenario_key("race merchant")
LOOT = scenario_key("race attacker change")


def run_race_attack(root: Path, *, progress: Progress = quiet, par: int = 1) -> RaceAttackResult:
    started = time.monotonic()
    with Cluster(root, NODES, par=par, progress=progress) as cluster:
        cluster.start()
        merchant, _, miner = nodes = [cluster[name] for name in NODES]
        cluster.connect_all([("merchant", "relay"), ("relay", "miner")])
        progress("miner mines 101 blocks: one coinbase for the attacker, matured")
        coin = mature_coins(miner, ATTACKER, 1)[0]
        wait_tip(nodes, timeout_s=60.0)
        payment = pay(ATTACKER, [coin], [(MERCHANT.script, coin.value - FEE_SATS)])
        double_spend = pay(ATTACKER, [coin], [(LOOT.script, coin.value - FEE_SATS)])
        progress(
            f"at the same moment: payment {short_hex(txid_hex(payment))} to the merchant's "
            f"node, double spend {short_hex(txid_hex(double_spend))} to the miner's node"
        )
        _send_together((merchant, payment), (miner, double_spend))
        spends = {txid_hex(payment), txid_hex(double_spend)}
        first_seen = wait_mempools(
            nodes, "every node holding one of the two spends", lambda m: len(spends & set(m)) == 1
        )
        rejections = _offer_the_other(
            nodes, first_seen, {txid_hex(t): t for t in (payment, double_spend)}
        )
        progress("each node refused the spend it did not see first; the miner mines a block")
        block = mine(miner, 1, scenario_key("race miner"))[0]
        final = wait_tip(nodes, block)
        confirmed = [t for t in block_txids(miner, block) if t in spends]
        require(f"spends confirmed in block {block}", 1, len(confirmed))
        probes = [coin.outpoint, OutPoint(payment.txid, 0), OutPoint(double_spend.txid, 0)]
        after = wait_mempools(
            nodes, "both spends gone from every mempool", lambda m: not spends & set(m)
        )
        return RaceAttackResult(
            outpoint=str(coin.outpoint),
            payment=txid_hex(payment),
            double_spend=txid_hex(double_spend),
            first_seen=_only(first_seen, spends),
            rejections=rejections,
            confirmed=confirmed[0],
            confirmed_height=final[0].height,
            mempools_after=after,
            utxo=utxo_summaries(nodes),
            outpoints=tuple(unspent_outpoints(n, probes) for n in nodes),
            final_tips=final,
            elapsed_s=time.monotonic() - started,
        )


def _send_together(*sends: tuple[NodeProcess, Tx]) -> list[str | Rejection]:
    """Offer each transaction to its node from its own thread, released at one barrier."""
    barrier = threading.Barrier(len(sends))

    def send_one(node: NodeProcess, tx: Tx) -> str | Rejection:
        barrier.wait()
        return offer(node, tx)

    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        futures = [pool.submit(send_one, node, tx) for node, tx in sends]
        return [f.result() for f in futures]


def _offer_the_other(
    nodes: list[NodeProcess], kept: tuple[NodeTxids, ...], spends: dict[str, Tx]
) -> tuple[Rejection, ...]:
    """Offer every node the spend it did not keep; each must refuse it."""
    rejections = []
    for node, seen in zip(nodes, kept, strict=True):
        other = next(t for t in spends if t not in seen.txids)
        answer = offer(node, spends[other])
        if not isinstance(answer, Rejection):
            require(f"{node.name} accepting a conflicting spend", "a rejection", answer)
        else:
            rejections.append(answer)
    return tuple(rejections)


def _only(seen: tuple[NodeTxids, ...], txids: set[str]) -> tuple[NodeTxids, ...]:
    return tuple(NodeTxids(m.node, tuple(t for t in m.txids if t in txids)) for m in seen)
