"""AuditorCore: what it takes, which proofs it asks for, and when it raises an alarm."""

from __future__ import annotations

import pytest

from ctlog.auditor import (
    AuditorCore,
    AuditorParams,
    EvidenceKind,
    Verdict,
)
from ctlog.auditor._chain import ChainLimits
from ctlog.auditor.evidence import verify_evidence_bytes
from ctlog.errors import InputError
from ctlog.keys import LogSigningKey
from ctlog.sth import SignedTreeHead, TreeHead
from tests.ctlog.auditor._helpers import NOW_MS, answer_all, forking_log, give, make_core
from tests.ctlog.auditor.forking_log import ForkingLog


def test_one_proof_per_new_head_against_its_chain_neighbour() -> None:
    log = forking_log(shared=0, forking=False)
    log.grow(0, 20)
    core = make_core(log)
    asked: list[tuple[int, int]] = []
    for size in (5, 10, 7, 12, 3, 16, 9, 10):
        give(core, log, log.head_at(0, size))
        fetches, alarms = answer_all(core, log, 0)
        asked += [(f.first, f.second) for f in fetches]
        assert alarms == []
    assert asked == [(5, 10), (7, 10), (10, 12), (3, 5), (12, 16), (9, 10)]
    audit = core.audits[log.key.public.log_id]
    assert [h.tree_size for h in audit.verified_heads] == [3, 5, 7, 9, 10, 12, 16]
    assert core.counters["sths_duplicate"] == 1 and core.counters["sths_new"] == 7


def test_a_head_checked_against_an_old_top_is_checked_again() -> None:
    log = forking_log(shared=6)
    log.grow(0, 4)
    log.grow(1, 4)
    give(core := make_core(log), log, log.head_at(0, 6))  # shared: the chain's top
    give(core, log, log.head_at(0, 9), log.head_at(1, 10))  # both extend 6, differently
    first_round = core.ready().fetch_proofs
    assert [(f.first, f.second) for f in first_round] == [(6, 9), (6, 10)]
    core.on_proof(first_round[0].request_id, log.consistency(0, 6, 9), NOW_MS)
    core.on_proof(first_round[1].request_id, log.consistency(1, 6, 10), NOW_MS)
    ready = core.ready()
    assert ready.alarms == ()
    assert [(f.first, f.second) for f in ready.fetch_proofs] == [(9, 10)]
    (again,) = ready.fetch_proofs
    core.on_proof(again.request_id, log.consistency(1, 9, 10), NOW_MS)
    (alarm,) = core.ready().alarms
    assert alarm.bundle.kind is EvidenceKind.INCONSISTENT_PROOF
    assert alarm.verdict.verdict is Verdict.SPLIT_VIEW
    assert (alarm.bundle.first.sth, alarm.bundle.second.sth) == (
        log.head_at(0, 9).__class__(
            alarm.bundle.first.sth.tree_head, alarm.bundle.first.sth.signature
        ),
        alarm.bundle.second.sth,
    )
    assert (alarm.bundle.first.tree_size, alarm.bundle.second.tree_size) == (9, 10)


def test_equal_sizes_with_two_roots_alarm_at_once() -> None:
    log = forking_log(shared=3)
    log.grow_all(5)
    core = make_core(log)
    core.on_sth(log.key.public.log_id, log.sth(0), NOW_MS)
    give(core, log, log.sth(1))
    ready = core.ready()
    assert ready.fetch_proofs == ()
    (alarm,) = ready.alarms
    assert alarm.bundle.kind is EvidenceKind.EQUAL_SIZE
    assert {alarm.bundle.first.root_hash, alarm.bundle.second.root_hash} == {
        log.sth(0).root_hash,
        log.sth(1).root_hash,
    }
    assert alarm.bundle.second.origin == "p1"
    assert verify_evidence_bytes(alarm.bundle.to_bytes()).verdict is Verdict.SPLIT_VIEW
    give(core, log, log.head_at(1, 8))  # the same tree head again, another timestamp
    assert core.ready().alarms == ()


def test_a_smaller_head_of_another_view_is_proven_with_the_logs_proof() -> None:
    log = forking_log(shared=3)
    log.grow(0, 9)
    log.grow(1, 3)
    core = make_core(log)
    core.on_sth(log.key.public.log_id, log.sth(0), NOW_MS)  # view A, size 12
    give(core, log, log.sth(1))  # view B, size 6
    asked, (alarm,) = answer_all(core, log, 0)  # the log shows this auditor view A
    assert [(f.first, f.second) for f in asked] == [(6, 12)]
    assert alarm.bundle.kind is EvidenceKind.INCONSISTENT_PROOF
    assert alarm.bundle.consistency_proof == tuple(log.consistency(0, 6, 12))
    assert verify_evidence_bytes(alarm.bundle.to_bytes()).verdict is Verdict.SPLIT_VIEW


def asking_for_a_proof(limits: ChainLimits) -> tuple[ForkingLog, AuditorCore]:
    """A core holding heads 5 and 10 of an honest log, so it asks for PROOF(5, 10)."""
    log = forking_log(shared=0, forking=False)
    log.grow(0, 10)
    core = make_core(log, params=AuditorParams(chain=limits))
    give(core, log, log.head_at(0, 5), log.head_at(0, 10))
    return log, core


def test_a_log_that_keeps_refusing_a_proof_is_reported_unproven() -> None:
    _, core = asking_for_a_proof(ChainLimits(max_refusals=3, retry_ms=100))
    now = NOW_MS
    for attempt in range(3):
        (fetch,) = core.ready().fetch_proofs
        core.on_proof_failed(fetch.request_id, "HTTP 400: nope", refused=True, now_ms=now)
        core.tick(now + 1)
        if attempt < 2:
            assert core.ready().fetch_proofs == ()  # backing off
            now += 100 << attempt
            core.tick(now)
    (alarm,) = core.ready().alarms
    assert alarm.bundle.kind is EvidenceKind.PROOF_FAILURE
    assert alarm.bundle.log_error == "HTTP 400: nope"
    assert alarm.verdict.verdict is Verdict.UNPROVEN


def test_an_unreachable_log_is_retried_and_never_alarms() -> None:
    log, core = asking_for_a_proof(ChainLimits(retry_ms=10, retry_max_ms=40))
    now = NOW_MS
    for _ in range(20):
        (fetch,) = core.ready().fetch_proofs
        core.on_proof_failed(fetch.request_id, "timeout", refused=False, now_ms=now)
        now += 40
        core.tick(now)
    asked, alarms = answer_all(core, log, 0)
    assert alarms == [] and [(f.first, f.second) for f in asked] == [(5, 10)]
    assert core.counters["proofs_unavailable"] == 20
    top = core.audits[log.key.public.log_id].top
    assert top is not None and top.tree_size == 10


def test_alarms_per_log_are_bounded() -> None:
    log = forking_log(shared=3)
    log.grow_all(5)
    core = make_core(log, params=AuditorParams(max_alarms_per_log=1))
    give(core, log, log.sth(0), log.sth(1), log.head_at(1, 7), log.head_at(0, 7))
    assert len(core.ready().alarms) == 1
    assert core.counters["alarms_suppressed"] == 1


def test_polls_are_spaced_and_never_overlap() -> None:
    log = forking_log()
    core = make_core(log, params=AuditorParams(poll_interval_ms=1000))
    core.tick(NOW_MS)
    (fetch,) = core.ready().fetch_sths
    assert fetch.url == "http://log.test"
    core.tick(NOW_MS + 2000)
    assert core.ready().fetch_sths == ()  # the first poll is still out
    core.on_sth_failed(fetch.log_id, "timeout", NOW_MS + 2000)
    core.tick(NOW_MS + 2001)
    assert len(core.ready().fetch_sths) == 1
    assert core.counters["polls_failed"] == 1


def test_a_bad_signature_from_the_log_itself_is_counted_not_taken() -> None:
    log = forking_log()
    core = make_core(log)
    core.tick(NOW_MS)
    forged = SignedTreeHead.sign(log.sth(0).tree_head, LogSigningKey.generate())
    assert core.on_sth(log.key.public.log_id, forged, NOW_MS) is not None
    assert core.counters["poll_rejected_bad_signature"] == 1
    assert len(core.pool) == 0


@pytest.mark.parametrize("size", [0, 5])
def test_heads_of_size_zero_need_the_empty_root(size: int) -> None:
    log = forking_log(shared=size, forking=False)
    core = make_core(log)
    give(core, log, log.sth(0))
    assert core.ready().fetch_proofs == ()
    bad = SignedTreeHead.sign(TreeHead(0, NOW_MS - 1, bytes(32)), log.key)
    with pytest.raises(InputError, match="size 0 must have the empty root") as info:
        give(core, log, bad)
    assert info.value.http_status == 400
