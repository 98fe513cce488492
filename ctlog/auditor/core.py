"""`AuditorCore`: the sans-I/O gossiping auditor (RFC 6962 §5.4, draft-ietf-trans-gossip §8.2).

It keeps, per audited log, the chain of heads proven consistent (`_chain.LogAudit`) and a
bounded pool of fresh STHs to pollinate (`_pool.GossipPool`). Heads come from its own polls
of each log, from peer auditors and from clients; only validly signed, fresh heads of the
configured logs are taken, everything else is counted by reason and dropped. For every new
head it asks the log for one consistency proof (see `_chain`), and every pair of heads that
cannot both be true becomes an `Alarm` with a self-checked evidence bundle.

Time (`now_ms`, the driver's wall clock in ms) and randomness (`rng`) are inputs; the core
does no I/O. The driver calls `tick` and the `on_*` methods and carries out `ready()`.
"""

from __future__ import annotations

import enum
import hmac
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ctlog.auditor._chain import ChainLimits, Conflict, LogAudit
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
from ctlog.auditor._pool import FRESH_MS, MAX_POOL_PER_LOG, GossipPool, RandomSource
from ctlog.auditor.evidence import EvidenceBundle, verify_evidence
from ctlog.auditor.observation import Observation, Source
from ctlog.auditor.pollination import GossipedSth, decode_pollination, encode_pollination
from ctlog.errors import InputError, SignatureError, UsageError
from ctlog.keys import LogPublicKey
from ctlog.merkle import EMPTY_ROOT
from ctlog.sth import SignedTreeHead

MAX_STHS_PER_GOSSIP = 32  # per message: a few rounds spread a pool; keeps messages ~8 KiB
MAX_CLOCK_SKEW_MS = 5 * 60 * 1000  # STHs stamped further in the future are not believed
MAX_ALARMS_PER_LOG = 64  # evidence files per log; one proven split view is enough to act on
MAX_ALARM_SUMMARIES = 256  # alarms listed in /status


class Rejection(enum.Enum):
    """Why an STH was not taken. The first two are errors of the sender (HTTP 400)."""

    BAD_SIGNATURE = "bad_signature"
    BAD_EMPTY_ROOT = "bad_empty_root"
    UNKNOWN_LOG = "unknown_log"
    STALE = "stale"
    FUTURE = "future"

    @property
    def is_error(self) -> bool:
        return self in (Rejection.BAD_SIGNATURE, Rejection.BAD_EMPTY_ROOT)


@dataclass(frozen=True, slots=True)
class AuditorParams:
    poll_interval_ms: int = 10_000
    gossip_interval_ms: int = 5_000
    max_sths_per_gossip: int = MAX_STHS_PER_GOSSIP
    fresh_ms: int = FRESH_MS
    max_clock_skew_ms: int = MAX_CLOCK_SKEW_MS
    max_pool_per_log: int = MAX_POOL_PER_LOG
    max_alarms_per_log: int = MAX_ALARMS_PER_LOG
    accept_clients: bool = True
    chain: ChainLimits = field(default_factory=ChainLimits)

    def __post_init__(self) -> None:
        for name in ("poll_interval_ms", "gossip_interval_ms", "max_sths_per_gossip"):
            if getattr(self, name) <= 0:
                raise UsageError(f"{name} must be positive")


class AuditorCore:
    """One auditor's state; see the module docstring."""

    def __init__(
        self,
        name: str,
        logs: Sequence[AuditedLog],
        peers: Sequence[Peer],
        rng: RandomSource,
        params: AuditorParams | None = None,
        *,
        peer_token: str | None = None,
    ) -> None:
        self.name = name
        self.params = params or AuditorParams()
        self._rng = rng
        self._peer_token = peer_token
        self._logs = {log.log_id: log for log in logs}
        self._peers = {peer.name: peer for peer in peers}
        if len(self._logs) != len(logs) or len(self._peers) != len(peers):
            raise UsageError("log keys and peer names must be distinct")
        self.audits = {log_id: LogAudit(self.params.chain) for log_id in self._logs}
        self.pool = GossipPool(self.params.max_pool_per_log)
        self.counters: Counter[str] = Counter()
        self.alarm_summaries: list[dict[str, object]] = []
        self._next_poll_ms = dict.fromkeys(self._logs, 0)
        self._polling: set[bytes] = set()
        self._next_gossip_ms = 0
        self._last_gossip_ms = dict.fromkeys(self._peers, -1)
        self._requests: dict[int, bytes] = {}
        self._next_request_id = 1
        self._alarmed: set[tuple[object, ...]] = set()
        self._alarms_per_log: Counter[bytes] = Counter()
        self._ready = _Pending()

    # -- time -------------------------------------------------------------------------------

    def tick(self, now_ms: int) -> None:
        """Start due polls, proof checks and the gossip round."""
        for log_id, log in self._logs.items():
            if now_ms >= self._next_poll_ms[log_id] and log_id not in self._polling:
                self._polling.add(log_id)
                self._next_poll_ms[log_id] = now_ms + self.params.poll_interval_ms
                self._ready.fetch_sths.append(FetchSth(log_id, log.url))
            self._start_checks(log_id, now_ms)
        if now_ms >= self._next_gossip_ms:
            self._next_gossip_ms = now_ms + self.params.gossip_interval_ms
            self.counters["aged_out"] += self.pool.age_out(now_ms, self.params.fresh_ms)
            for peer in self._peers.values():
                self._gossip_to(peer, now_ms)

    def _gossip_to(self, peer: Peer, now_ms: int) -> None:
        sths = self.pool.select(
            self._rng,
            self.params.max_sths_per_gossip,
            newer_than_ms=self._last_gossip_ms[peer.name],
            exclude_peer=peer.name,
        )
        self._last_gossip_ms[peer.name] = now_ms
        self._ready.pollinations.append(SendPollination(peer.name, peer.url, tuple(sths)))
        self.counters["pollinations_sent"] += 1

    # -- the log ----------------------------------------------------------------------------

    def on_sth(self, log_id: bytes, sth: SignedTreeHead, now_ms: int) -> Rejection | None:
        """The log answered a FetchSth; a rejected answer is counted and returned."""
        self._polling.discard(log_id)
        self.counters["polls_ok"] += 1
        rejection = self.check_sth(log_id, sth, now_ms)
        if rejection is not None:
            self.counters[f"poll_rejected_{rejection.value}"] += 1
            return rejection
        self._accept(log_id, Observation(sth, Source.LOG, self._logs[log_id].url, now_ms), now_ms)
        return None

    def on_sth_failed(self, log_id: bytes, reason: str, now_ms: int) -> None:
        self._polling.discard(log_id)
        self.counters["polls_failed"] += 1

    def on_proof(self, request_id: int, proof: Sequence[bytes], now_ms: int) -> None:
        """The log served the consistency proof asked for by `request_id`."""
        log_id = self._requests.pop(request_id, None)
        if log_id is None:
            return
        conflict = self.audits[log_id].proof_received(request_id, proof)
        self.counters["proofs_received"] += 1
        if conflict is not None:
            self._alarm(log_id, conflict, now_ms)
        self._start_checks(log_id, now_ms)

    def on_proof_failed(self, request_id: int, error: str, *, refused: bool, now_ms: int) -> None:
        """No proof for `request_id`: `refused` if the log answered with an error (4xx),
        else it was unreachable (timeouts, 5xx, 429), which is retried and never alarms."""
        log_id = self._requests.pop(request_id, None)
        if log_id is None:
            return
        self.counters["proofs_refused" if refused else "proofs_unavailable"] += 1
        conflict = self.audits[log_id].proof_failed(
            request_id, error, refused=refused, now_ms=now_ms
        )
        if conflict is not None:
            self._alarm(log_id, conflict, now_ms)

    # -- pollination ------------------------------------------------------------------------

    def on_pollination(self, sender: Sender, body: bytes, now_ms: int) -> bytes:
        """A POST to the sth-pollination endpoint; returns the reply body (a selection of
        fresh STHs). Raises `InputError` (403 sender, 400 content, 413 size); a message is
        taken whole or not at all."""
        self._authorize(sender)
        try:
            sths = decode_pollination(body)
        except InputError:
            self.counters["pollinations_malformed"] += 1
            raise
        source = Source.CLIENT if sender.peer is None else Source.PEER
        self._take(sths, source, sender.peer or sender.address, now_ms)
        self.counters[f"pollinations_from_{source.value}"] += 1
        reply = self.pool.select(
            self._rng,
            self.params.max_sths_per_gossip,
            newer_than_ms=now_ms - self.params.gossip_interval_ms,
            exclude_peer=sender.peer,
        )
        return encode_pollination(reply)

    def on_pollination_reply(self, peer: str, sths: Sequence[GossipedSth], now_ms: int) -> None:
        """A peer's (decoded) reply to our pollination; `InputError` if one STH is forged."""
        if peer not in self._peers:
            raise UsageError(f"{peer!r} is not a peer of this auditor")
        self._take(sths, Source.PEER, peer, now_ms)
        self.counters["replies_ok"] += 1

    def on_pollination_failed(self, peer: str, reason: str, now_ms: int) -> None:
        self.counters["pollinations_failed"] += 1

    def _authorize(self, sender: Sender) -> None:
        if sender.peer is None:
            if not self.params.accept_clients:
                self.counters["refused_clients"] += 1
                raise InputError(
                    "this auditor takes pollination from its peers only", http_status=403
                )
            return
        if sender.peer not in self._peers:
            self.counters["refused_unknown_peers"] += 1
            raise InputError(f"unknown peer {sender.peer!r:.70}", http_status=403)
        token = self._peer_token
        if token is not None and not hmac.compare_digest(
            (sender.token or "").encode(), token.encode()
        ):
            self.counters["refused_bad_token"] += 1
            raise InputError(f"peer {sender.peer!r} did not authenticate", http_status=403)

    def _take(self, sths: Sequence[GossipedSth], source: Source, origin: str, now_ms: int) -> None:
        """Check every STH first, then accept them all, or raise for the first bad one."""
        checked = [(item, self.check_sth(item.log_id, item.sth, now_ms)) for item in sths]
        for i, (_, rejection) in enumerate(checked):
            if rejection is not None and rejection.is_error:
                self.counters[f"rejected_{rejection.value}"] += 1
                raise InputError(f"sths[{i}]: {_describe(rejection)}")
        for item, rejection in checked:
            if rejection is not None:
                self.counters[f"skipped_{rejection.value}"] += 1
            else:
                self._accept(
                    item.log_id, Observation(item.sth, source, origin[:256], now_ms), now_ms
                )

    # -- heads ------------------------------------------------------------------------------

    def check_sth(self, log_id: bytes, sth: SignedTreeHead, now_ms: int) -> Rejection | None:
        """Why `sth` is not taken (unknown log, not fresh, forged), or None to take it."""
        log = self._logs.get(log_id)
        if log is None:
            return Rejection.UNKNOWN_LOG
        if sth.timestamp <= now_ms - self.params.fresh_ms:
            return Rejection.STALE  # draft-ietf-trans-gossip §8.2: only fresh STHs
        if sth.timestamp > now_ms + self.params.max_clock_skew_ms:
            return Rejection.FUTURE
        try:
            sth.verify(log.key)
        except SignatureError:
            return Rejection.BAD_SIGNATURE
        if sth.tree_size == 0 and sth.root_hash != EMPTY_ROOT:
            return Rejection.BAD_EMPTY_ROOT  # RFC 6962 §2.1: MTH({}) = SHA-256()
        return None

    def _accept(self, log_id: bytes, seen: Observation, now_ms: int) -> None:
        self.counters["sths_new" if self.pool.add(log_id, seen) else "sths_duplicate"] += 1
        conflict = self.audits[log_id].offer(seen)
        if conflict is not None:
            self._alarm(log_id, conflict, now_ms)
        self._start_checks(log_id, now_ms)

    def _start_checks(self, log_id: bytes, now_ms: int) -> None:
        checks, conflicts = self.audits[log_id].start_checks(now_ms, self._new_request_id)
        url = self._logs[log_id].url
        for check in checks:
            self._requests[check.request_id] = log_id
            first, second = check.first.tree_size, check.second.tree_size
            self._ready.fetch_proofs.append(
                FetchConsistency(check.request_id, log_id, url, first, second)
            )
        for conflict in conflicts:
            self._alarm(log_id, conflict, now_ms)

    def _new_request_id(self) -> int:
        self._next_request_id += 1
        return self._next_request_id - 1

    def _alarm(self, log_id: bytes, conflict: Conflict, now_ms: int) -> None:
        identity = (log_id, conflict.kind, conflict.first.key, conflict.second.key)
        if identity in self._alarmed:
            return
        self._alarmed.add(identity)
        if self._alarms_per_log[log_id] >= self.params.max_alarms_per_log:
            self.counters["alarms_suppressed"] += 1
            return
        self._alarms_per_log[log_id] += 1
        log = self._logs[log_id]
        bundle = EvidenceBundle(
            kind=conflict.kind,
            log_key=log.key,
            log_id=log_id,
            log_url=log.url,
            first=conflict.first,
            second=conflict.second,
            consistency_proof=conflict.proof,
            log_error=None if conflict.log_error is None else conflict.log_error[:1024],
            reasoning=conflict.reasoning[:4096],
            auditor=self.name,
            detected_ms=now_ms,
        )
        verdict = verify_evidence(bundle)
        self.counters[f"alarms_{verdict.verdict.value}"] += 1
        self._ready.alarms.append(Alarm(bundle, verdict))
        if len(self.alarm_summaries) < MAX_ALARM_SUMMARIES:
            self.alarm_summaries.append(
                {**verdict.to_json(), "file": bundle.file_name, "detected_ms": now_ms}
            )

    # -- driver interface -------------------------------------------------------------------

    def ready(self) -> Ready:
        """Take what is to be done; see `Ready` for the order."""
        pending, self._ready = self._ready, _Pending()
        return Ready(
            tuple(pending.alarms),
            tuple(pending.fetch_sths),
            tuple(pending.fetch_proofs),
            tuple(pending.pollinations),
        )

    def log_key(self, log_id: bytes) -> LogPublicKey | None:
        log = self._logs.get(log_id)
        return None if log is None else log.key

    def status(self) -> dict[str, object]:
        logs = [
            {
                "log_id": log.log_id.hex(),
                "url": log.url,
                "top_size": audit.top.tree_size if audit.top else None,
                "verified": len(audit.verified_heads),
                "unsettled": len(audit.unsettled_heads),
                "inflight_proofs": audit.inflight,
                "proofs_verified": audit.proofs_verified,
                "dropped": audit.dropped,
            }
            for log, audit in ((self._logs[i], self.audits[i]) for i in self._logs)
        ]
        return {
            "name": self.name,
            "logs": logs,
            "peers": sorted(self._peers),
            "pool_size": len(self.pool),
            "counters": dict(sorted(self.counters.items())),
            "alarms": list(self.alarm_summaries),
        }


@dataclass(slots=True)
class _Pending:
    alarms: list[Alarm] = field(default_factory=list)
    fetch_sths: list[FetchSth] = field(default_factory=list)
    fetch_proofs: list[FetchConsistency] = field(default_factory=list)
    pollinations: list[SendPollination] = field(default_factory=list)


def _describe(rejection: Rejection) -> str:
    if rejection is Rejection.BAD_SIGNATURE:
        return "the tree head signature does not verify under the log's key"
    return "a tree of size 0 must have the empty root (RFC 6962 §2.1)"


__all__ = [
    "MAX_ALARMS_PER_LOG",
    "MAX_CLOCK_SKEW_MS",
    "MAX_STHS_PER_GOSSIP",
    "AuditorCore",
    "AuditorParams",
    "Rejection",
]
