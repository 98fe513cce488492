"""The node process's pure parts do no I/O (STYLE §1); the drivers around them may."""

from __future__ import annotations

import pytest

from tests.test_sans_io import banned_imports

PURE_MODULES = [
    "btcnode.notify",
    "btcnode.mempool_store",
    "btcnode.cli_args",
    "btcnode.daemon.options",
    "btcnode.daemon.layout",
]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_does_no_io(module: str) -> None:
    assert banned_imports(module) == {}


def test_the_feed_handler_is_the_part_that_does_io() -> None:
    assert "asyncio" in banned_imports("btcnode.daemon.events_http")["btcnode.daemon.events_http"]
