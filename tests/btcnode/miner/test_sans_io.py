"""The template and selection code is a sans-I/O core; only the CPU miner touches processes."""

from __future__ import annotations

import pytest

from tests.test_sans_io import banned_imports

CORE_MODULES = [
    "btcnode.miner.template",
    "btcnode.miner._select",
    "btcnode.miner._grind",
    "btcnode.miner.assemble",
    "btcnode.node",
]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_miner_core_does_no_io(module: str) -> None:
    assert banned_imports(module) == {}


def test_the_cpu_miner_is_where_processes_live() -> None:
    assert {"os", "time"} <= banned_imports("btcnode.miner.cpu")["btcnode.miner.cpu"]
