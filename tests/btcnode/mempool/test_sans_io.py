"""The mempool is a sans-I/O core: no clock, randomness, sockets or files (STYLE §1)."""

from __future__ import annotations

import pytest

from tests.test_sans_io import banned_imports, import_graph

MEMPOOL_MODULES = [
    "btcnode.mempool",
    "btcnode.mempool.mempool",
    "btcnode.mempool.accept",
    "btcnode.mempool.orphans",
    "btcnode.mempool._feefloor",
    "btcnode.mempool._reorg",
]


@pytest.mark.parametrize("module", MEMPOOL_MODULES)
def test_mempool_does_no_io(module: str) -> None:
    assert module in import_graph(module)
    assert banned_imports(module) == {}
