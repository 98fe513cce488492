"""Safety checkers of the simulation, each a separate function or observer with evidence.

- `SafetyChecker.on_leader`: Election Safety, at most one leader per term (Raft §5.2).
- `SafetyChecker.on_apply` / `on_restore`: every node applies indexes in order with no gap
  (6.824's "apply out of order"), and State Machine Safety: no two nodes apply different
  entries at one index (Raft §5.4.3). Entries are compared by (term, type, data).
- `check_committed_prefixes`: Log Matching on disk, every node's persisted log agrees with
  the applied history up to its commit index (Raft §5.3).
- `check_acked_writes`: every write a client saw acknowledged is in the applied history at the
  index its reply named.
- `check_linearizable`: the client history has a linearization (`tests.lincheck`).

Each raises `SafetyViolation` naming the checker and carrying its evidence; the observer
methods raise at the moment of the violation, so the failing event is on the stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from common.raft.storage import RaftStorage
from common.raft.types import Entry, EntryType, Snapshot
from common.store import SimStore
from tests.lincheck import Operation, check_history

__all__ = [
    "AckedWrite",
    "SafetyChecker",
    "SafetyViolation",
    "check_acked_writes",
    "check_committed_prefixes",
    "check_linearizable",
]

LINCHECK_TIMEOUT_S = 20.0  # a search that needs longer counts as a failure, never as a pass

AppliedEntry = tuple[int, EntryType, bytes]  # (term, type, data) of an applied entry


class SafetyViolation(AssertionError):
    """A safety property failed; `checker` names it and `evidence` holds what proves it."""

    def __init__(self, checker: str, evidence: Mapping[str, object]) -> None:
        self.checker = checker
        self.evidence = dict(evidence)
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.evidence.items())
        super().__init__(f"{checker}: {shown}")


def _short(value: object, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SafetyChecker:
    """Watches every node as it runs (a `NodeObserver`)."""

    def __init__(self) -> None:
        self.leaders: dict[int, str] = {}  # term -> the node that led it
        self.applied: dict[int, AppliedEntry] = {}  # index -> the first applied entry there
        self.applied_by: dict[int, str] = {}  # index -> the node that first applied it
        self.node_applied: dict[str, int] = {}  # node -> last applied index (this incarnation)
        self.max_applied = 0

    def on_leader(self, node_id: str, term: int) -> None:
        first = self.leaders.setdefault(term, node_id)
        if first != node_id:
            raise SafetyViolation(
                "election-safety", {"term": term, "leaders": sorted({first, node_id})}
            )

    def on_restore(self, node_id: str, snapshot: Snapshot | None) -> None:
        index = 0 if snapshot is None else snapshot.meta.index
        if snapshot is not None:
            known = self.applied.get(index)
            if known is not None and index > 0 and known[0] != snapshot.meta.term:
                raise SafetyViolation(
                    "state-machine-safety",
                    {
                        "node": node_id,
                        "snapshot_index": index,
                        "snapshot_term": snapshot.meta.term,
                        "applied_term": known[0],
                        "applied_by": self.applied_by[index],
                    },
                )
        self.node_applied[node_id] = index

    def on_apply(self, node_id: str, entry: Entry) -> None:
        expected = self.node_applied.get(node_id, 0) + 1
        if entry.index != expected:
            raise SafetyViolation(
                "apply-order", {"node": node_id, "expected_index": expected, "got": entry.index}
            )
        self.node_applied[node_id] = entry.index
        mine = (entry.term, entry.type, entry.data)
        first = self.applied.setdefault(entry.index, mine)
        if first is mine:
            self.applied_by[entry.index] = node_id
            self.max_applied = max(self.max_applied, entry.index)
        elif first != mine:
            raise SafetyViolation(
                "state-machine-safety",
                {
                    "index": entry.index,
                    "node": node_id,
                    "applied": mine,
                    "other_node": self.applied_by[entry.index],
                    "other_applied": first,
                },
            )


def check_committed_prefixes(checker: SafetyChecker, stores: Mapping[str, SimStore]) -> None:
    """Every node's stored entries up to its stored commit index match the applied history.

    Reads each disk through a fresh `RaftStorage`, so it sees exactly what a restart would.
    """
    for node_id, store in sorted(stores.items()):
        state = RaftStorage(store).load(None)
        commit = state.hard_state.commit
        for entry in state.entries:
            if entry.index > commit:
                break
            known = checker.applied.get(entry.index)
            if known is not None and known != (entry.term, entry.type, entry.data):
                raise SafetyViolation(
                    "log-matching",
                    {
                        "node": node_id,
                        "index": entry.index,
                        "stored": (entry.term, entry.type, entry.data),
                        "applied": known,
                        "applied_by": checker.applied_by[entry.index],
                    },
                )


@dataclass(frozen=True, slots=True)
class AckedWrite:
    """A write whose reply reached its client: `data` was applied at log index `index`."""

    client: str
    seq: int
    index: int
    data: bytes


def check_acked_writes(checker: SafetyChecker, acked: Iterable[AckedWrite]) -> None:
    """Each acknowledged write is in the applied history, at the index its reply named."""
    for ack in acked:
        known = checker.applied.get(ack.index)
        if known is None or known[1] != EntryType.NORMAL or known[2] != ack.data:
            raise SafetyViolation(
                "acked-write-lost",
                {
                    "client": ack.client,
                    "seq": ack.seq,
                    "index": ack.index,
                    "acked_data": ack.data,
                    "applied_at_index": known,
                    "max_applied": checker.max_applied,
                },
            )


def check_linearizable(history: Sequence[Operation], timeout_s: float = LINCHECK_TIMEOUT_S) -> None:
    """The client history has a linearization; an undecided search fails too."""
    result = check_history(history, timeout_s=timeout_s)
    if result.ok is not True:
        raise SafetyViolation(
            "linearizability",
            {
                "ok": result.ok,
                "bad_key": result.bad_key,
                "explanation": result.explanation,
                "operations": len(history),
            },
        )
