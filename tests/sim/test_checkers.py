"""The safety checkers catch planted bugs, with evidence (a checker that cannot fail is no use)."""

from __future__ import annotations

import pytest

from common.raft.storage import RaftStorage
from common.raft.types import ConfState, Entry, EntryType, HardState, Ready, Snapshot, SnapshotMeta
from common.store import SimStore
from tests.lincheck import Operation
from tests.sim.checkers import (
    AckedWrite,
    SafetyChecker,
    SafetyViolation,
    check_acked_writes,
    check_committed_prefixes,
    check_linearizable,
)


def _applied(checker: SafetyChecker, node: str, entries: list[Entry]) -> None:
    checker.on_restore(node, None)
    for entry in entries:
        checker.on_apply(node, entry)


def test_two_leaders_in_one_term() -> None:
    checker = SafetyChecker()
    checker.on_leader("s1", 3)
    checker.on_leader("s1", 3)  # the same leader again is fine
    checker.on_leader("s2", 4)
    with pytest.raises(SafetyViolation) as err:
        checker.on_leader("s0", 3)
    assert err.value.checker == "election-safety"
    assert err.value.evidence == {"term": 3, "leaders": ["s0", "s1"]}


def test_two_different_applies_at_one_index() -> None:
    checker = SafetyChecker()
    _applied(checker, "s0", [Entry(1, 1, data=b"x"), Entry(2, 1, data=b"y")])
    _applied(checker, "s1", [Entry(1, 1, data=b"x")])
    with pytest.raises(SafetyViolation) as err:
        checker.on_apply("s1", Entry(2, 2, data=b"z"))
    assert err.value.checker == "state-machine-safety"
    ev = err.value.evidence
    assert (ev["index"], ev["node"], ev["other_node"]) == (2, "s1", "s0")
    assert ev["applied"] == (2, EntryType.NORMAL, b"z")
    assert ev["other_applied"] == (1, EntryType.NORMAL, b"y")


def test_apply_out_of_order_and_gap() -> None:
    checker = SafetyChecker()
    _applied(checker, "s0", [Entry(1, 1)])
    with pytest.raises(SafetyViolation) as err:
        checker.on_apply("s0", Entry(3, 1))
    assert err.value.checker == "apply-order"
    assert err.value.evidence == {"node": "s0", "expected_index": 2, "got": 3}


def test_snapshot_that_contradicts_applied_history() -> None:
    checker = SafetyChecker()
    _applied(checker, "s0", [Entry(1, 1), Entry(2, 2)])
    bad = Snapshot(SnapshotMeta(2, 1, ConfState(frozenset({"s0"}))), b"")
    with pytest.raises(SafetyViolation) as err:
        checker.on_restore("s1", bad)
    assert err.value.checker == "state-machine-safety"
    assert err.value.evidence["snapshot_term"] == 1
    assert err.value.evidence["applied_term"] == 2


def test_lost_acknowledged_write() -> None:
    checker = SafetyChecker()
    _applied(checker, "s0", [Entry(1, 1, data=b"put a"), Entry(2, 1, data=b"put b")])
    check_acked_writes(checker, [AckedWrite("c0", 1, 2, b"put b")])  # present: passes
    with pytest.raises(SafetyViolation) as err:
        check_acked_writes(checker, [AckedWrite("c1", 7, 2, b"put c")])
    assert err.value.checker == "acked-write-lost"
    ev = err.value.evidence
    assert (ev["client"], ev["seq"], ev["index"]) == ("c1", 7, 2)
    assert ev["applied_at_index"] == (1, EntryType.NORMAL, b"put b")
    with pytest.raises(SafetyViolation) as err:
        check_acked_writes(checker, [AckedWrite("c1", 8, 9, b"put d")])  # beyond the history
    assert err.value.evidence["applied_at_index"] is None


def test_stale_read_is_not_linearizable() -> None:
    ok = [
        Operation("c0", "put", "k", b"1", None, None, 0, 10),
        Operation("c1", "get", "k", None, None, b"1", 11, 12),
    ]
    check_linearizable(ok)
    stale = [*ok, Operation("c2", "get", "k", None, None, None, 20, 25)]  # the put vanished
    with pytest.raises(SafetyViolation) as err:
        check_linearizable(stale)
    assert err.value.checker == "linearizability"
    assert err.value.evidence["ok"] is False
    assert err.value.evidence["bad_key"] == "k"


def test_committed_log_on_disk_disagrees() -> None:
    checker = SafetyChecker()
    _applied(checker, "s0", [Entry(1, 1, data=b"a"), Entry(2, 1, data=b"b")])
    good, bad = SimStore(), SimStore()
    for store, second in ((good, b"b"), (bad, b"B")):
        RaftStorage(store).save(
            Ready(
                hard_state=HardState(term=1, vote="s0", commit=2),
                entries=(Entry(1, 1, data=b"a"), Entry(2, 1, data=second)),
                must_sync=True,
            )
        )
    check_committed_prefixes(checker, {"s0": good})
    with pytest.raises(SafetyViolation) as err:
        check_committed_prefixes(checker, {"s0": good, "s1": bad})
    assert err.value.checker == "log-matching"
    ev = err.value.evidence
    assert (ev["node"], ev["index"]) == ("s1", 2)
    assert ev["stored"] == (1, EntryType.NORMAL, b"B")
