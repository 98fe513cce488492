"""Test helpers: a reference RFC 6962 tree written straight from the spec, fixed keys, and a
witness core over a test log whose checkpoints and proofs are built on demand."""

from __future__ import annotations

from dataclasses import dataclass, field

from ctlog.checkpoint import Checkpoint, RFC6962NoteSigner, sign_checkpoint
from ctlog.keys import LogSigningKey
from ctlog.merkle import hash_children, hash_leaf
from ctlog.merkle._hashing import EMPTY_ROOT
from ctlog.note import Note
from ctlog.witness import AddCheckpointRequest, CosignatureSigner, WitnessCore

ORIGIN = "log.example/test"
WITNESS_NAME = "witness.example/w1"
NOW_MS = 1_700_000_000_123  # a fixed clock for every test


def _split(n: int) -> int:
    """RFC 6962 §2.1: the largest power of two smaller than n."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash of `leaves` (leaf inputs)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return hash_leaf(leaves[0])
    k = _split(len(leaves))
    return hash_children(mth(leaves[:k]), mth(leaves[k:]))


def consistency_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(m, D[n])."""
    return _subproof(m, leaves, True)


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


LOG_KEY = LogSigningKey.generate()
LOG_SIGNER = RFC6962NoteSigner(LOG_KEY, ORIGIN)
WITNESS_SIGNER = CosignatureSigner.from_seed(WITNESS_NAME, bytes(range(32)))


@dataclass
class SignedTree:
    """A log with `leaves`, signing checkpoints with `signer`."""

    leaves: list[bytes]
    signer: RFC6962NoteSigner = LOG_SIGNER
    _notes: dict[int, bytes] = field(default_factory=dict)

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(self.signer.origin, size, mth(self.leaves[:size]))

    def note(self, size: int) -> bytes:
        if size not in self._notes:
            self._notes[size] = sign_checkpoint(self.checkpoint(size), self.signer, NOW_MS)
        return self._notes[size]

    def proof(self, old: int, new: int) -> list[bytes]:
        if old == 0 or old == new:
            return []
        return consistency_proof(old, self.leaves[:new])

    def request(self, old: int, new: int) -> bytes:
        note = Note.parse(self.note(new))
        return AddCheckpointRequest(old, tuple(self.proof(old, new)), note).serialize()


def make_leaves(count: int, tag: bytes = b"leaf") -> list[bytes]:
    return [tag + b"-%d" % i for i in range(count)]


def make_core() -> WitnessCore:
    return WitnessCore({ORIGIN: [LOG_SIGNER.verifier()]}, [WITNESS_SIGNER])
