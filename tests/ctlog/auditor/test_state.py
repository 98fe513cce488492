"""The saved state: a restart keeps the chain and the pool; a forged file is refused."""

from __future__ import annotations

import json

import pytest

from ctlog.auditor._state import dump_state, load_state
from ctlog.errors import InputError
from tests.ctlog.auditor._helpers import NOW_MS, answer_all, forking_log, give, make_core

LOG = forking_log(shared=0, forking=False)
LOG.grow(0, 12)


def _saved() -> bytes:
    core = make_core(LOG)
    for size in (4, 8, 12):
        give(core, LOG, LOG.head_at(0, size))
        answer_all(core, LOG, 0)
    give(core, LOG, LOG.head_at(0, 6))  # left waiting for its proof
    return dump_state(core)


def test_a_restart_keeps_the_chain_the_waiting_heads_and_the_pool() -> None:
    restored = make_core(LOG)
    load_state(restored, _saved(), NOW_MS)
    (audit,) = restored.audits.values()
    assert [h.tree_size for h in audit.verified_heads] == [4, 8, 12]
    assert [h.tree_size for h in audit.unsettled_heads] == [6]
    assert len(restored.pool) == 4
    restored.tick(NOW_MS)
    assert [(f.first, f.second) for f in restored.ready().fetch_proofs] == [(6, 8)]


def test_a_state_file_with_a_forged_head_is_refused() -> None:
    doc = json.loads(_saved())
    doc["logs"][0]["verified"][1]["sth"]["tree_size"] = 9
    with pytest.raises(InputError, match=r"logs\[0\]\.verified\[1\]: signature does not verify"):
        load_state(make_core(LOG), json.dumps(doc).encode(), NOW_MS)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(version=2), "version 2 is not 1"),
        (lambda d: d.update(logs={}), "logs must be an array"),
        (lambda d: d["pool"].append({"log_id": "AA=="}), r"pool\[4\] lacks seen"),
    ],
)
def test_a_malformed_state_file_is_refused(change: object, reason: str) -> None:
    doc = json.loads(_saved())
    change(doc)  # type: ignore[operator]
    with pytest.raises(InputError, match=reason):
        load_state(make_core(LOG), json.dumps(doc).encode(), NOW_MS)


def test_logs_no_longer_configured_are_skipped() -> None:
    other = make_core(forking_log(seed=42))
    load_state(other, _saved(), NOW_MS)
    assert len(other.pool) == 0
    assert all(audit.top is None for audit in other.audits.values())
