"""Example results, as the scenarios would return them, for the narrative and command tests."""

from __future__ import annotations

import random

from btcnode.scenarios.merchant import PaymentState, PaymentStatus
from btcnode.scenarios.results import (
    HalfView,
    MiningRaceResult,
    NodeOutpoints,
    NodeTip,
    NodeTxids,
    NodeUtxo,
    PartitionResult,
    PrivateChainResult,
    RaceAttackResult,
    Rejection,
    ReplaceByFeeResult,
    UtxoSummary,
)
from btcnode.scenarios.simulation import hash_share_table

__all__ = [
    "mining_race",
    "partition",
    "private_chain",
    "race_attack",
    "replace_by_fee",
    "txid",
    "utxo",
]


def txid(digit: str) -> str:
    return digit * 64


def tips(names: tuple[str, ...], height: int, tip: str) -> tuple[NodeTip, ...]:
    return tuple(NodeTip(n, height, tip) for n in names)


def utxo(names: tuple[str, ...], height: int, txouts: int = 102) -> tuple[NodeUtxo, ...]:
    summary = UtxoSummary(height, txid("f"), txouts, txouts * 50 * 100_000_000, "")
    return tuple(NodeUtxo(n, summary) for n in names)


def mining_race() -> MiningRaceResult:
    names = ("miner-a", "miner-b", "observer")
    return MiningRaceResult(
        fork_height=103,
        block_a=txid("a"),
        tx_a=txid("1"),
        block_b=txid("b"),
        tx_b=txid("2"),
        observer_first=txid("a"),
        winner="miner-b",
        winning_block=txid("b"),
        losing_block=txid("a"),
        losing_tx=txid("1"),
        returned_to=("miner-a", "observer"),
        remined_height=105,
        final_tips=tips(names, 105, txid("c")),
        elapsed_s=2.5,
    )


def race_attack() -> RaceAttackResult:
    names = ("merchant", "relay", "miner")
    pay, ds = txid("1"), txid("2")
    return RaceAttackResult(
        outpoint=txid("9") + ":0",
        payment=pay,
        double_spend=ds,
        first_seen=(
            NodeTxids("merchant", (pay,)),
            NodeTxids("relay", (ds,)),
            NodeTxids("miner", (ds,)),
        ),
        rejections=(
            Rejection("merchant", ds, -26, f"txn-mempool-conflict, conflicts with {pay}"),
            Rejection("relay", pay, -26, "txn-mempool-conflict"),
            Rejection("miner", pay, -26, "txn-mempool-conflict"),
        ),
        confirmed=ds,
        confirmed_height=102,
        mempools_after=tuple(NodeTxids(n, ()) for n in names),
        utxo=utxo(names, 102),
        outpoints=tuple(NodeOutpoints(n, (ds + ":0",)) for n in names),
        final_tips=tips(names, 102, txid("d")),
        elapsed_s=3.0,
    )


def replace_by_fee() -> ReplaceByFeeResult:
    names = ("shop", "relay", "miner")
    return ReplaceByFeeResult(
        original=txid("1"),
        original_fee=1_000,
        original_vsize=141,
        replacement=txid("2"),
        replacement_fee=5_000,
        replacement_vsize=141,
        original_seen_by=names,
        mempools_after_replacement=tuple(NodeTxids(n, (txid("2"),)) for n in names),
        mined_height=102,
        mined_block=txid("e"),
        final_tips=tips(names, 102, txid("e")),
        elapsed_s=2.0,
    )


def private_chain() -> PrivateChainResult:
    names = ("merchant", "honest", "attacker")
    return PrivateChainResult(
        payment=txid("1"),
        double_spend=txid("2"),
        fork_height=101,
        public_height=104,
        attacker_height=105,
        merchant_before=PaymentStatus(txid("1"), PaymentState.CONFIRMED, 3, 102),
        merchant_after=PaymentStatus(
            txid("1"), PaymentState.CONFLICTED, 4, 102, conflict_txid=txid("2")
        ),
        reorg_depth=3,
        final_tips=tips(names, 105, txid("5")),
        hash_shares=hash_share_table(50, random.Random(1), shares=(0.1, 0.45)),
        simulation_runs=50,
        simulation_seed=1,
        elapsed_s=3.5,
    )


def partition() -> PartitionResult:
    names = ("west-1", "west-2", "east-1", "east-2")
    return PartitionResult(
        fork_height=2,
        halves=(
            HalfView(("west-1", "west-2"), 3, 5, txid("a")),
            HalfView(("east-1", "east-2"), 2, 4, txid("b")),
        ),
        final_tips=tips(names, 5, txid("a")),
        utxo=utxo(names, 5, 5),
        elapsed_s=1.8,
    )
