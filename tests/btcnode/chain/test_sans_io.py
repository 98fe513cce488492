"""The chainstate's core modules do no I/O of their own (STYLE §1); only the parallel
checker, a driver, starts processes."""

from __future__ import annotations

import pkgutil

import pytest

import btcnode.chain
from tests.test_sans_io import banned_imports, import_graph

DRIVERS = {"btcnode.chain.parallel", "btcnode.chain._chunks"}  # the pool and its workers
CORE_MODULES = sorted(
    {"btcnode.chain"}
    | {f"btcnode.chain.{m.name}" for m in pkgutil.iter_modules(btcnode.chain.__path__)} - DRIVERS
)
EXTRA_BANNED = {"multiprocessing", "subprocess", "concurrent", "plyvel"}


@pytest.mark.parametrize("module", CORE_MODULES)
def test_chain_core_module_does_no_io(module: str) -> None:
    assert banned_imports(module) == {}
    reached = {name for imports in import_graph(module).values() for name in imports}
    assert not {name.split(".")[0] for name in reached} & EXTRA_BANNED


def test_the_package_does_not_reach_the_driver() -> None:
    assert not DRIVERS & set(import_graph("btcnode.chain"))
    assert "multiprocessing" in {
        name.split(".")[0]
        for name in import_graph("btcnode.chain.parallel")["btcnode.chain.parallel"]
    }
