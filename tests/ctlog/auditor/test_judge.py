"""judge_consistency: consistent, proven split view, and proofs that prove nothing."""

from __future__ import annotations

import pytest

from ctlog.auditor import Judgement, judge_consistency
from ctlog.errors import UsageError
from ctlog.merkle.reference import reference_consistency_proof, reference_root
from tests.ctlog.auditor._helpers import forking_log


@pytest.mark.parametrize(("n1", "n2"), [(1, 2), (3, 7), (4, 9), (6, 8), (7, 20)])
def test_an_honest_proof_is_consistent(n1: int, n2: int) -> None:
    log = forking_log(shared=0, forking=False)
    log.grow(0, n2)
    first, second = log.head_at(0, n1), log.head_at(0, n2)
    proof = reference_consistency_proof(n1, log.views[0][:n2])
    judged = judge_consistency(first.tree_head, second.tree_head, proof)
    assert judged.outcome is Judgement.CONSISTENT


@pytest.mark.parametrize(("shared", "n1", "n2"), [(5, 6, 9), (2, 3, 12), (0, 7, 8), (5, 11, 13)])
def test_the_logs_own_proof_exposes_another_prefix(shared: int, n1: int, n2: int) -> None:
    log = forking_log(shared=shared)
    log.grow(0, n2)
    log.grow(1, n2)
    first = log.head_at(0, n1)  # view A at n1
    second = log.head_at(1, n2)  # view B at n2, with B's own proof
    proof = log.consistency(1, n1, n2)
    judged = judge_consistency(first.tree_head, second.tree_head, proof)
    assert judged.outcome is Judgement.SPLIT_VIEW
    assert judged.calculated_root1 == reference_root(log.views[1][:n1])
    assert first.root_hash.hex() in judged.reason


def test_a_power_of_two_first_size_cannot_prove_a_fork() -> None:
    log = forking_log(shared=2)
    log.grow(0, 10)
    log.grow(1, 10)
    first, second = log.head_at(0, 8), log.head_at(1, 12)
    judged = judge_consistency(first.tree_head, second.tree_head, log.consistency(1, 8, 12))
    assert judged.outcome is Judgement.FAILS
    assert "power of two" in judged.reason


def test_a_made_up_proof_binds_the_log_to_nothing() -> None:
    log = forking_log(shared=0, forking=False)
    log.grow(0, 9)
    first, second = log.head_at(0, 5), log.head_at(0, 9)
    real = reference_consistency_proof(5, log.views[0])
    forged = [bytes(32)] * len(real)
    judged = judge_consistency(first.tree_head, second.tree_head, forged)
    assert judged.outcome is Judgement.FAILS
    assert "does not hash to the signed root" in judged.reason


def test_a_proof_of_the_wrong_shape_is_malformed() -> None:
    log = forking_log(shared=0, forking=False)
    log.grow(0, 9)
    first, second = log.head_at(0, 5), log.head_at(0, 9)
    judged = judge_consistency(first.tree_head, second.tree_head, [bytes(32)])
    assert judged.outcome is Judgement.FAILS
    assert judged.reason.startswith("the proof is malformed")
    assert judged.calculated_root1 is None


@pytest.mark.parametrize(("n1", "n2"), [(0, 3), (3, 3), (4, 3)])
def test_sizes_must_grow(n1: int, n2: int) -> None:
    log = forking_log(shared=5, forking=False)
    with pytest.raises(UsageError, match="0 < first size < second size"):
        judge_consistency(log.head_at(0, n1).tree_head, log.head_at(0, n2).tree_head, [])
