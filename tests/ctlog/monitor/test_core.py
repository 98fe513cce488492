"""`MonitorCore` fed by hand from the fake log's data: verification, matching, evidence."""

from __future__ import annotations

import json

import pytest

from ctlog.errors import InputError, ProofError, SignatureError, UsageError, VerificationError
from ctlog.keys import LogSigningKey
from ctlog.leaf import LogEntryType
from ctlog.merkle import EMPTY_ROOT, hash_leaf
from ctlog.merkle.reference import reference_consistency_proof, reference_root
from ctlog.monitor.core import REBUILD, Match, MonitorCore, TreeHeadVerified, UnparsedEntry
from ctlog.monitor.names import parse_patterns
from ctlog.monitor.state import MonitorState
from ctlog.sth import SignedTreeHead, TreeHead
from tests.ctlog.fakelog import FakeLog, dev_pki

PATTERNS = parse_patterns(["*.example.com", ".watched.org"])


@pytest.fixture
def fake() -> FakeLog:
    log = FakeLog(dev_pki())
    log.submit(log.pki.issue_leaf(["www.example.com", "other.net"]))
    log.submit(log.pki.issue_leaf(["nothing.net"]))
    log.submit(log.pki.issue_precert(["deep.a.watched.org"]), precert=True)
    log.submit(log.pki.issue_leaf(["a.b.example.com"]))
    return log


def leaves(log: FakeLog, start: int, end: int) -> list[bytes]:
    return [e.leaf_input for e in log.entries[start:end]]


def test_full_run_matches_and_verifies(fake: FakeLog) -> None:
    core = MonitorCore.start(fake.key.public, PATTERNS)
    sth = fake.sth
    assert core.consistency_request(sth) is None
    assert core.accept_sth(sth, ()) == []
    first = core.feed(0, leaves(fake, 0, 2))
    assert first == [
        Match(
            0,
            ("www.example.com", "other.net"),
            LogEntryType.X509_ENTRY,
            fake.entries[0].sct.timestamp,
            ("www.example.com",),
            fake.entries[0].leaf_hash,
        )
    ]
    rest = core.feed(2, leaves(fake, 2, 4))
    match = rest[0]
    assert isinstance(match, Match) and match.index == 2
    assert match.entry_type is LogEntryType.PRECERT_ENTRY and match.matched == (
        "deep.a.watched.org",
    )
    assert rest[1:] == [TreeHeadVerified(sth)]
    assert core.state.verified_sth == sth and core.target is None and core.state.tree_size == 4
    assert match.to_json()["entry_type"] == "precert_entry"


def caught_up(fake: FakeLog) -> MonitorCore:
    core = MonitorCore.start(fake.key.public, PATTERNS)
    core.accept_sth(fake.sth, ())
    core.feed(0, leaves(fake, 0, len(fake.entries)))
    return core


def test_growth_is_checked_by_consistency_proof(fake: FakeLog) -> None:
    core = caught_up(fake)
    fake.submit(fake.pki.issue_leaf(["new.example.com"]))
    new = fake.sth
    assert core.consistency_request(new) == (4, 5)
    core.accept_sth(new, reference_consistency_proof(4, fake.leaf_hashes))
    events = core.feed(4, leaves(fake, 4, 5))
    assert [type(e) for e in events] == [Match, TreeHeadVerified]


def test_bad_consistency_proof_is_evidence_and_changes_nothing(fake: FakeLog) -> None:
    core = caught_up(fake)
    before = core.state
    fake.submit(fake.pki.issue_leaf(["new.example.com"]))
    proof = reference_consistency_proof(4, fake.leaf_hashes)
    proof[0] = bytes(32)
    with pytest.raises(ProofError) as info:
        core.accept_sth(fake.sth, proof)
    assert "inconsistent" in str(info.value)
    assert info.value.evidence["sth1"] == before.verified_sth.to_json()  # type: ignore[union-attr]
    assert info.value.evidence["sth2"] == fake.sth.to_json()
    assert core.state == before


def test_entries_that_miss_the_root_are_evidence(fake: FakeLog) -> None:
    core = MonitorCore.start(fake.key.public, PATTERNS)
    core.accept_sth(fake.sth, ())
    core.feed(0, leaves(fake, 0, 2))
    before = core.state
    tampered = leaves(fake, 2, 4)
    tampered[1] = fake.entries[0].leaf_input
    with pytest.raises(VerificationError) as info:
        core.feed(2, tampered)
    evidence = info.value.evidence
    assert evidence["expected_root"] == fake.sth.root_hash.hex()
    assert evidence["calculated_root"] != evidence["expected_root"]
    assert evidence["tree_size"] == 4 and evidence["sth"] == fake.sth.to_json()
    assert core.state == before


def test_forged_signature_is_refused(fake: FakeLog) -> None:
    core = MonitorCore.start(fake.key.public, PATTERNS)
    forged = SignedTreeHead.sign(fake.sth.tree_head, LogSigningKey.generate())
    with pytest.raises(SignatureError):
        core.accept_sth(forged, ())
    assert core.target is None


def test_two_roots_for_one_size_is_a_split_view(fake: FakeLog) -> None:
    core = caught_up(fake)
    other = SignedTreeHead.sign(TreeHead(4, fake.sth.timestamp + 5, bytes(32)), fake.key)
    with pytest.raises(VerificationError) as info:
        core.accept_sth(other, ())
    assert info.value.evidence == {"sth1": fake.sth.to_json(), "sth2": other.to_json()}


def test_older_tree_heads_must_be_prefixes(fake: FakeLog) -> None:
    old = SignedTreeHead.sign(TreeHead(2, 1, reference_root(fake.leaf_hashes[:2])), fake.key)
    core = caught_up(fake)
    before = core.state
    assert core.consistency_request(old) == (2, 4)
    assert core.accept_sth(old, reference_consistency_proof(2, fake.leaf_hashes)) == []
    assert core.state == before
    bad = SignedTreeHead.sign(TreeHead(2, 1, bytes(32)), fake.key)
    with pytest.raises(ProofError):
        core.accept_sth(bad, reference_consistency_proof(2, fake.leaf_hashes))
    empty_but_not = SignedTreeHead.sign(TreeHead(0, 1, bytes(32)), fake.key)
    with pytest.raises(VerificationError, match="empty tree"):
        core.accept_sth(empty_but_not, ())


def test_rebuild_mode_catches_an_inconsistent_newer_head(fake: FakeLog) -> None:
    core = caught_up(fake)
    fake.submit(fake.pki.issue_leaf(["new.example.com"]))
    forked = [*fake.leaf_hashes[:3], hash_leaf(b"other"), fake.leaf_hashes[4]]
    fork = SignedTreeHead.sign(TreeHead(5, 9, reference_root(forked)), fake.key)
    core.accept_sth(fork, REBUILD)
    with pytest.raises(VerificationError) as info:
        core.feed(4, leaves(fake, 4, 5))
    assert info.value.evidence["previous_sth"] == core.state.verified_sth.to_json()  # type: ignore[union-attr]


def test_empty_log_is_verified_at_once() -> None:
    log = FakeLog(dev_pki())
    core = MonitorCore.start(log.key.public, PATTERNS)
    assert log.sth.root_hash == EMPTY_ROOT
    assert core.accept_sth(log.sth, ()) == [TreeHeadVerified(log.sth)]


def test_unreadable_entries_are_reported_and_still_hashed() -> None:
    log = FakeLog(dev_pki())
    garbage = b"\x00\x00junk"
    sth = SignedTreeHead.sign(TreeHead(1, 5, hash_leaf(garbage)), log.key)
    core = MonitorCore.start(log.key.public, PATTERNS)
    core.accept_sth(sth, ())
    events = core.feed(0, [garbage])
    assert isinstance(events[0], UnparsedEntry) and events[0].index == 0
    assert "TimestampedEntry" in events[0].reason or "truncated" in events[0].reason
    assert events[1] == TreeHeadVerified(sth)


def test_misuse_is_a_usage_error(fake: FakeLog) -> None:
    core = MonitorCore.start(fake.key.public, PATTERNS)
    with pytest.raises(UsageError, match="accept one first"):
        core.feed(0, leaves(fake, 0, 1))
    core.accept_sth(fake.sth, ())
    with pytest.raises(UsageError, match="continue at 0"):
        core.feed(1, leaves(fake, 1, 2))
    with pytest.raises(UsageError, match="past the target"):
        core.feed(0, [*leaves(fake, 0, 4), b"x"])
    with pytest.raises(UsageError, match="pending"):
        core.accept_sth(fake.sth, ())
    with pytest.raises(UsageError, match="is for log"):
        MonitorCore(LogSigningKey.generate().public, core.state)


def test_state_round_trips_and_resumes(fake: FakeLog) -> None:
    core = MonitorCore.start(fake.key.public, PATTERNS)
    core.accept_sth(fake.sth, ())
    core.feed(0, leaves(fake, 0, 3))
    loaded = MonitorState.from_json_bytes(core.state.to_json_bytes())
    assert loaded == core.state
    resumed = MonitorCore(fake.key.public, loaded)
    assert resumed.feed(3, leaves(fake, 3, 4))[-1] == TreeHeadVerified(fake.sth)


def state_json(fake: FakeLog) -> dict[str, object]:
    core = MonitorCore.start(fake.key.public, PATTERNS)
    core.accept_sth(fake.sth, ())
    core.feed(0, leaves(fake, 0, 3))
    obj: dict[str, object] = json.loads(core.state.to_json_bytes())
    return obj


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"version": 2}, "version 1"),
        ({"tree_size": 4}, "inconsistent"),
        ({"range_hashes": ["zz"]}, "not hex"),
        ({"patterns": ["*"]}, "patterns"),
        ({"target_sth": None}, "inconsistent"),
        ({"log_id": "00"}, "inconsistent"),
    ],
)
def test_state_files_are_parsed_strictly(
    fake: FakeLog, change: dict[str, object], needle: str
) -> None:
    obj = {**state_json(fake), **change}
    with pytest.raises(InputError) as info:
        MonitorState.from_json_bytes(json.dumps(obj).encode())
    assert needle in str(info.value)


def test_garbage_state_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not JSON"):
        MonitorState.from_json_bytes(b"\x00garbage")
