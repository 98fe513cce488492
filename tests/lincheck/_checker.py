"""Check a recorded KV history for linearizability, one key at a time.

Operations on different keys never constrain each other, so a history is linearizable iff the
sub-history of every key is (P-compositionality, Horn & Kroening 2015); each key is searched on
its own with `_search.search`. For a key that fails, the checker also finds the shortest prefix
of its sub-history (cut just after some answer) that already fails: linearizability is
prefix-closed, so a binary search over the answers finds it, and the answer at the cut names the
operation that could not be placed. The explanation prints that operation, the longest partial
linearization of the failing prefix and the model state after it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from tests.lincheck._history import HistoryError, Operation
from tests.lincheck._model import GET, Step
from tests.lincheck._search import Outcome, Verdict, search

SHOWN_PARTIAL_OPS = 12  # the explanation lists at most this many operations of the partial order


@dataclass(frozen=True, slots=True)
class LinResult:
    ok: bool | None  # None = gave up (timeout): undecided, which tests must treat as a failure
    bad_key: str | None  # a key whose sub-history is not linearizable
    explanation: str  # for failures: the failing prefix, a longest partial order, the culprit


def check_history(ops: Sequence[Operation], *, timeout_s: float | None = 60.0) -> LinResult:
    """Decide whether `ops` is linearizable against the KV model (all keys start absent)."""
    for op in ops:
        if not isinstance(op, Operation):
            raise HistoryError("ops", f"must hold Operation values, got {type(op).__name__}")
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    by_key: dict[str, list[Step]] = {}
    for op in ops:
        if op.op == "get" and op.ret is None:
            continue  # an unanswered read has no effect and no constraint
        by_key.setdefault(op.key, []).append(Step.of(op))
    for done, key in enumerate(sorted(by_key)):
        steps = by_key[key]
        if deadline is not None and time.monotonic() >= deadline:
            return _gave_up(timeout_s, key, len(steps), done, len(by_key))
        outcome = search(steps, deadline)
        if outcome.verdict is Verdict.GAVE_UP:
            return _gave_up(timeout_s, key, len(steps), done, len(by_key))
        if outcome.verdict is Verdict.NOT_LINEARIZABLE:
            return LinResult(False, key, _explain_failure(key, steps, outcome, deadline))
    return LinResult(True, None, f"linearizable: {len(ops)} operations on {len(by_key)} keys")


def _gave_up(timeout_s: float | None, key: str, size: int, done: int, keys: int) -> LinResult:
    return LinResult(
        None,
        None,
        f"UNDECIDED: gave up after {timeout_s} s while checking key {key!r} ({size} operations);"
        f" {done} of {keys} keys were linearizable",
    )


def _prefix(steps: Sequence[Step], cut: tuple[int, int]) -> list[Step]:
    """The sub-history up to the answer `cut` = (ret, index): later answers become pending,
    later calls are dropped (a pending read has no effect, so it is dropped too)."""
    kept = []
    for i, op in enumerate(steps):
        if op.call > cut[0]:
            continue
        if op.ret is not None and (op.ret, i) <= cut:
            kept.append(op)
        elif op.kind != GET:
            kept.append(op.pending())
    return kept


def _shortest_failing_prefix(
    steps: Sequence[Step], whole: Outcome, deadline: float | None
) -> tuple[Step | None, list[Step], Outcome]:
    """Find the first answer after which the history fails (None if the time ran out).

    Returns that answer's operation, the failing prefix and the search outcome on it. The op
    the whole search was blocked at is tried first (two searches); otherwise binary search.
    """
    answers = sorted((op.ret, i) for i, op in enumerate(steps) if op.ret is not None)
    low, high = 0, len(answers) - 1  # the prefix up to answers[high] is known to fail
    failing, failing_outcome = list(steps), whole
    guess = next((k for k, (_, i) in enumerate(answers) if i == whole.blocked), -1)
    probes = [guess, guess - 1]  # "fails at the blocked op" and "not at the answer before it"
    while low < high:
        middle = probes.pop(0) if probes else (low + high) // 2
        if not low <= middle < high:
            continue
        prefix = _prefix(steps, answers[middle])
        outcome = search(prefix, deadline)
        if outcome.verdict is Verdict.GAVE_UP:
            return None, failing, failing_outcome
        if outcome.verdict is Verdict.NOT_LINEARIZABLE:
            high, failing, failing_outcome = middle, prefix, outcome
        else:
            low = middle + 1
    return steps[answers[high][1]], failing, failing_outcome


def _explain_failure(
    key: str, steps: Sequence[Step], whole: Outcome, deadline: float | None
) -> str:
    culprit, prefix, outcome = _shortest_failing_prefix(steps, whole, deadline)
    lines = [f"key {key!r}: not linearizable ({len(steps)} operations on this key)."]
    if culprit is None:
        lines.append("(the search for the shortest failing prefix ran out of time)")
    else:
        lines.append(
            f"Its history is linearizable until this answer, and no longer after it:\n"
            f"  could not place: {culprit.source.describe()}"
        )
    shown = outcome.partial[-SHOWN_PARTIAL_OPS:]
    skipped = len(outcome.partial) - len(shown)
    lines.append(
        f"Longest partial linearization of that prefix ({len(outcome.partial)} of {len(prefix)}"
        f" operations{f', first {skipped} not shown' if skipped else ''}):"
    )
    lines += [f"  {skipped + n + 1}. {prefix[i].source.describe()}" for n, i in enumerate(shown)]
    lines.append(f"  model state after it: {outcome.state!r}")
    if outcome.blocked >= 0 and (culprit is None or prefix[outcome.blocked] is not culprit):
        lines.append(
            f"  next answer it reached unplaced: {prefix[outcome.blocked].source.describe()}"
        )
    return "\n".join(lines)
