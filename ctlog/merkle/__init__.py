"""RFC 6962 Merkle trees: hashing, pure proof verification, and (in the submodules) the
persisted tree with compact ranges, proofs and static-ct tiles."""

from ctlog.merkle._hashing import EMPTY_ROOT, HASH_SIZE, hash_children, hash_leaf
from ctlog.merkle.verify import root_from_inclusion_proof, verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "hash_children",
    "hash_leaf",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]
