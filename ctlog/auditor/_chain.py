"""Per-log consistency bookkeeping of an auditor (pure): which heads are proven to lie on one
chain, which wait for a proof, and which conflict with the chain.

Invariant (the chain): every head in `verified` is a prefix of `top`, shown by consistency
proofs directly or through other verified heads (RFC 6962 §5.4: an auditor checks any two
heads of a log with a consistency proof). A prefix of a tree is unique, so a new head X needs
only one proof: X -> the smallest verified head larger than X (then X is a prefix of top) or
top -> X (then every verified head is a prefix of X and X becomes top). Transitivity holds
only along the chain: a proof from an older top to X does not put X on the chain once top has
moved (X and the new top could extend the old one differently), so X is checked again.
Equal sizes need no proof: two roots for one size conflict at once.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ctlog.auditor.evidence import EvidenceKind
from ctlog.auditor.judge import Judgement, judge_consistency
from ctlog.auditor.observation import HeadKey, Observation
from ctlog.errors import InputError

MAX_VERIFIED_PER_LOG = 256  # chain heads kept as proof anchors; older ones still count as proven
MAX_UNSETTLED_PER_LOG = 256  # heads waiting for or awaiting a proof; more are dropped, counted
MAX_INFLIGHT_PER_LOG = 4  # concurrent get-sth-consistency requests to one log
MAX_CONFLICTED_PER_LOG = 1024  # remembered so a conflicting head is not re-checked forever
MAX_REFUSALS = 5  # refusals over ~15 s of backoff outlast a lagging replica; then alarm
RETRY_MS = 1_000  # first wait before re-asking for a proof the log could not give
RETRY_MAX_MS = 60_000  # cap on the doubling wait between attempts


@dataclass(frozen=True, slots=True)
class ChainLimits:
    max_verified: int = MAX_VERIFIED_PER_LOG
    max_unsettled: int = MAX_UNSETTLED_PER_LOG
    max_inflight: int = MAX_INFLIGHT_PER_LOG
    max_conflicted: int = MAX_CONFLICTED_PER_LOG
    max_refusals: int = MAX_REFUSALS
    retry_ms: int = RETRY_MS
    retry_max_ms: int = RETRY_MAX_MS


@dataclass(frozen=True, slots=True)
class ConsistencyCheck:
    """Ask the log for a consistency proof between `candidate` and the verified `anchor`."""

    request_id: int
    candidate: Observation
    anchor: Observation

    @property
    def first(self) -> Observation:
        return min(self.candidate, self.anchor, key=lambda o: o.tree_size)

    @property
    def second(self) -> Observation:
        return max(self.candidate, self.anchor, key=lambda o: o.tree_size)


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two heads that cannot both be true (or that the log would not reconcile)."""

    kind: EvidenceKind
    first: Observation
    second: Observation
    proof: tuple[bytes, ...] | None = None
    log_error: str | None = None
    reasoning: str = ""


@dataclass(slots=True)
class _Waiting:
    head: Observation
    not_before_ms: int = 0
    failures: int = 0  # the log was unreachable
    refusals: int = 0  # the log answered with an error


class LogAudit:
    """The chain, the unsettled heads and the conflicts of one log."""

    def __init__(self, limits: ChainLimits = ChainLimits()) -> None:
        self._limits = limits
        self._verified: dict[int, Observation] = {}
        self._sizes: list[int] = []  # sorted keys of _verified
        self.top: Observation | None = None
        self._waiting: dict[HeadKey, _Waiting] = {}
        self._inflight: dict[int, tuple[ConsistencyCheck, _Waiting]] = {}
        self._unsettled: dict[int, Observation] = {}  # waiting or in flight, by size
        self._conflicted: dict[HeadKey, None] = {}
        self.dropped = 0  # heads not taken because too many were unsettled
        self.proofs_verified = 0

    # -- offering heads ---------------------------------------------------------------------

    def offer(self, head: Observation) -> Conflict | None:
        """Take a validly signed head; an equal-size conflict is returned at once."""
        if self.knows(head.key) or head.tree_size == 0:
            return None  # a size-0 head (with the empty root) is a prefix of every tree
        other = self._verified.get(head.tree_size) or self._unsettled.get(head.tree_size)
        if other is not None:
            self._mark_conflicted(head.key)
            return _equal_size(other, head)
        if self.top is None:
            self._add_verified(head)
            return None
        if len(self._unsettled) >= self._limits.max_unsettled:
            self.dropped += 1
            return None
        self._waiting[head.key] = _Waiting(head)
        self._unsettled[head.tree_size] = head
        return None

    def knows(self, key: HeadKey) -> bool:
        size = key[0]
        for table in (self._verified, self._unsettled):
            seen = table.get(size)
            if seen is not None and seen.key == key:
                return True
        return key in self._conflicted

    # -- scheduling proofs ------------------------------------------------------------------

    def start_checks(
        self, now_ms: int, new_id: Callable[[], int]
    ) -> tuple[list[ConsistencyCheck], list[Conflict]]:
        """Checks to send now (within the in-flight bound), and conflicts found on the way."""
        checks: list[ConsistencyCheck] = []
        conflicts: list[Conflict] = []
        for key, waiting in list(self._waiting.items()):
            if len(self._inflight) >= self._limits.max_inflight:
                break
            if waiting.not_before_ms > now_ms:
                continue
            head = waiting.head
            del self._waiting[key]
            same = self._verified.get(head.tree_size)
            if same is not None:  # the chain reached this size while the head waited
                self._unsettle(head)
                if same.root_hash != head.root_hash:
                    self._mark_conflicted(key)
                    conflicts.append(_equal_size(same, head))
                continue
            check = ConsistencyCheck(new_id(), head, self._anchor_for(head.tree_size))
            self._inflight[check.request_id] = (check, waiting)
            checks.append(check)
        return checks, conflicts

    def _anchor_for(self, size: int) -> Observation:
        """top if `size` is beyond it, else the smallest verified head larger than `size`."""
        assert self.top is not None, "heads wait only once the chain has a top"
        if size > self.top.tree_size:
            return self.top
        return self._verified[self._sizes[bisect.bisect_right(self._sizes, size)]]

    # -- results ----------------------------------------------------------------------------

    def proof_received(self, request_id: int, proof: Sequence[bytes]) -> Conflict | None:
        """Judge a proof the log served for check `request_id` (unknown ids are ignored)."""
        entry = self._inflight.pop(request_id, None)
        if entry is None:
            return None
        check, waiting = entry
        first, second = check.first, check.second
        judged = judge_consistency(first.sth.tree_head, second.sth.tree_head, proof)
        if judged.outcome is Judgement.CONSISTENT:
            self.proofs_verified += 1
            self._settle_consistent(check, waiting)
            return None
        self._unsettle(check.candidate)
        self._mark_conflicted(check.candidate.key)
        kind = (
            EvidenceKind.INCONSISTENT_PROOF
            if judged.outcome is Judgement.SPLIT_VIEW
            else EvidenceKind.PROOF_FAILURE
        )
        return Conflict(kind, first, second, tuple(proof), None, judged.reason)

    def _settle_consistent(self, check: ConsistencyCheck, waiting: _Waiting) -> None:
        head, anchor = check.candidate, check.anchor
        on_chain = head.tree_size < anchor.tree_size or (
            self.top is not None and self.top.key == anchor.key
        )
        if on_chain:
            self._unsettle(head)
            self._add_verified(head)
        else:  # head extends an older top; the chain has moved: check it again
            waiting.not_before_ms = 0
            self._waiting[head.key] = waiting

    def proof_failed(
        self, request_id: int, error: str, *, refused: bool, now_ms: int
    ) -> Conflict | None:
        """The log gave no proof: retried with backoff; refused too often is a conflict."""
        entry = self._inflight.pop(request_id, None)
        if entry is None:
            return None
        check, waiting = entry
        if refused:
            waiting.refusals += 1
            if waiting.refusals >= self._limits.max_refusals:
                self._unsettle(check.candidate)
                self._mark_conflicted(check.candidate.key)
                reason = (
                    f"the log refused {waiting.refusals} times to prove consistency from "
                    f"{check.first.tree_size} to {check.second.tree_size}, two sizes it signed"
                )
                return Conflict(
                    EvidenceKind.PROOF_FAILURE, check.first, check.second, None, error, reason
                )
        else:
            waiting.failures += 1
        attempts = waiting.failures + waiting.refusals
        wait = min(self._limits.retry_max_ms, self._limits.retry_ms << min(attempts - 1, 30))
        waiting.not_before_ms = now_ms + wait
        self._waiting[check.candidate.key] = waiting
        return None

    # -- state ------------------------------------------------------------------------------

    @property
    def verified_heads(self) -> list[Observation]:
        return [self._verified[size] for size in self._sizes]

    @property
    def unsettled_heads(self) -> list[Observation]:
        return list(self._unsettled.values())

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def restore(self, verified: Iterable[Observation], unsettled: Iterable[Observation]) -> None:
        """Load the chain saved by `verified_heads` and requeue `unsettled_heads`."""
        for head in verified:
            other = self._verified.get(head.tree_size)
            if other is not None and other.root_hash != head.root_hash:
                raise InputError(f"saved chain has two roots for size {head.tree_size}")
            self._add_verified(head)
        for head in unsettled:
            self.offer(head)

    def _add_verified(self, head: Observation) -> None:
        if head.tree_size not in self._verified:
            bisect.insort(self._sizes, head.tree_size)
        self._verified[head.tree_size] = head
        if self.top is None or head.tree_size > self.top.tree_size:
            self.top = head
        while len(self._sizes) > max(1, self._limits.max_verified):
            del self._verified[self._sizes.pop(0)]  # the smallest; top is the largest

    def _unsettle(self, head: Observation) -> None:
        seen = self._unsettled.get(head.tree_size)
        if seen is not None and seen.key == head.key:
            del self._unsettled[head.tree_size]

    def _mark_conflicted(self, key: HeadKey) -> None:
        self._conflicted[key] = None
        while len(self._conflicted) > self._limits.max_conflicted:
            del self._conflicted[next(iter(self._conflicted))]


def _equal_size(existing: Observation, new: Observation) -> Conflict:
    return Conflict(
        EvidenceKind.EQUAL_SIZE,
        existing,
        new,
        reasoning=f"the log signed two roots for tree size {new.tree_size}",
    )


__all__ = [
    "MAX_INFLIGHT_PER_LOG",
    "MAX_UNSETTLED_PER_LOG",
    "MAX_VERIFIED_PER_LOG",
    "ChainLimits",
    "Conflict",
    "ConsistencyCheck",
    "LogAudit",
]
