"""The btcnode scenarios with real `btcnode run` processes on 127.0.0.1.

Each test runs one scenario end to end (nodes started, linked, split, mined, healed and
stopped) and checks the observations its result carries; the harness tests check that a
failure names what it saw, shows the logs and still stops every node.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from btcnode.scenarios import (
    Cluster,
    NodeStartError,
    PaymentState,
    ScenarioTimeout,
    run_mining_race,
    run_partition_heal,
    run_private_chain,
    run_race_attack,
    run_replace_by_fee,
)
from btcnode.scenarios.chain import mine, tips, wait_tip
from btcnode.scenarios.keys import scenario_key
from btcnode.scenarios.results import NodeTip

pytestmark = pytest.mark.integration

SCENARIO_BUDGET_S = 30.0  # each scenario, nodes started and stopped included


def _one_tip(final: tuple[NodeTip, ...]) -> None:
    assert len({t.tip for t in final}) == 1, final


def test_mining_race_the_extended_block_wins_and_the_loser_is_remined(tmp_path: Path) -> None:
    r = run_mining_race(tmp_path)
    assert r.block_a != r.block_b and r.tx_a != r.tx_b
    assert r.observer_first == r.block_a  # first seen, kept at equal work
    assert (r.winning_block, r.losing_block, r.losing_tx) == (r.block_b, r.block_a, r.tx_a)
    assert {"miner-a", "observer"} <= set(r.returned_to)
    assert r.remined_height == r.fork_height + 2
    _one_tip(r.final_tips)
    assert [t.height for t in r.final_tips] == [r.remined_height] * 3
    assert r.elapsed_s < SCENARIO_BUDGET_S


def test_race_attack_one_spend_everywhere_and_the_same_utxo_set(tmp_path: Path) -> None:
    r = run_race_attack(tmp_path)
    kept = {m.node: m.txids for m in r.first_seen}
    assert kept["merchant"] == (r.payment,)
    assert kept["miner"] == (r.double_spend,)
    assert kept["relay"] in ((r.payment,), (r.double_spend,))
    assert [(x.node, x.code, x.reason) for x in r.rejections] == [
        (node, -26, "txn-mempool-conflict") for node in ("merchant", "relay", "miner")
    ]
    assert all(x.txid not in kept[x.node] for x in r.rejections)
    assert r.confirmed == r.double_spend  # the miner mined what it saw first
    assert all(m.txids == () for m in r.mempools_after)
    _one_tip(r.final_tips)
    assert r.utxo_sets_equal
    assert [o.unspent for o in r.outpoints] == [(f"{r.double_spend}:0",)] * 3
    assert r.utxo[0].summary.height == r.confirmed_height
    assert r.elapsed_s < SCENARIO_BUDGET_S


def test_replace_by_fee_the_replacement_spreads_and_is_mined(tmp_path: Path) -> None:
    r = run_replace_by_fee(tmp_path)
    assert r.original_seen_by == ("shop", "relay", "miner")
    assert [m.txids for m in r.mempools_after_replacement] == [(r.replacement,)] * 3
    assert r.replacement_fee > r.original_fee + r.replacement_vsize  # BIP125 rules 3 and 4
    _one_tip(r.final_tips)
    assert r.final_tips[0].tip == r.mined_block
    assert r.elapsed_s < SCENARIO_BUDGET_S


def test_private_chain_reverses_a_confirmed_payment(tmp_path: Path) -> None:
    r = run_private_chain(tmp_path, confirmations=3, runs=200)
    assert r.merchant_before.state is PaymentState.CONFIRMED
    assert (r.merchant_before.confirmations, r.merchant_before.height) == (3, r.fork_height + 1)
    assert r.merchant_after.state is PaymentState.CONFLICTED
    assert r.merchant_after.conflict_txid == r.double_spend != r.payment
    assert r.merchant_after.confirmations == -4
    assert (r.public_height, r.attacker_height) == (r.fork_height + 3, r.fork_height + 4)
    assert r.reorg_depth == 3
    _one_tip(r.final_tips)
    assert r.final_tips[0].height == r.attacker_height
    assert [row.z for row in r.hash_shares] == [5, 8, 11, 15, 24, 41, 89, 340]
    assert r.elapsed_s < SCENARIO_BUDGET_S


def test_partition_heals_onto_the_most_work_chain(tmp_path: Path) -> None:
    r = run_partition_heal(tmp_path, west_blocks=3, east_blocks=2)
    west, east = r.halves
    assert (west.height, east.height) == (r.fork_height + 3, r.fork_height + 2)
    assert west.tip != east.tip
    assert r.converged and r.final_tips[0].tip == west.tip
    assert r.utxo_sets_equal
    assert r.utxo[0].summary.txouts == west.height  # one coinbase output per block
    assert r.elapsed_s < SCENARIO_BUDGET_S


def test_a_node_that_cannot_start_is_reported_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cluster = Cluster(tmp_path, ["lonely"])
        cluster["lonely"].rpc_port = taken.getsockname()[1]
        with pytest.raises(NodeStartError) as err, cluster:
            cluster.start()
    assert err.value.node == "lonely"
    assert "exited with code" in err.value.problem
    assert err.value.log_tail.strip()
    assert cluster["lonely"].exited() is not None


def test_a_timeout_names_what_it_saw_shows_the_logs_and_stops_every_node(
    tmp_path: Path,
) -> None:
    cluster = Cluster(tmp_path, ["n1", "n2"])
    with pytest.raises(ScenarioTimeout) as err, cluster:
        cluster.start()
        mine(cluster["n1"], 1, scenario_key("n1"))  # n1 and n2 are not linked
        wait_tip(list(cluster), timeout_s=1.0)
    assert "n2 at height 0" in err.value.last_seen and "n1 at height 1" in err.value.last_seen
    notes = "\n".join(err.value.__notes__)
    assert str(tmp_path / "n1" / "node.log") in notes and "started" in notes
    assert all(node.exited() is not None for node in cluster)


def test_linked_nodes_sync_and_stop_cleanly_on_sigterm(tmp_path: Path) -> None:
    with Cluster(tmp_path, ["n1", "n2"]) as cluster:
        cluster.start()
        cluster.link("n1", "n2")
        block = mine(cluster["n2"], 2, scenario_key("n2"))[-1]
        assert [t.tip for t in wait_tip(list(cluster), block)] == [block, block]
        cluster.unlink("n1", "n2")
        mine(cluster["n1"], 1, scenario_key("n1"))
        assert [t.height for t in tips(cluster)] == [3, 2]
        assert cluster.stop() == []  # nobody needed SIGKILL
    assert all(node.exited() == 0 for node in cluster)
