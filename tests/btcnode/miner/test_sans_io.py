"""Only the CPU miner touches processes; the template code is listed in tests/test_sans_io.py."""

from __future__ import annotations

from tests.test_sans_io import banned_imports


def test_the_cpu_miner_is_where_processes_live() -> None:
    assert {"os", "time"} <= banned_imports("btcnode.miner.cpu")["btcnode.miner.cpu"]
