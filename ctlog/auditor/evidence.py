"""Split-view evidence bundles: what an auditor writes, and their pure offline check.

A bundle holds two signed tree heads of one log (`first` has the smaller or equal size), the
log's public key, where each head was seen, and the consistency proof the log served or the
error it gave. `verify_evidence` trusts none of the auditor's words (`reasoning` is for
people): it checks the key against the log id, both signatures, and then the kind's claim.

Kinds and verdicts (see docs/ctlog/auditor.md):
- `equal-size`: two roots for one tree size -> SPLIT_VIEW.
- `inconsistent-proof`: the log's own proof hashes to the second head's signed root yet gives
  another first root (ctlog.auditor.judge) -> SPLIT_VIEW.
- `proof-failure`: the log refused, or served a proof that does not verify -> UNPROVEN: the
  log misbehaved or was unavailable, but nothing shows two trees.
A bundle that does not show what its kind claims is INVALID.
"""

from __future__ import annotations

import base64
import enum
import json
from dataclasses import dataclass

from ctlog.auditor.judge import Judgement, judge_consistency
from ctlog.auditor.observation import Observation
from ctlog.errors import InputError, SignatureError, UsageError
from ctlog.keys import LogPublicKey
from ctlog.sth import b64decode_strict, json_uint64
from ctlog.strict_json import bounded_text, exact_object, strict_loads

BUNDLE_VERSION = 1  # bumped when a field changes meaning
MAX_BUNDLE_BYTES = 64 * 1024  # two STHs, a key and <= 128 hashes take under 16 KiB
MAX_PROOF_NODES = 128  # RFC 9162 §2.1.4: a proof for uint64 sizes has at most 2*64 nodes
MAX_REASONING_CHARS = 4096  # a few sentences for people; never parsed
MAX_ERROR_CHARS = 1024  # one HTTP error line from the log
MAX_NAME_CHARS = 2048  # a log URL or an auditor name
_FIELDS = {
    "version",
    "kind",
    "log",
    "first",
    "second",
    "consistency_proof",
    "log_error",
    "reasoning",
    "auditor",
    "detected_ms",
}


class EvidenceKind(enum.Enum):
    EQUAL_SIZE = "equal-size"
    INCONSISTENT_PROOF = "inconsistent-proof"
    PROOF_FAILURE = "proof-failure"


class Verdict(enum.Enum):
    SPLIT_VIEW = "split-view"  # proven: the log signed two trees that cannot both be true
    UNPROVEN = "unproven"  # a valid proof-failure bundle: misbehaviour or unavailability
    INVALID = "invalid"  # the bundle does not show what it claims (or is malformed)


@dataclass(frozen=True, slots=True)
class EvidenceVerdict:
    verdict: Verdict
    reason: str
    kind: EvidenceKind | None = None
    log_id: bytes | None = None
    first_size: int | None = None
    second_size: int | None = None

    @property
    def proves_split_view(self) -> bool:
        return self.verdict is Verdict.SPLIT_VIEW

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "valid": self.proves_split_view,
            "reason": self.reason,
            "kind": self.kind.value if self.kind else None,
            "log_id": base64.b64encode(self.log_id).decode() if self.log_id else None,
            "first_size": self.first_size,
            "second_size": self.second_size,
        }


@dataclass(frozen=True, slots=True)
class EvidenceBundle:
    """Two signed heads of one log that an auditor found cannot both be true."""

    kind: EvidenceKind
    log_key: LogPublicKey
    log_id: bytes
    log_url: str | None
    first: Observation
    second: Observation
    consistency_proof: tuple[bytes, ...] | None
    log_error: str | None
    reasoning: str
    auditor: str
    detected_ms: int

    def __post_init__(self) -> None:
        if self.consistency_proof is not None and len(self.consistency_proof) > MAX_PROOF_NODES:
            raise UsageError(f"a consistency proof has at most {MAX_PROOF_NODES} nodes")

    @property
    def file_name(self) -> str:
        """`<log id hex>-<n1>-<n2>.json`, the name the auditor stores the bundle under."""
        return f"{self.log_id.hex()}-{self.first.tree_size}-{self.second.tree_size}.json"

    def to_json(self) -> dict[str, object]:
        proof = self.consistency_proof
        return {
            "version": BUNDLE_VERSION,
            "kind": self.kind.value,
            "log": {
                "log_id": base64.b64encode(self.log_id).decode(),
                "public_key": base64.b64encode(self.log_key.spki_der).decode(),
                "url": self.log_url,
            },
            "first": self.first.to_json(),
            "second": self.second.to_json(),
            "consistency_proof": None if proof is None else [_b64(n) for n in proof],
            "log_error": self.log_error,
            "reasoning": self.reasoning,
            "auditor": self.auditor,
            "detected_ms": self.detected_ms,
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, obj: object) -> EvidenceBundle:
        fields = exact_object(obj, _FIELDS, "bundle")
        if json_uint64(fields["version"], "version") != BUNDLE_VERSION:
            raise InputError(f"bundle version {fields['version']} is not {BUNDLE_VERSION}")
        try:
            kind = EvidenceKind(fields["kind"])
        except ValueError:
            raise InputError(f"unknown evidence kind {fields['kind']!r:.40}") from None
        log = exact_object(fields["log"], {"log_id", "public_key", "url"}, "log")
        return cls(
            kind=kind,
            log_key=LogPublicKey.from_der(b64decode_strict(log["public_key"], "log.public_key")),
            log_id=b64decode_strict(log["log_id"], "log.log_id"),
            log_url=_optional_text(log["url"], MAX_NAME_CHARS, "log.url"),
            first=Observation.from_json(fields["first"], "first"),
            second=Observation.from_json(fields["second"], "second"),
            consistency_proof=_proof_from_json(fields["consistency_proof"]),
            log_error=_optional_text(fields["log_error"], MAX_ERROR_CHARS, "log_error"),
            reasoning=bounded_text(fields["reasoning"], MAX_REASONING_CHARS, "reasoning"),
            auditor=bounded_text(fields["auditor"], MAX_NAME_CHARS, "auditor"),
            detected_ms=json_uint64(fields["detected_ms"], "detected_ms"),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> EvidenceBundle:
        return cls.from_json(strict_loads(data, max_bytes=MAX_BUNDLE_BYTES, what="bundle"))


def verify_evidence_bytes(
    data: bytes, *, expected_key: LogPublicKey | None = None
) -> EvidenceVerdict:
    """Parse and verify a bundle file's contents; a malformed bundle is INVALID."""
    try:
        bundle = EvidenceBundle.from_bytes(data)
    except InputError as exc:
        return EvidenceVerdict(Verdict.INVALID, f"malformed bundle: {exc}")
    return verify_evidence(bundle, expected_key=expected_key)


def verify_evidence(
    bundle: EvidenceBundle, *, expected_key: LogPublicKey | None = None
) -> EvidenceVerdict:
    """Check `bundle` offline. `expected_key` pins the log the bundle must be about."""
    first, second = bundle.first.sth, bundle.second.sth

    def verdict(v: Verdict, reason: str) -> EvidenceVerdict:
        return EvidenceVerdict(
            v, reason, bundle.kind, bundle.log_id, first.tree_size, second.tree_size
        )

    problem = _check_signers(bundle, expected_key)
    if problem is not None:
        return verdict(Verdict.INVALID, problem)
    if first.tree_size > second.tree_size:
        return verdict(Verdict.INVALID, "the first head must not be larger than the second")
    if first.tree_head == second.tree_head:
        return verdict(Verdict.INVALID, "both heads are the same tree head")
    if bundle.kind is EvidenceKind.EQUAL_SIZE:
        v, reason = _check_equal_size(bundle)
    elif bundle.kind is EvidenceKind.INCONSISTENT_PROOF:
        v, reason = _check_inconsistent_proof(bundle)
    else:
        v, reason = _check_proof_failure(bundle)
    return verdict(v, reason)


def _check_signers(bundle: EvidenceBundle, expected_key: LogPublicKey | None) -> str | None:
    """Why the heads do not bind the log (key, log id, signatures), or None if they do."""
    key = bundle.log_key
    if bundle.log_id != key.log_id:
        return "log.log_id is not the SHA-256 of log.public_key (RFC 6962 §3.2)"
    if expected_key is not None and key.spki_der != expected_key.spki_der:
        return f"the bundle is about log {_b64(key.log_id)}, not {_b64(expected_key.log_id)}"
    for name, seen in (("first", bundle.first), ("second", bundle.second)):
        try:
            seen.sth.verify(key)
        except SignatureError:
            return f"the {name} tree head's signature does not verify under the log's key"
    return None


def _check_equal_size(bundle: EvidenceBundle) -> tuple[Verdict, str]:
    first, second = bundle.first.sth, bundle.second.sth
    if first.tree_size != second.tree_size:
        return Verdict.INVALID, "kind equal-size needs two heads of one size"
    if first.root_hash == second.root_hash:
        return Verdict.INVALID, "both heads have the same root: they agree"
    return Verdict.SPLIT_VIEW, (
        f"the log signed two different roots for tree size {first.tree_size}: "
        f"{first.root_hash.hex()} and {second.root_hash.hex()}"
    )


def _check_inconsistent_proof(bundle: EvidenceBundle) -> tuple[Verdict, str]:
    first, second, proof = bundle.first.sth, bundle.second.sth, bundle.consistency_proof
    if proof is None:
        return Verdict.INVALID, "kind inconsistent-proof needs the consistency proof"
    if not 0 < first.tree_size < second.tree_size:
        return Verdict.INVALID, "kind inconsistent-proof needs 0 < first size < second size"
    judged = judge_consistency(first.tree_head, second.tree_head, proof)
    if judged.outcome is Judgement.SPLIT_VIEW:
        return Verdict.SPLIT_VIEW, judged.reason
    if judged.outcome is Judgement.CONSISTENT:
        return Verdict.INVALID, f"the proof verifies: the heads are consistent ({judged.reason})"
    return Verdict.INVALID, f"the proof proves no split view: {judged.reason}"


def _check_proof_failure(bundle: EvidenceBundle) -> tuple[Verdict, str]:
    first, second, proof = bundle.first.sth, bundle.second.sth, bundle.consistency_proof
    if not 0 < first.tree_size < second.tree_size:
        return Verdict.INVALID, "kind proof-failure needs 0 < first size < second size"
    if proof is None:
        if not bundle.log_error:
            return Verdict.INVALID, "kind proof-failure needs the proof or the log's error"
        return Verdict.UNPROVEN, (
            f"the log gave no consistency proof from {first.tree_size} to "
            f"{second.tree_size} ({bundle.log_error}): misbehaviour or unavailability, "
            "not a proven split view"
        )
    judged = judge_consistency(first.tree_head, second.tree_head, proof)
    if judged.outcome is Judgement.CONSISTENT:
        return Verdict.INVALID, f"the proof verifies: the heads are consistent ({judged.reason})"
    if judged.outcome is Judgement.SPLIT_VIEW:
        return (
            Verdict.INVALID,
            "the proof proves a split view; the kind should be inconsistent-proof",
        )
    return Verdict.UNPROVEN, (
        f"the log's proof does not verify ({judged.reason}): misbehaviour, not a proven split view"
    )


def _proof_from_json(value: object) -> tuple[bytes, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_PROOF_NODES:
        raise InputError(f"consistency_proof must be null or an array of <= {MAX_PROOF_NODES}")
    return tuple(b64decode_strict(node, f"consistency_proof[{i}]") for i, node in enumerate(value))


def _optional_text(value: object, max_chars: int, what: str) -> str | None:
    return None if value is None else bounded_text(value, max_chars, what)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


__all__ = [
    "BUNDLE_VERSION",
    "MAX_BUNDLE_BYTES",
    "EvidenceBundle",
    "EvidenceKind",
    "EvidenceVerdict",
    "Verdict",
    "verify_evidence",
    "verify_evidence_bytes",
]
