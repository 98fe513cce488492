"""RFC 6962 Merkle trees: hashing, plans for roots and proofs, pure proof verification, compact
ranges, C2SP tlog-tiles geometry, a naive reference tree, and the persisted tree.

Everything here is sans-I/O: `MerkleStore` reads and writes only through the `Store` it is
given. Import the persisted tree as `from ctlog.merkle.store import MerkleStore`.
"""

from ctlog.merkle._hashing import EMPTY_ROOT, HASH_SIZE, hash_children, hash_leaf
from ctlog.merkle.compact import CompactRange
from ctlog.merkle.plan import (
    NodeId,
    ProofPlan,
    consistency_plan,
    fold_root,
    inclusion_plan,
    range_nodes,
    root_plan,
)
from ctlog.merkle.store import MerkleStore
from ctlog.merkle.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileRef,
    data_tile_path,
    parse_tile_path,
    tile_path,
    tile_width,
    tiles_for_size,
)
from ctlog.merkle.verify import root_from_inclusion_proof, verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "CompactRange",
    "MerkleStore",
    "NodeId",
    "ProofPlan",
    "TileRef",
    "consistency_plan",
    "data_tile_path",
    "fold_root",
    "hash_children",
    "hash_leaf",
    "inclusion_plan",
    "parse_tile_path",
    "range_nodes",
    "root_from_inclusion_proof",
    "root_plan",
    "tile_path",
    "tile_width",
    "tiles_for_size",
    "verify_consistency",
    "verify_inclusion",
]
