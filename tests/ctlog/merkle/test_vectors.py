"""Every section of ../shared/vectors/ct/merkle_vectors.json, against every implementation:
the reference tree, the persisted tree, compact ranges and the pure verifiers."""

from __future__ import annotations

from typing import Any

import pytest

from common.store import MemoryStore, WriteBatch
from ctlog.errors import ProofError
from ctlog.merkle import (
    EMPTY_ROOT,
    CompactRange,
    hash_children,
    hash_leaf,
    verify_consistency,
    verify_inclusion,
)
from ctlog.merkle.reference import (
    reference_consistency_proof,
    reference_inclusion_proof,
    reference_leaf_hashes,
    reference_root,
)
from ctlog.merkle.store import MerkleStore
from tests.vectors import load_json

VECTORS: dict[str, Any] = load_json("ct", "merkle_vectors.json")
LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves"]]
LEAF_HASHES = [bytes.fromhex(leaf_hash) for leaf_hash in VECTORS["leaf_hashes"]]
PROBES = VECTORS["probes"]
DERIVED = VECTORS["derived_exhaustive"]


def hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


@pytest.fixture(scope="module")
def tree() -> MerkleStore:
    """The persisted tree of the 8 reference leaves, appended one written batch per leaf."""
    store = MemoryStore()
    tree = MerkleStore(store)
    for leaf_hash in LEAF_HASHES:
        batch = WriteBatch()
        tree.append([leaf_hash], batch)
        store.write(batch)
    return tree


def test_hasher_vectors() -> None:
    hasher = VECTORS["hasher"]
    assert bytes.fromhex(hasher["empty_root"]) == EMPTY_ROOT
    for case in hasher["leaf_hash_vectors"]:
        assert hash_leaf(bytes.fromhex(case["data_hex"])) == bytes.fromhex(case["hash"])
    for case in hasher["node_hash_vectors"]:
        left, right = bytes.fromhex(case["left_hex"]), bytes.fromhex(case["right_hex"])
        assert hash_children(left, right) == bytes.fromhex(case["hash"])


def test_leaf_hashes_of_the_reference_leaves() -> None:
    assert reference_leaf_hashes(LEAVES) == LEAF_HASHES


@pytest.mark.parametrize(
    ("size", "root"), sorted((int(k), v) for k, v in VECTORS["roots"].items()), ids=str
)
def test_roots(tree: MerkleStore, size: int, root: str) -> None:
    expected = bytes.fromhex(root)
    assert reference_root(LEAF_HASHES[:size]) == expected
    assert tree.root(size) == expected
    assert CompactRange.empty().extend(LEAF_HASHES[:size]).root() == expected


@pytest.mark.parametrize(
    ("level", "hashes"), list(enumerate(VECTORS["node_hashes_by_level"])), ids=str
)
def test_node_hashes_by_level(tree: MerkleStore, level: int, hashes: list[str]) -> None:
    for index, node in enumerate(hexes(hashes)):
        leaves = LEAF_HASHES[index << level : (index + 1) << level]
        assert reference_root(leaves) == node
        # A compact range over exactly one complete subtree holds just that node's hash.
        assert CompactRange.empty(index << level).extend(leaves).hashes == (node,)
        if index == 0:
            assert tree.root(1 << level) == node
    if level == 0:
        assert [tree.leaf_hash(i) for i in range(8)] == hexes(hashes)


@pytest.mark.parametrize(
    "case",
    VECTORS["inclusion_proofs"],
    ids=lambda c: f"{c['leaf_index']}-of-{c['tree_size']}",
)
def test_inclusion_proofs(tree: MerkleStore, case: dict[str, Any]) -> None:
    index, size, path = case["leaf_index"], case["tree_size"], hexes(case["path"])
    assert tree.inclusion_proof(index, size) == path
    assert reference_inclusion_proof(index, LEAF_HASHES[:size]) == path
    leaf_hash, root = bytes.fromhex(case["leaf_hash"]), bytes.fromhex(case["root"])
    verify_inclusion(index, size, leaf_hash, path, root)


@pytest.mark.parametrize(
    "case", VECTORS["consistency_proofs"], ids=lambda c: f"{c['size1']}-to-{c['size2']}"
)
def test_consistency_proofs(tree: MerkleStore, case: dict[str, Any]) -> None:
    size1, size2, path = case["size1"], case["size2"], hexes(case["path"])
    assert tree.consistency_proof(size1, size2) == path
    assert reference_consistency_proof(size1, LEAF_HASHES[:size2]) == path
    root1, root2 = bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"])
    verify_consistency(size1, size2, root1, root2, path)


@pytest.mark.parametrize(
    "case", DERIVED["inclusion_proofs"], ids=lambda c: f"{c['leaf_index']}-of-{c['tree_size']}"
)
def test_every_inclusion_proof_up_to_8(tree: MerkleStore, case: dict[str, Any]) -> None:
    index, size, path = case["leaf_index"], case["tree_size"], hexes(case["path"])
    assert tree.inclusion_proof(index, size) == path
    assert reference_inclusion_proof(index, LEAF_HASHES[:size]) == path
    verify_inclusion(index, size, LEAF_HASHES[index], path, tree.root(size))


@pytest.mark.parametrize(
    "case", DERIVED["consistency_proofs"], ids=lambda c: f"{c['size1']}-to-{c['size2']}"
)
def test_every_consistency_proof_up_to_8(tree: MerkleStore, case: dict[str, Any]) -> None:
    size1, size2, path = case["size1"], case["size2"], hexes(case["path"])
    assert tree.consistency_proof(size1, size2) == path
    assert reference_consistency_proof(size1, LEAF_HASHES[:size2]) == path
    verify_consistency(size1, size2, tree.root(size1), tree.root(size2), path)


def assert_rejected_with_evidence(error: ProofError) -> None:
    """A rejection says what it compared: a differing root pair, or the offending input."""
    assert error.evidence, f"no evidence in {error}"
    for name in ("root", "root1", "root2"):
        if f"calculated_{name}" in error.evidence:
            assert set(error.evidence) >= {f"expected_{name}"}
    if "calculated_root" in error.evidence:
        assert error.evidence["calculated_root"] != error.evidence["expected_root"]


@pytest.mark.parametrize("probe", PROBES["inclusion"], ids=lambda p: p["file"])
def test_inclusion_probes(probe: dict[str, Any]) -> None:
    args = (
        probe["leaf_index"],
        probe["tree_size"],
        bytes.fromhex(probe["leaf_hash"]),
        hexes(probe["path"]),
        bytes.fromhex(probe["root"]),
    )
    if not probe["want_error"]:
        verify_inclusion(*args)
        return
    with pytest.raises(ProofError) as caught:
        verify_inclusion(*args)
    assert_rejected_with_evidence(caught.value)


@pytest.mark.parametrize("probe", PROBES["consistency"], ids=lambda p: p["file"])
def test_consistency_probes(probe: dict[str, Any]) -> None:
    args = (
        probe["size1"],
        probe["size2"],
        bytes.fromhex(probe["root1"]),
        bytes.fromhex(probe["root2"]),
        hexes(probe["path"]),
    )
    if not probe["want_error"]:
        verify_consistency(*args)
        return
    with pytest.raises(ProofError) as caught:
        verify_consistency(*args)
    assert_rejected_with_evidence(caught.value)


@pytest.mark.parametrize(
    "case",
    VECTORS["consistency_edge_cases"]["cases"],
    ids=lambda c: f"{c['size1']}-to-{c['size2']}-with-{len(c['path'])}",
)
def test_consistency_edge_cases_are_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(ProofError) as caught:
        verify_consistency(
            case["size1"],
            case["size2"],
            bytes.fromhex(case["root1"]),
            bytes.fromhex(case["root2"]),
            hexes(case["path"]),
        )
    assert caught.value.evidence["size1"] == case["size1"]
    assert caught.value.evidence["size2"] == case["size2"]


def test_probe_counts_match_the_vector_file() -> None:
    """The parametrized probes above are all of them (196), with both verdicts present."""
    probes = PROBES["inclusion"] + PROBES["consistency"]
    assert len(probes) == 196
    assert {p["want_error"] for p in probes} == {True, False}
