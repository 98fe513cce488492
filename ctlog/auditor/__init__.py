"""Gossiping CT auditors: STH pollination between peers and clients, consistency checking of
every pair of tree heads, and offline-checkable split-view evidence (RFC 6962 §5.4,
draft-ietf-trans-gossip §8.2). See docs/ctlog/auditor.md.

The names here are pure (no I/O). The asyncio/aiohttp side lives in `ctlog.auditor.driver`
(`AuditorDriver`), `ctlog.auditor.client` (`pollinate`) and `ctlog.auditor.config`.
"""

from ctlog.auditor._effects import (
    Alarm,
    AuditedLog,
    FetchConsistency,
    FetchSth,
    Peer,
    Ready,
    Sender,
    SendPollination,
)
from ctlog.auditor.core import AuditorCore, AuditorParams, Rejection
from ctlog.auditor.evidence import (
    EvidenceBundle,
    EvidenceKind,
    EvidenceVerdict,
    Verdict,
    verify_evidence,
    verify_evidence_bytes,
)
from ctlog.auditor.judge import Judgement, ProofJudgement, judge_consistency
from ctlog.auditor.observation import Observation, Source
from ctlog.auditor.pollination import (
    POLLINATION_PATH,
    GossipedSth,
    decode_pollination,
    encode_pollination,
)

__all__ = [
    "POLLINATION_PATH",
    "Alarm",
    "AuditedLog",
    "AuditorCore",
    "AuditorParams",
    "EvidenceBundle",
    "EvidenceKind",
    "EvidenceVerdict",
    "FetchConsistency",
    "FetchSth",
    "GossipedSth",
    "Judgement",
    "Observation",
    "Peer",
    "ProofJudgement",
    "Ready",
    "Rejection",
    "SendPollination",
    "Sender",
    "Source",
    "Verdict",
    "decode_pollination",
    "encode_pollination",
    "judge_consistency",
    "verify_evidence",
    "verify_evidence_bytes",
]
