"""What a consistency proof says about two signed tree heads of one log (pure).

For heads A = (n1, r1) and B = (n2, r2) with 0 < n1 < n2 and a proof P for (n1, n2),
RFC 9162 §2.1.4.2 computes two roots from P. Three outcomes:

- CONSISTENT: P reproduces both r1 and r2, so A's tree is a prefix of B's.
- SPLIT_VIEW: P reproduces the signed r2 but gives a first root other than r1. Only the log can
  make nodes that hash to its signed r2, so the first root is the real root of B's tree at size
  n1; the log also signed r1 for size n1: two trees of size n1, a proven split view. This needs
  n1 not to be a power of two: for such n1 the proof omits the first root (RFC 9162
  §2.1.4.1) and the verifier uses r1 itself, so the proof cannot show another one.
- FAILS: anything else (a proof that reproduces neither root, only r1, or has the wrong
  shape). Anyone could make such a proof, so it shows that the log (or the path to it)
  misbehaved, not that the log forked.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from ctlog.errors import ProofError, UsageError
from ctlog.merkle import verify_consistency
from ctlog.sth import TreeHead


class Judgement(enum.Enum):
    CONSISTENT = "consistent"
    SPLIT_VIEW = "split-view"
    FAILS = "fails"


@dataclass(frozen=True, slots=True)
class ProofJudgement:
    """The outcome, a one-line reason, and the first root the proof gives (if it gives one)."""

    outcome: Judgement
    reason: str
    calculated_root1: bytes | None = None


def is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def judge_consistency(first: TreeHead, second: TreeHead, proof: Sequence[bytes]) -> ProofJudgement:
    """Judge `proof` for the heads `first` (smaller) and `second`; needs 0 < n1 < n2."""
    n1, n2 = first.tree_size, second.tree_size
    if not 0 < n1 < n2:
        raise UsageError(f"judge_consistency needs 0 < first size < second size, got {n1}, {n2}")
    try:
        verify_consistency(n1, n2, first.root_hash, second.root_hash, proof)
    except ProofError as exc:
        return _judge_failure(first, second, exc)
    return ProofJudgement(Judgement.CONSISTENT, f"the proof shows size {n1} is a prefix of {n2}")


def _judge_failure(first: TreeHead, second: TreeHead, exc: ProofError) -> ProofJudgement:
    n1, n2 = first.tree_size, second.tree_size
    calc1 = _hex_field(exc.evidence, "calculated_root1")
    calc2 = _hex_field(exc.evidence, "calculated_root2")
    if calc1 is None or calc2 is None:
        return ProofJudgement(Judgement.FAILS, f"the proof is malformed: {exc}")
    if is_power_of_two(n1):
        # RFC 9162 §2.1.4.2 step 2: the verifier supplies r1 as the first node itself.
        return ProofJudgement(
            Judgement.FAILS,
            f"size {n1} is a power of two, so the proof omits its root; with r1 in its place "
            f"the proof does not hash to the signed root of size {n2}, which shows either a "
            "fork or a bad proof, not which",
            calc1,
        )
    if calc2 != second.root_hash:
        return ProofJudgement(
            Judgement.FAILS,
            f"the proof does not hash to the signed root of size {n2} "
            f"(calculated {calc2.hex()}), so it binds the log to nothing",
            calc1,
        )
    return ProofJudgement(
        Judgement.SPLIT_VIEW,
        f"the log's proof hashes to its signed root {second.root_hash.hex()} of size {n2} "
        f"and gives root {calc1.hex()} for size {n1}, but the log signed root "
        f"{first.root_hash.hex()} for size {n1}",
        calc1,
    )


def _hex_field(evidence: dict[str, object], name: str) -> bytes | None:
    value = evidence.get(name)
    if not isinstance(value, str):
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


__all__ = ["Judgement", "ProofJudgement", "is_power_of_two", "judge_consistency"]
