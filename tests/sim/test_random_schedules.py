"""Random fault schedules (`python -m tests.sim`) over a sweep of seeds, inside pytest.

`SIM_SWEEP_SEEDS` seeds per cluster size (default 500, so 1000 in all: about 1.5 minutes on
this two-core machine, inside CI's three); run more with `python -m tests.sim --seeds N`.
"""

from __future__ import annotations

import os

import pytest

from common.kv import KvOp, KvResult, KvStatus, decode_command, encode_result
from common.raft.errors import RaftError
from common.raft.types import Role
from tests.sim.kv_service import OK, KvServer, decode_frame
from tests.sim.runner import run_seed

SWEEP_SEEDS = int(os.environ.get("SIM_SWEEP_SEEDS", "500"))


@pytest.mark.sim
@pytest.mark.parametrize("nodes", [3, 5])
def test_random_schedules(nodes: int) -> None:
    failures = []
    start = 100_000 * nodes  # disjoint seed ranges for the two sizes
    for seed in range(start, start + SWEEP_SEEDS):
        result = run_seed(seed, nodes)
        if not result.ok:
            failures.append(result.report())
    assert not failures, f"{len(failures)} of {SWEEP_SEEDS} seeds failed:\n" + "\n\n".join(failures)


def test_replay_is_exact() -> None:
    """The same seed gives the same run: schedule, message count, clock and history."""
    first, second = run_seed(7, 5), run_seed(7, 5)
    assert first.ok, first.report()
    assert first.nemesis_log == second.nemesis_log
    assert (first.sim_ms, first.messages, first.operations) == (
        second.sim_ms,
        second.messages,
        second.operations,
    )
    assert first.operations > 0 and first.messages > 0


class _AckBeforeCommit(KvServer):
    """Planted bug: a leader acknowledges a write as soon as it is proposed."""

    def receive(self, src: str, body: bytes) -> None:
        _, req_id, _, command = decode_frame(body)
        core = self.node.core
        if core is None or core.role != Role.LEADER or decode_command(command).op == KvOp.GET:
            super().receive(src, body)
            return
        try:
            index, _ = core.propose(command)
        except RaftError:
            super().receive(src, body)  # refused: answer as the real server does
            return
        self._reply(src, req_id, OK, encode_result(KvResult(KvStatus.OK, index=index)))


def test_runner_catches_a_planted_bug() -> None:
    """Acknowledging before commit loses acknowledged writes or breaks linearizability, and
    the runner says so with the seed and the checker's evidence."""
    results = [run_seed(seed, 3, server=_AckBeforeCommit) for seed in range(5)]
    caught = [r for r in results if not r.ok]
    assert len(caught) == len(results), [r.seed for r in results if r.ok]
    assert {r.checker for r in caught} <= {"acked-write-lost", "linearizability"}
    report = caught[0].report()
    assert report.startswith(f"SEED={caught[0].seed} ")
    assert caught[0].checker in report and "replay: python -m tests.sim --seed" in report


class _LocalReads(KvServer):
    """Planted bug: every server answers a GET from its own state machine, no ReadIndex."""

    def receive(self, src: str, body: bytes) -> None:
        _, req_id, _, command = decode_frame(body)
        cmd = decode_command(command)
        if cmd.op != KvOp.GET:
            super().receive(src, body)
            return
        value = self.sm.get(cmd.key)
        status = KvStatus.NOT_FOUND if value is None else KvStatus.OK
        self._reply(src, req_id, OK, encode_result(KvResult(status, value)))


def test_runner_catches_stale_follower_reads() -> None:
    """Reads served by lagging followers are stale; the linearizability checker sees it in
    some of the schedules (a follower answers only when a clerk tries it)."""
    results = [run_seed(seed, 5, server=_LocalReads) for seed in range(30)]
    caught = [r for r in results if not r.ok]
    assert caught, "30 schedules with stale follower reads all passed"
    assert {r.checker for r in caught} == {"linearizability"}
    assert all("bad_key=" in r.evidence for r in caught)
