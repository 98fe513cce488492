"""Plans against the naive reference tree: every (index, size) and (size1, size2) pair up to
70 leaves, finished from node hashes the reference computes from the leaves. Also the
reference's and the plans' preconditions."""

from __future__ import annotations

import pytest

from ctlog.errors import ProofError, UsageError
from ctlog.merkle import EMPTY_ROOT, verify_consistency, verify_inclusion
from ctlog.merkle.plan import (
    NodeId,
    ProofPlan,
    consistency_plan,
    fold_right,
    fold_root,
    inclusion_plan,
    range_nodes,
    root_plan,
)
from ctlog.merkle.reference import (
    reference_consistency_proof,
    reference_inclusion_proof,
    reference_root,
)
from tests.ctlog.merkle._trees import leaf_hashes

MAX_SIZE = 70  # every pair up to here: crosses several powers of two, still fast
LEAVES = leaf_hashes(MAX_SIZE)


def node_hash(node: NodeId) -> bytes:
    level, index = node
    return reference_root(LEAVES[index << level : (index + 1) << level])


def assert_complete_at(nodes: tuple[NodeId, ...] | list[NodeId], size: int) -> None:
    for level, index in nodes:
        assert (index + 1) << level <= size, f"node {level}/{index} is not complete at {size}"


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1), ids=str)
def test_inclusion_plans_finish_to_the_reference_path(size: int) -> None:
    root = reference_root(LEAVES[:size])
    for index in range(size):
        plan = inclusion_plan(index, size)
        assert_complete_at(plan.nodes, size)
        proof = plan.finish([node_hash(node) for node in plan.nodes])
        assert proof == reference_inclusion_proof(index, LEAVES[:size])
        verify_inclusion(index, size, LEAVES[index], proof, root)


@pytest.mark.parametrize("size2", range(1, MAX_SIZE + 1), ids=str)
def test_consistency_plans_finish_to_the_reference_proof(size2: int) -> None:
    root2 = reference_root(LEAVES[:size2])
    for size1 in range(1, size2 + 1):
        plan = consistency_plan(size1, size2)
        assert_complete_at(plan.nodes, size2)
        proof = plan.finish([node_hash(node) for node in plan.nodes])
        assert proof == reference_consistency_proof(size1, LEAVES[:size2])
        verify_consistency(size1, size2, reference_root(LEAVES[:size1]), root2, proof)


def test_roots_from_plans() -> None:
    assert fold_root([]) == EMPTY_ROOT
    for size in range(MAX_SIZE + 1):
        nodes = root_plan(size)
        assert len(nodes) == bin(size).count("1")
        assert fold_root([node_hash(node) for node in nodes]) == reference_root(LEAVES[:size])


def test_range_nodes_are_the_maximal_subtrees_covering_the_range() -> None:
    for begin in range(40):
        for end in range(begin, 80):
            covered = begin
            for level, index in range_nodes(begin, end):
                assert index << level == covered, "nodes are contiguous, left to right"
                covered += 1 << level
                parent_begin, parent_end = (
                    (index >> 1) << (level + 1),
                    ((index >> 1) + 1) << (level + 1),
                )
                assert parent_begin < begin or parent_end > end, "a node's parent sticks out"
            assert covered == end


def test_plans_refuse_what_has_no_proof() -> None:
    cases = [
        (lambda: inclusion_plan(5, 5), "leaf index 5 is outside a tree of size 5"),
        (lambda: inclusion_plan(-1, 5), "leaf index -1 is outside a tree of size 5"),
        (lambda: inclusion_plan(True, 5), "leaf index True is outside a tree of size 5"),
        (lambda: inclusion_plan(0, 0), "leaf index 0 is outside a tree of size 0"),
        (lambda: consistency_plan(0, 5), "no consistency proof from size 0 to 5"),
        (lambda: consistency_plan(6, 5), "no consistency proof from size 6 to 5"),
        (lambda: range_nodes(3, 2), "range [3, 2) is reversed"),
        (lambda: range_nodes(-1, 2), "begin must be a non-negative int, got -1"),
        (lambda: fold_right([]), "cannot fold an empty list of hashes"),
    ]
    for call, message in cases:
        with pytest.raises(UsageError) as caught:
            call()
        assert str(caught.value) == message


def test_equal_sizes_need_no_nodes() -> None:
    assert consistency_plan(7, 7) == ProofPlan((), 0, 0)
    assert consistency_plan(7, 7).finish([]) == []


def test_proof_plan_checks_its_shape() -> None:
    with pytest.raises(UsageError) as caught:
        ProofPlan(((0, 1),), 1, 2)
    assert "ephemeral range [1, 2) is not within 1 nodes" in str(caught.value)
    plan = inclusion_plan(0, 3)
    with pytest.raises(UsageError) as caught:
        plan.finish([])
    assert str(caught.value) == f"plan needs {len(plan.nodes)} hashes, got 0"


def test_a_past_size_proof_folds_its_ephemeral_node() -> None:
    # Leaf 0 of 7: the sibling of subtree [0, 4) is [4, 7), which is not complete at size 7;
    # the plan fetches [4, 6) and [6, 7) and hashes them into it.
    plan = inclusion_plan(0, 7)
    assert plan == ProofPlan(((0, 1), (1, 1), (1, 2), (0, 6)), 2, 4)
    assert plan.finish([node_hash(n) for n in plan.nodes])[-1] == reference_root(LEAVES[4:7])


def test_reference_refuses_what_has_no_proof() -> None:
    with pytest.raises(UsageError) as caught:
        reference_inclusion_proof(3, LEAVES[:3])
    assert str(caught.value) == "leaf index 3 is outside a tree of size 3"
    with pytest.raises(UsageError) as caught:
        reference_consistency_proof(0, LEAVES[:3])
    assert str(caught.value) == "no consistency proof from size 0 to 3"
    assert reference_consistency_proof(3, LEAVES[:3]) == []


def test_a_proof_of_the_wrong_length_names_its_sizes() -> None:
    proof = reference_inclusion_proof(2, LEAVES[:5])
    with pytest.raises(ProofError) as caught:
        verify_inclusion(2, 5, LEAVES[2], [*proof, proof[0]], reference_root(LEAVES[:5]))
    assert caught.value.evidence == {
        "kind": "inclusion",
        "proof_length": len(proof) + 1,
        "leaf_index": 2,
        "tree_size": 5,
    }
    proof = reference_consistency_proof(3, LEAVES[:5])
    with pytest.raises(ProofError) as caught:
        verify_consistency(3, 5, reference_root(LEAVES[:3]), reference_root(LEAVES[:5]), proof[:1])
    assert caught.value.evidence == {
        "kind": "consistency",
        "proof_length": 1,
        "size1": 3,
        "size2": 5,
    }
