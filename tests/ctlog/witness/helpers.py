"""Test helpers: fixed keys, a witness core, and a signed test log whose checkpoints and
consistency proofs come from the reference tree (`ctlog.merkle.reference`) on demand."""

from __future__ import annotations

from dataclasses import dataclass, field

from ctlog.checkpoint import Checkpoint, RFC6962NoteSigner, sign_checkpoint
from ctlog.keys import LogSigningKey
from ctlog.merkle.reference import (
    reference_consistency_proof,
    reference_leaf_hashes,
    reference_root,
)
from ctlog.note import Note
from ctlog.witness import AddCheckpointRequest, CosignatureSigner, WitnessCore

ORIGIN = "log.example/test"
WITNESS_NAME = "witness.example/w1"
NOW_MS = 1_700_000_000_123  # a fixed clock for every test


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash of `leaves` (leaf inputs), from the reference tree."""
    return reference_root(reference_leaf_hashes(leaves))


def consistency_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(m, D[n]), from the reference tree."""
    return reference_consistency_proof(m, reference_leaf_hashes(leaves))


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
