"""Pure verification of inclusion and consistency proofs (RFC 9162 §2.1.3.2, §2.1.4.2).

Strict where implementations differ (the strict choice is the one transparency-dev/merkle
makes): every hash that is hashed must be exactly 32 bytes, `size1 = 0` is not a valid consistency
request, equal sizes require an empty proof and equal roots, and a proof with more or fewer
elements than the tree shape needs is rejected. Failures raise `ProofError` carrying the
expected and calculated roots as evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

from ctlog.errors import ProofError
from ctlog.merkle._hashing import HASH_SIZE, hash_children


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(
            f"{name} is {len(value)} bytes, not {HASH_SIZE}",
            evidence={"field": name, "length": len(value)},
        )


def _check_path(path: Sequence[bytes]) -> None:
    for i, node in enumerate(path):
        _check_hash(f"proof[{i}]", node)


def root_from_inclusion_proof(
    leaf_index: int, tree_size: int, leaf_hash: bytes, path: Sequence[bytes]
) -> bytes:
    """The root that `path` proves `leaf_hash` at `leaf_index` under (RFC 9162 §2.1.3.2)."""
    if not 0 <= leaf_index < tree_size:
        raise ProofError(
            f"leaf index {leaf_index} is outside a tree of size {tree_size}",
            evidence={"leaf_index": leaf_index, "tree_size": tree_size},
        )
    _check_hash("leaf hash", leaf_hash)
    _check_path(path)
    fn, sn = leaf_index, tree_size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            raise _wrong_length("inclusion", len(path), leaf_index, tree_size)
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _wrong_length("inclusion", len(path), leaf_index, tree_size)
    return r


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """Raise `ProofError` unless `path` proves `leaf_hash` at `leaf_index` in `root`."""
    _check_hash("root", root)
    calculated = root_from_inclusion_proof(leaf_index, tree_size, leaf_hash, path)
    if calculated != root:
        raise ProofError(
            f"inclusion proof for leaf {leaf_index} of {tree_size} leads to another root",
            evidence={
                "leaf_index": leaf_index,
                "tree_size": tree_size,
                "expected_root": root.hex(),
                "calculated_root": calculated.hex(),
            },
        )


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, path: Sequence[bytes]
) -> None:
    """Raise `ProofError` unless `path` proves the tree (size1, root1) is a prefix of
    (size2, root2) (RFC 9162 §2.1.4.2)."""
    evidence: dict[str, object] = {"size1": size1, "size2": size2}
    if not 0 < size1 <= size2:
        raise ProofError(
            f"no consistency proof exists from size {size1} to {size2}", evidence=evidence
        )
    if size1 == size2:
        # Nothing is hashed here, so (as transparency-dev/merkle) the roots are only compared.
        if path:
            raise ProofError("a proof between equal sizes must be empty", evidence=evidence)
        if root1 != root2:
            raise ProofError(
                f"two different roots for tree size {size1}",
                evidence={**evidence, "root1": root1.hex(), "root2": root2.hex()},
            )
        return
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    _check_path(path)
    calc1, calc2 = _roots_from_consistency_proof(size1, size2, root1, path)
    if calc1 != root1 or calc2 != root2:
        raise ProofError(
            f"consistency proof from {size1} to {size2} does not match the roots",
            evidence={
                **evidence,
                "expected_root1": root1.hex(),
                "calculated_root1": calc1.hex(),
                "expected_root2": root2.hex(),
                "calculated_root2": calc2.hex(),
            },
        )


def _roots_from_consistency_proof(
    size1: int, size2: int, root1: bytes, path: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2 steps 1-7 for 0 < size1 < size2: the (first, second) roots."""
    if not path:
        raise _wrong_length("consistency", 0, size1, size2)
    nodes = list(path)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is the first node
        nodes.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise _wrong_length("consistency", len(path), size1, size2)
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _wrong_length("consistency", len(path), size1, size2)
    return fr, sr


def _wrong_length(kind: str, got: int, a: int, b: int) -> ProofError:
    """`a`, `b`: (leaf_index, tree_size) of an inclusion proof, (size1, size2) of a
    consistency proof; the evidence names them so."""
    names = ("leaf_index", "tree_size") if kind == "inclusion" else ("size1", "size2")
    return ProofError(
        f"{kind} proof has {got} nodes, which is the wrong number for {names[0]} {a} and "
        f"{names[1]} {b}",
        evidence={"kind": kind, "proof_length": got, names[0]: a, names[1]: b},
    )


__all__ = ["root_from_inclusion_proof", "verify_consistency", "verify_inclusion"]
