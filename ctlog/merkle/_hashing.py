"""RFC 6962 §2.1 hashing: domain-separated SHA-256 for leaves and interior nodes."""

from __future__ import annotations

import hashlib

HASH_SIZE = 32  # SHA-256 output; every node hash, root and proof element has this length
LEAF_PREFIX = b"\x00"  # RFC 6962 §2.1: MTH({d(0)}) = SHA-256(0x00 || d(0))
NODE_PREFIX = b"\x01"  # RFC 6962 §2.1: MTH(D[n]) = SHA-256(0x01 || MTH(left) || MTH(right))
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 6962 §2.1: MTH({}) = SHA-256()


def hash_leaf(data: bytes) -> bytes:
    """The Merkle leaf hash of one entry's leaf input (RFC 6962 §2.1)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node from its two children (RFC 6962 §2.1)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()
