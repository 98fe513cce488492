"""Deterministic simulation: auditors catch a forking log within a few gossip rounds and
never alarm about an honest one, under drops, delays, log timeouts and junk input.

Seeds: `AUDITOR_SIM_SEEDS="1-200"` widens the sweep (a comma list of numbers or ranges).
A failure names its seed as SEED=n; replay it with `AUDITOR_SIM_SEEDS=n`.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from ctlog.auditor import Verdict, verify_evidence_bytes
from tests.ctlog.auditor.sim import SimResult, SimSetup, run

DETECT_ROUNDS = 5  # gossip rounds after a head is polled; 200 seeds needed at most 4.7
FORK_SEEDS = "1-8"
HONEST_SEEDS = "1-12"


def _seeds(default: str) -> list[int]:
    text = os.environ.get("AUDITOR_SIM_SEEDS", default)
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    return seeds


def _check_every_bundle(result: SimResult) -> None:
    seed = result.setup.seed
    for when, who, alarm in result.alarms:
        offline = verify_evidence_bytes(alarm.bundle.to_bytes())
        assert offline == alarm.verdict, f"SEED={seed} {who}@{when}: {offline.reason}"
        assert offline.verdict is not Verdict.INVALID, f"SEED={seed}: {offline.reason}"


@pytest.mark.sim
@pytest.mark.parametrize("seed", _seeds(FORK_SEEDS))
def test_a_forking_log_is_caught_within_a_few_rounds(seed: int) -> None:
    setup = SimSetup(seed=seed, forking=True)
    result = run(setup)
    assert result.diverged_ms is not None, f"SEED={seed}: the views never diverged"
    proven = [when for when, _, alarm in result.alarms if alarm.verdict.proves_split_view]
    assert proven, f"SEED={seed}: no auditor proved the split view"
    bound = setup.poll_interval_ms + DETECT_ROUNDS * setup.gossip_interval_ms
    took = proven[0] - result.diverged_ms
    assert took <= bound, f"SEED={seed}: proven {took} ms after the fork, bound {bound}"
    _check_every_bundle(result)
    noticed = {who for _, who, alarm in result.alarms if alarm.verdict.proves_split_view}
    assert len(noticed) >= 2, f"SEED={seed}: only {noticed} noticed"


@pytest.mark.sim
@pytest.mark.parametrize("seed", _seeds(HONEST_SEEDS))
def test_an_honest_log_never_raises_an_alarm(seed: int) -> None:
    result = run(SimSetup(seed=seed, forking=False))
    assert result.alarms == [], f"SEED={seed}: {result.transcript()}"
    assert result.log is not None
    final = result.log.sth(0).tree_size
    for name, core in result.cores.items():
        (audit,) = core.audits.values()
        assert audit.top is not None and audit.top.tree_size >= final // 2, f"SEED={seed} {name}"
        assert audit.proofs_verified > 0, f"SEED={seed} {name} verified nothing"
    refused = sum(n for k, n in result.junk.items() if k.startswith("refused_"))
    assert refused > 0, f"SEED={seed}: the junk was never sent"


def test_junk_of_every_kind_is_refused_with_its_status() -> None:
    result = run(SimSetup(seed=3, forking=False, junk_interval_ms=50))
    assert {"refused_400", "refused_403", "refused_413", "taken"} <= set(result.junk)
    counters: Counter[str] = Counter()
    for core in result.cores.values():
        counters.update(core.counters)
    assert counters["rejected_bad_signature"] > 0
    assert counters["refused_unknown_peers"] > 0
    assert counters["skipped_unknown_log"] > 0 and counters["skipped_stale"] > 0
    assert result.alarms == []


def test_one_seed_replays_exactly() -> None:
    first, second = run(SimSetup(seed=5, forking=True)), run(SimSetup(seed=5, forking=True))
    assert first.transcript() == second.transcript()
    assert first.junk == second.junk
    assert first.transcript() != run(SimSetup(seed=6, forking=True)).transcript()
