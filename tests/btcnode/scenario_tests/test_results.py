"""Result values: UTXO summaries read from gettxoutsetinfo, rejections, agreement checks."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from btcnode.scenarios.errors import ScenarioCheckFailed
from btcnode.scenarios.results import NodeOutpoints, NodeUtxo, Rejection, UtxoSummary
from tests.btcnode.scenario_tests import samples

CORE_ANSWER = {
    "height": 102,
    "bestblock": "ab" * 32,
    "txouts": 103,
    "bogosize": 7_622,
    "hash_serialized_3": "cd" * 32,
    "total_amount": Decimal("5100.00000000"),
    "transactions": 102,
    "disk_size": 0,
}


def test_a_core_answer_becomes_a_summary_with_its_set_hash() -> None:
    summary = UtxoSummary.from_json(CORE_ANSWER)
    assert summary == UtxoSummary(102, "ab" * 32, 103, 5_100 * 100_000_000, "cd" * 32)


def test_an_answer_without_a_set_hash_still_summarises() -> None:
    answer = {k: CORE_ANSWER[k] for k in ("height", "bestblock", "txouts", "total_amount")}
    assert UtxoSummary.from_json(answer).digest == ""


@pytest.mark.parametrize(
    ("change", "evidence"),
    [
        ({"txouts": None}, "TypeError"),
        ({"total_amount": Decimal("0.000000001")}, "0.1"),
        ({"height": "tall"}, "ValueError"),
    ],
)
def test_a_malformed_answer_says_what_was_wrong(change: dict[str, object], evidence: str) -> None:
    with pytest.raises(ScenarioCheckFailed) as err:
        UtxoSummary.from_json({**CORE_ANSWER, **change})
    assert err.value.check.startswith("gettxoutsetinfo")
    assert evidence in str(err.value.observed)


def test_a_missing_field_is_named() -> None:
    answer = dict(CORE_ANSWER)
    del answer["bestblock"]
    with pytest.raises(ScenarioCheckFailed, match="bestblock"):
        UtxoSummary.from_json(answer)


def test_the_reject_reason_is_the_message_before_its_debug_text() -> None:
    assert Rejection("n", "00", -26, "txn-mempool-conflict, conflicts with ab").reason == (
        "txn-mempool-conflict"
    )
    assert Rejection("n", "00", -26, "insufficient fee").reason == "insufficient fee"


def test_utxo_sets_differing_in_a_summary_or_a_probe_are_not_equal() -> None:
    result = samples.race_attack()
    assert result.utxo_sets_equal
    other = dataclasses.replace(result.utxo[0].summary, txouts=101)
    skewed = dataclasses.replace(result, utxo=(NodeUtxo("merchant", other), *result.utxo[1:]))
    assert not skewed.utxo_sets_equal
    probed = (NodeOutpoints("merchant", ()), *result.outpoints[1:])
    assert not dataclasses.replace(result, outpoints=probed).utxo_sets_equal


def test_convergence_means_one_tip_everywhere() -> None:
    result = samples.partition()
    assert result.converged
    split = dataclasses.replace(result.final_tips[0], tip="0" * 64)
    assert not dataclasses.replace(result, final_tips=(split, *result.final_tips[1:])).converged
