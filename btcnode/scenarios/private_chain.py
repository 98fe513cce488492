"""51% attack: a private chain that double-spends a confirmed payment.

merchant, honest (a miner) and attacker start linked in a triangle on a chain where the
attacker has a mature coin. The attacker is cut off; it pays the merchant with that coin
through the merchant's node, and the honest miner confirms the payment with `confirmations`
blocks. Meanwhile the attacker, alone, mines one block more than that on its own chain,
holding a conflicting spend of the same coin back to itself. Linked again, the public
nodes see a chain with more work and reorganise to it: the payment leaves the chain, and
the merchant's view turns from "n confirmations" to "conflicted by ...".

The run ends with the hash-share table: bitcoin.pdf §11's confirmations for P < 0.1% per
attacker share, beside the seeded race model's measurements (`simulation`).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from btcnode.consensus.tx import Tx
from btcnode.scenarios.chain import (
    active_blocks,
    block_txids,
    mature_coins,
    mempool,
    mine,
    require,
    require_in,
    send,
    tip_of,
    wait_mempools,
    wait_tip,
)
from btcnode.scenarios.harness import Cluster, NodeProcess, Progress, quiet
from btcnode.scenarios.keys import pay, scenario_key, short_hex
from btcnode.scenarios.merchant import PaymentState, PaymentStatus, payment_status
from btcnode.scenarios.results import NodeTip, PrivateChainResult
from btcnode.scenarios.simulation import hash_share_table

__all__ = ["DEFAULT_CONFIRMATIONS", "DEFAULT_RUNS", "DEFAULT_SEED", "NODES", "run_private_chain"]

NODES = ("merchant", "honest", "attacker")
DEFAULT_CONFIRMATIONS = 3  # what the merchant waits for before shipping
DEFAULT_RUNS = 20_000  # races per table cell: about 4 s for the table, ±25% at P = 0.1%
DEFAULT_SEED = 2008  # the table's seed; the same seed prints the same table
FEE_SATS = 2_000
ATTACKER = scenario_key("51% attacker")
MERCHANT = scenario_key("51% merchant")
LOOT = scenario_key("51% attacker loot")


def run_private_chain(
    root: Path,
    *,
    progress: Progress = quiet,
    par: int = 1,
    confirmations: int = DEFAULT_CONFIRMATIONS,
    runs: int = DEFAULT_RUNS,
    seed: int = DEFAULT_SEED,
) -> PrivateChainResult:
    started = time.monotonic()
    with Cluster(root, NODES, par=par, progress=progress) as cluster:
        cluster.start()
        merchant, honest, attacker = nodes = [cluster[name] for name in NODES]
        cluster.connect_all(
            [("merchant", "honest"), ("merchant", "attacker"), ("honest", "attacker")]
        )
        progress("honest mines 101 blocks: one coinbase for the attacker, matured")
        coin = mature_coins(honest, ATTACKER, 1)[0]
        fork = wait_tip(nodes, timeout_s=60.0)[0]
        cluster.isolate("attacker")
        payment = pay(ATTACKER, [coin], [(MERCHANT.script, coin.value - FEE_SATS)])
        double_spend = pay(ATTACKER, [coin], [(LOOT.script, coin.value - FEE_SATS)])
        public = _confirm_payment(merchant, honest, payment, confirmations, progress)
        before = _merchant_view(merchant, payment, fork.height)
        require("merchant's view of the payment", PaymentState.CONFIRMED, before.state)
        private = _mine_private(attacker, double_spend, confirmations + 1, progress)
        progress(f"attacker ({private.height}) links to the public nodes ({public.height})")
        cluster.link("attacker", "merchant")
        cluster.link("attacker", "honest")
        final = wait_tip(nodes, private.tip)
        wait_mempools(
            [merchant, honest],
            "the payment out of the public mempools",
            lambda m: before.txid not in m,
        )
        after = _merchant_view(merchant, payment, fork.height)
        require("merchant's view after the reorg", PaymentState.CONFLICTED, after.state)
        progress(f"simulating the race: {runs} seeded runs per table cell")
        table = hash_share_table(runs, random.Random(seed))
        return PrivateChainResult(
            payment=before.txid,
            double_spend=after.conflict_txid,
            fork_height=fork.height,
            public_height=public.height,
            attacker_height=private.height,
            merchant_before=before,
            merchant_after=after,
            reorg_depth=public.height - fork.height,
            final_tips=final,
            hash_shares=table,
            simulation_runs=runs,
            simulation_seed=seed,
            elapsed_s=time.monotonic() - started,
        )


def _confirm_payment(
    merchant: NodeProcess, honest: NodeProcess, payment: Tx, confirmations: int, progress: Progress
) -> NodeTip:
    txid = send(merchant, payment)
    wait_mempools([merchant, honest], "the payment in the public mempools", lambda m: txid in m)
    progress(f"payment {short_hex(txid)} sent to the merchant; honest mines {confirmations} blocks")
    hashes = mine(honest, confirmations, scenario_key("51% honest miner"))
    require_in(f"transactions of block {hashes[0]}", txid, block_txids(honest, hashes[0]))
    return wait_tip([merchant, honest], hashes[-1])[0]


def _mine_private(
    attacker: NodeProcess, double_spend: Tx, blocks: int, progress: Progress
) -> NodeTip:
    txid = send(attacker, double_spend)
    progress(f"attacker, cut off, mines {blocks} blocks holding double spend {short_hex(txid)}")
    hashes = mine(attacker, blocks, scenario_key("51% attacker miner"))
    require_in(f"transactions of block {hashes[0]}", txid, block_txids(attacker, hashes[0]))
    return tip_of(attacker)


def _merchant_view(merchant: NodeProcess, payment: Tx, fork_height: int) -> PaymentStatus:
    """The payment as the merchant's wallet sees it: blocks since the fork and the mempool."""
    tip = tip_of(merchant)
    blocks = active_blocks(merchant, fork_height + 1, tip.height)
    return payment_status(payment, blocks, tip.height, mempool(merchant))
