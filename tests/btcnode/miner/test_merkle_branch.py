"""The coinbase merkle branch gives the same root as the full merkle tree, at every size."""

from __future__ import annotations

import hashlib

import pytest

from btcnode.consensus.block import merkle_root
from btcnode.miner.template import coinbase_merkle_branch, root_from_branch


def _hashes(count: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(count)]


@pytest.mark.parametrize("count", list(range(1, 34)))
def test_branch_root_equals_the_tree_root(count: int) -> None:
    leaves = _hashes(count)
    branch = coinbase_merkle_branch(leaves[1:])
    assert root_from_branch(leaves[0], branch) == merkle_root(leaves)[0]
    assert len(branch) == (count - 1).bit_length()


def test_a_new_coinbase_changes_only_the_leaf() -> None:
    leaves = _hashes(7)
    branch = coinbase_merkle_branch(leaves[1:])
    other = hashlib.sha256(b"other coinbase").digest()
    assert root_from_branch(other, branch) == merkle_root([other, *leaves[1:]])[0]
