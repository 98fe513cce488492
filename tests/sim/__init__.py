"""Deterministic simulation of Raft and the replicated KV store: one seed drives everything.

- `loop`: the discrete-event clock and scheduler (timers, generator processes);
- `node`, `cluster`: Raft nodes over crash-simulating disks on the simulated network;
- `checkers`: the safety checkers (election safety, apply order and agreement, Log Matching
  on disk, acknowledged writes, linearizability);
- `raft_harness`: MIT 6.824's Raft tester, ported; `test_raft_6824*.py` its tests;
- `kv_service`, `kv_clerk`, `kv_harness`, `kv_generic`: the KV service and clerks, and
  6.824's kvraft tester; `test_kv_6824*.py` its tests;
- `schedule`, `runner`, `__main__`: random fault schedules (`python -m tests.sim`).
"""

from tests.sim.checkers import SafetyChecker, SafetyViolation
from tests.sim.cluster import SimCluster
from tests.sim.loop import SimLoop
from tests.sim.runner import SeedResult, run_seed

__all__ = ["SafetyChecker", "SafetyViolation", "SeedResult", "SimCluster", "SimLoop", "run_seed"]
