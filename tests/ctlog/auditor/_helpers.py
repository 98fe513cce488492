"""Shared pieces of the auditor tests: a fixed clock, a forking log and observation makers."""

from __future__ import annotations

import random

from ctlog.auditor import (
    Alarm,
    AuditedLog,
    AuditorCore,
    AuditorParams,
    EvidenceBundle,
    EvidenceKind,
    FetchConsistency,
    GossipedSth,
    Observation,
    Peer,
    Sender,
    Source,
    encode_pollination,
)
from ctlog.sth import SignedTreeHead
from tests.ctlog.auditor.forking_log import ForkingLog, signing_key_from_seed

NOW_MS = 1_750_000_000_000  # a fixed wall-clock time; STH timestamps sit just below it
LOG_URL = "http://log.test"


def forking_log(*, shared: int = 5, forking: bool = True, seed: int = 1) -> ForkingLog:
    return ForkingLog.create(
        signing_key_from_seed(seed), lambda: NOW_MS - 1000, shared=shared, forking=forking
    )


def seen(sth: SignedTreeHead, source: Source = Source.LOG, origin: str = LOG_URL) -> Observation:
    return Observation(sth, source, origin, NOW_MS)


def make_core(
    log: ForkingLog,
    *,
    peers: tuple[str, ...] = ("p1", "p2"),
    params: AuditorParams | None = None,
    token: str | None = None,
    seed: int = 7,
) -> AuditorCore:
    return AuditorCore(
        "a0",
        [AuditedLog(log.key.public, LOG_URL)],
        [Peer(name, f"http://{name}.test") for name in peers],
        random.Random(seed),
        params,
        peer_token=token,
    )


def make_bundle(
    log: ForkingLog,
    kind: EvidenceKind,
    first: SignedTreeHead,
    second: SignedTreeHead,
    *,
    proof: list[bytes] | None = None,
    log_error: str | None = None,
) -> EvidenceBundle:
    return EvidenceBundle(
        kind=kind,
        log_key=log.key.public,
        log_id=log.key.public.log_id,
        log_url=LOG_URL,
        first=seen(first, Source.LOG),
        second=seen(second, Source.PEER, "p1"),
        consistency_proof=None if proof is None else tuple(proof),
        log_error=log_error,
        reasoning="test",
        auditor="a0",
        detected_ms=NOW_MS,
    )


def split_view_bundles() -> dict[str, EvidenceBundle]:
    """One bundle of each kind from a log forked after 3 leaves, views at size 8."""
    log = forking_log(shared=3)
    log.grow_all(5)
    a6, b8 = log.head_at(0, 6), log.sth(1)
    return {
        "equal-size": make_bundle(log, EvidenceKind.EQUAL_SIZE, log.sth(0), b8),
        "inconsistent-proof": make_bundle(
            log, EvidenceKind.INCONSISTENT_PROOF, a6, b8, proof=log.consistency(1, 6, 8)
        ),
        "refused": make_bundle(
            log, EvidenceKind.PROOF_FAILURE, a6, b8, log_error="HTTP 400: no proof for you"
        ),
        "bad-proof": make_bundle(log, EvidenceKind.PROOF_FAILURE, a6, b8, proof=[bytes(32)] * 3),
    }


PEER = Sender(peer="p1")


def give(core: AuditorCore, log: ForkingLog, *sths: SignedTreeHead, sender: Sender = PEER) -> None:
    body = encode_pollination([GossipedSth(log.key.public.log_id, s) for s in sths])
    core.on_pollination(sender, body, NOW_MS)


def answer_all(
    core: AuditorCore, log: ForkingLog, view: int
) -> tuple[list[FetchConsistency], list[Alarm]]:
    """Answer every proof request (and those the answers lead to) from `view`."""
    asked: list[FetchConsistency] = []
    alarms: list[Alarm] = []
    while True:
        ready = core.ready()
        alarms += ready.alarms
        if not ready.fetch_proofs:
            return asked, alarms
        for f in ready.fetch_proofs:
            asked.append(f)
            core.on_proof(f.request_id, log.consistency(view, f.first, f.second), NOW_MS)
