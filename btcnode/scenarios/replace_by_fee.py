"""Replace-by-fee: a BIP125-signalling payment replaced by a higher-fee conflict.

shop, relay and miner are linked in a line (shop - relay - miner). A payer sends the shop a
payment that signals replaceability (input nSequence 0xfffffffd) through the shop's node,
and it reaches every mempool. The payer then sends a conflicting version with a higher fee
(BIP125 rules 3 and 4: more absolute fee, and the extra pays for its own relay) through the
miner's node. The replacement travels the other way and evicts the original from every
mempool; the relay mines it.
"""

from __future__ import annotations

import time
from pathlib import Path

from btcnode.scenarios.chain import (
    block_txids,
    mature_coins,
    mine,
    require_in,
    send,
    wait_mempools,
    wait_tip,
)
from btcnode.scenarios.harness import Cluster, Progress, quiet
from btcnode.scenarios.keys import RBF_SEQUENCE, Coin, fee_of, pay, scenario_key, short_hex
from btcnode.scenarios.results import ReplaceByFeeResult

__all__ = ["NODES", "run_replace_by_fee"]

NODES = ("shop", "relay", "miner")
PRICE_SATS = 10 * 100_000_000  # 10 BTC to the shop; the rest of the coinbase is change
ORIGINAL_FEE_SATS = 1_000  # about 5 sat/vB for a 1-in 2-out P2WPKH spend
REPLACEMENT_FEE_SATS = 5_000  # > 1,000 + 1 sat/vB x size: BIP125 rules 3 and 4
PAYER = scenario_key("rbf payer")
SHOP = scenario_key("rbf shop")


def _payment(coin: Coin, fee: int) -> tuple[bytes, int]:
    return PAYER.script, coin.value - PRICE_SATS - fee


def run_replace_by_fee(
    root: Path, *, progress: Progress = quiet, par: int = 1
) -> ReplaceByFeeResult:
    started = time.monotonic()
    with Cluster(root, NODES, par=par, progress=progress) as cluster:
        cluster.start()
        shop, relay, miner = nodes = [cluster[name] for name in NODES]
        cluster.connect_all([("shop", "relay"), ("relay", "miner")])
        progress("miner mines 101 blocks: one coinbase for the payer, matured")
        coin = mature_coins(miner, PAYER, 1)[0]
        wait_tip(nodes, timeout_s=60.0)
        shop_out = (SHOP.script, PRICE_SATS)
        original = pay(
            PAYER, [coin], [shop_out, _payment(coin, ORIGINAL_FEE_SATS)], sequence=RBF_SEQUENCE
        )
        bumped = pay(
            PAYER, [coin], [shop_out, _payment(coin, REPLACEMENT_FEE_SATS)], sequence=RBF_SEQUENCE
        )
        original_txid = send(shop, original)
        progress(f"payment {short_hex(original_txid)} (BIP125-signalling) sent to the shop's node")
        seen = wait_mempools(nodes, "the payment in every mempool", lambda m: original_txid in m)
        replacement_txid = send(miner, bumped)
        progress(
            f"replacement {short_hex(replacement_txid)} with a higher fee sent to the miner's node"
        )
        after = wait_mempools(
            nodes,
            "the replacement in every mempool and the original in none",
            lambda m: replacement_txid in m and original_txid not in m,
        )
        block = mine(relay, 1, scenario_key("rbf relay"))[0]
        final = wait_tip(nodes, block)
        require_in(f"transactions of block {block}", replacement_txid, block_txids(relay, block))
        return ReplaceByFeeResult(
            original=original_txid,
            original_fee=fee_of(original, [coin]),
            original_vsize=original.vsize,
            replacement=replacement_txid,
            replacement_fee=fee_of(bumped, [coin]),
            replacement_vsize=bumped.vsize,
            original_seen_by=tuple(m.node for m in seen),
            mempools_after_replacement=after,
            mined_height=final[0].height,
            mined_block=block,
            final_tips=final,
            elapsed_s=time.monotonic() - started,
        )
