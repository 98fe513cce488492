"""Evidence bundles: round trip, verdicts, and every tamper caught with its reason."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from ctlog.auditor import EvidenceBundle, EvidenceKind, Verdict, verify_evidence
from ctlog.auditor.evidence import MAX_BUNDLE_BYTES, verify_evidence_bytes
from ctlog.keys import LogSigningKey
from ctlog.merkle.reference import reference_consistency_proof
from tests.ctlog.auditor._helpers import forking_log, make_bundle, split_view_bundles

BUNDLES = split_view_bundles()


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("equal-size", Verdict.SPLIT_VIEW),
        ("inconsistent-proof", Verdict.SPLIT_VIEW),
        ("refused", Verdict.UNPROVEN),
        ("bad-proof", Verdict.UNPROVEN),
    ],
)
def test_each_kind_gets_its_verdict(name: str, verdict: Verdict) -> None:
    bundle = BUNDLES[name]
    result = verify_evidence(bundle)
    assert result.verdict is verdict, result.reason
    assert result.kind is bundle.kind
    assert result.log_id == bundle.log_id
    assert (result.first_size, result.second_size) == (
        bundle.first.tree_size,
        bundle.second.tree_size,
    )
    assert EvidenceBundle.from_bytes(bundle.to_bytes()) == bundle
    assert verify_evidence_bytes(bundle.to_bytes()) == result


def test_unproven_says_what_it_shows() -> None:
    result = verify_evidence(BUNDLES["refused"])
    assert "misbehaviour or unavailability, not a proven split view" in result.reason
    assert "no proof for you" in result.reason
    assert not result.proves_split_view


def test_the_file_name_names_the_log_and_sizes() -> None:
    bundle = BUNDLES["inconsistent-proof"]
    assert bundle.file_name == f"{bundle.log_id.hex()}-6-8.json"


def _flip_signature(obj: dict[str, Any], which: str) -> None:
    sth = obj[which]["sth"]
    sig = bytearray(base64.b64decode(sth["tree_head_signature"]))
    sig[-1] ^= 1
    sth["tree_head_signature"] = base64.b64encode(bytes(sig)).decode()


def _other_key(obj: dict[str, Any], *, fix_log_id: bool) -> None:
    other = LogSigningKey.generate().public
    obj["log"]["public_key"] = base64.b64encode(other.spki_der).decode()
    if fix_log_id:
        obj["log"]["log_id"] = base64.b64encode(other.log_id).decode()


def _consistent_proof(obj: dict[str, Any]) -> None:
    """Replace both heads with two honest ones and an honest proof."""
    log = forking_log(shared=3, forking=False)
    log.grow(0, 5)
    bundle = make_bundle(
        log,
        EvidenceKind.INCONSISTENT_PROOF,
        log.head_at(0, 6),
        log.sth(0),
        proof=reference_consistency_proof(6, log.views[0]),
    )
    obj.clear()
    obj.update(bundle.to_json())


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def tamper(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for name in parents:
            obj = obj[name]
        obj[last] = value

    return tamper


TAMPERS: dict[str, tuple[str, Callable[[dict[str, Any]], None], str]] = {
    "first signature": (
        "inconsistent-proof",
        lambda o: _flip_signature(o, "first"),
        "first tree head's signature does not verify",
    ),
    "second signature": (
        "equal-size",
        lambda o: _flip_signature(o, "second"),
        "second tree head's signature does not verify",
    ),
    "root changed": (
        "equal-size",
        _set("second.sth.sha256_root_hash", base64.b64encode(bytes(32)).decode()),
        "second tree head's signature does not verify",
    ),
    "size changed": (
        "inconsistent-proof",
        _set("first.sth.tree_size", 7),
        "first tree head's signature does not verify",
    ),
    "key swapped": (
        "equal-size",
        lambda o: _other_key(o, fix_log_id=False),
        "log_id is not the SHA-256 of log.public_key",
    ),
    "key and log id swapped": (
        "equal-size",
        lambda o: _other_key(o, fix_log_id=True),
        "first tree head's signature does not verify",
    ),
    "proof is consistent": ("inconsistent-proof", _consistent_proof, "the proof verifies"),
    "proof dropped": (
        "inconsistent-proof",
        _set("consistency_proof", None),
        "needs the consistency proof",
    ),
    "proof altered": (
        "inconsistent-proof",
        _set("consistency_proof", [base64.b64encode(bytes(32)).decode()] * 3),
        "proves no split view",
    ),
    "heads swapped": ("inconsistent-proof", lambda o: _swap(o), "must not be larger"),
    "kind relabelled": (
        "inconsistent-proof",
        _set("kind", "equal-size"),
        "needs two heads of one size",
    ),
    "unproven relabelled": (
        "bad-proof",
        _set("kind", "inconsistent-proof"),
        "proves no split view",
    ),
    "refusal without error": (
        "refused",
        _set("log_error", None),
        "needs the proof or the log's error",
    ),
    "same head twice": ("equal-size", lambda o: o.update(second=o["first"]), "same tree head"),
    "unknown version": ("equal-size", _set("version", 2), "malformed bundle: bundle version"),
    "unknown kind": ("equal-size", _set("kind", "vibes"), "malformed bundle: unknown evidence"),
    "extra field": ("equal-size", _set("extra", 1), "malformed bundle: bundle has unknown"),
    "bad source": (
        "equal-size",
        _set("first.observed.source", "rumour"),
        "malformed bundle: first.observed.source",
    ),
    "bad base64": (
        "inconsistent-proof",
        _set("consistency_proof", ["!!"]),
        "malformed bundle: consistency_proof[0] is not valid base64",
    ),
}


def _swap(obj: dict[str, Any]) -> None:
    obj["first"], obj["second"] = obj["second"], obj["first"]


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_a_tampered_bundle_is_invalid_with_its_reason(name: str) -> None:
    base, tamper, reason = TAMPERS[name]
    obj = BUNDLES[base].to_json()
    tamper(obj)
    result = verify_evidence_bytes(json.dumps(obj).encode())
    assert result.verdict is Verdict.INVALID
    assert reason in result.reason
    assert not result.proves_split_view


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "malformed bundle: bundle is not valid JSON"),
        (b"[]", "malformed bundle: bundle must be a JSON object"),
        (b'{"version": 1, "version": 1}', "duplicate key"),
        (b"\xff\xfe", "not UTF-8"),
        (b" " * (MAX_BUNDLE_BYTES + 1), "over the limit"),
    ],
)
def test_garbage_is_invalid(data: bytes, reason: str) -> None:
    result = verify_evidence_bytes(data)
    assert result.verdict is Verdict.INVALID
    assert reason in result.reason


def test_a_pinned_key_must_match() -> None:
    other = LogSigningKey.generate().public
    result = verify_evidence(BUNDLES["equal-size"], expected_key=other)
    assert result.verdict is Verdict.INVALID
    assert "not" in result.reason and base64.b64encode(other.log_id).decode() in result.reason
    pinned = verify_evidence(BUNDLES["equal-size"], expected_key=BUNDLES["equal-size"].log_key)
    assert pinned.verdict is Verdict.SPLIT_VIEW
