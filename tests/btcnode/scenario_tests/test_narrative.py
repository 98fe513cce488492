"""The demo's story: each result's key figures appear, and disagreement is called out."""

from __future__ import annotations

import dataclasses

from btcnode.scenarios.narrative import (
    HASH_SHARE_HEADER,
    format_btc,
    hash_share_cells,
    narrate,
)
from btcnode.scenarios.results import NodeTip, NodeUtxo
from tests.btcnode.scenario_tests import samples
from tests.btcnode.scenario_tests.samples import txid


def test_mining_race_names_both_blocks_the_first_seen_and_the_remined_height() -> None:
    lines = narrate(samples.mining_race())
    assert lines[0] == "Mining race: two blocks at height 103"
    assert "  miner-a found aaaaaaaa… holding tx 11111111…" in lines
    assert "  miner-b found bbbbbbbb… holding tx 22222222…" in lines
    assert any(line.startswith("observer saw aaaaaaaa… first") for line in lines)
    assert "went back to the mempool of miner-a, observer" in lines[5]
    assert "and was mined again at height 105" in lines
    assert "all 3 nodes on tip cccccccc… at height 105" in lines
    assert lines[-1] == "(2.5 s)"


def test_race_attack_tells_who_kept_what_and_who_refused_what() -> None:
    lines = narrate(samples.race_attack())
    assert (
        "first seen: merchant kept the payment, relay kept the double spend, miner kept the "
        "double spend"
    ) in lines
    refused = next(line for line in lines if line.startswith("refused: "))
    assert "merchant refused the double spend (txn-mempool-conflict, code -26)" in refused
    assert "conflicts with" not in refused  # the debug text stays out of the story
    assert "the block at height 102 confirmed the double spend 22222222…" in lines
    assert "UTXO sets equal on all 3 nodes: 102 outputs, 5100.00000000 BTC" in lines


def test_replace_by_fee_shows_fees_and_rates() -> None:
    lines = narrate(samples.replace_by_fee())
    assert "(1000 sats, 7.1 sat/vB)" in lines[1]
    assert "(5000 sats, 35.5 sat/vB)" in lines[2]
    assert "shop [22222222…], relay [22222222…], miner [22222222…]" in lines[3]


def test_private_chain_shows_the_merchants_view_before_and_after() -> None:
    lines = narrate(samples.private_chain())
    assert "payment 11111111…: 3 confirmations (block 102)" in lines[1]
    assert "reorganised 3 blocks deep" in lines[2]
    assert lines[3] == (
        "merchant after the reorg: payment 11111111…: not in the chain; conflicted by "
        "22222222… (block 102, -4 confirmations)"
    )
    assert "(50 seeded races per cell, seed 1)" in lines[5]
    assert lines[6].startswith("  simulated: the race model under the paper's timing")


def test_the_hash_share_cells_follow_the_header() -> None:
    result = samples.private_chain()
    header, *rows = hash_share_cells(result.hash_shares)
    assert header == HASH_SHARE_HEADER
    assert [row[:3] for row in rows] == [("0.10", "5", "0.0009137"), ("0.45", "340", "0.0009947")]
    first = result.hash_shares[0].simulated
    assert rows[0][3] == f"{first.probability:.4f} ({first.successes}/50)"
    assert rows[1][6] == "539"


def test_partition_shows_both_halves_and_the_healed_tip() -> None:
    lines = narrate(samples.partition())
    assert "  west-1 and west-2 mined 3 blocks: tip aaaaaaaa… at height 5" in lines
    assert "  east-1 and east-2 mined 2 blocks: tip bbbbbbbb… at height 4" in lines
    assert "healed: all 4 nodes on tip aaaaaaaa… at height 5" in lines


def test_disagreement_is_called_out() -> None:
    result = samples.partition()
    behind = NodeTip("east-2", 4, txid("b"))
    other = dataclasses.replace(result.utxo[3].summary, txouts=4)
    lines = narrate(
        dataclasses.replace(
            result,
            final_tips=(*result.final_tips[:3], behind),
            utxo=(*result.utxo[:3], NodeUtxo("east-2", other)),
        )
    )
    assert any("nodes DISAGREE" in line and "east-2 bbbbbbbb… at 4" in line for line in lines)
    assert any(line.startswith("UTXO sets DIFFER") for line in lines)


def test_btc_amounts_are_exact() -> None:
    assert format_btc(5_100 * 100_000_000) == "5100.00000000 BTC"
    assert format_btc(1) == "0.00000001 BTC"
