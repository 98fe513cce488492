"""The P2P codec is a sans-I/O core: none of its modules may reach sockets, clocks or
randomness (STYLE §1), checked with the repository's import walker."""

from __future__ import annotations

import pytest

from tests.test_sans_io import banned_imports, import_graph

P2P_MODULES = [
    "btcnode.p2p",
    "btcnode.p2p.errors",
    "btcnode.p2p.framing",
    "btcnode.p2p.netaddr",
    "btcnode.p2p.messages",
    "btcnode.p2p._msg_codec",
    "btcnode.p2p._msg_control",
    "btcnode.p2p._msg_inventory",
    "btcnode.p2p._msg_data",
    "btcnode.p2p._msg_addr",
]


@pytest.mark.parametrize("module", P2P_MODULES)
def test_p2p_module_does_no_io(module: str) -> None:
    assert module in import_graph(module)
    assert banned_imports(module) == {}
