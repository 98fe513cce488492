"""`HeaderChain` follows the chainstate's best header through extensions and header
reorganisations, and answers ancestor lookups on and off the best chain."""

from __future__ import annotations

from btcnode.p2p.chainview import HeaderChain
from tests.btcnode.p2p.corekit import NOW, header_chain
from tests.btcnode.scenarios.helpers import new_node


def test_the_best_header_chain_follows_extensions_and_reorganisations() -> None:
    node = new_node()
    chainstate = node.chainstate
    genesis = chainstate.get_header(chainstate.tip_hash)
    assert genesis is not None
    view = HeaderChain(chainstate)
    assert view.height == 0 and view.best_hash == genesis.hash
    first = header_chain(genesis, 5, salt=1)
    chainstate.accept_headers(first, int(NOW))
    view.refresh()
    assert view.height == 5 and view.best_hash == first[-1].hash
    heavier = header_chain(first[1], 6, salt=2)  # forks after height 2, ends at height 8
    chainstate.accept_headers(heavier, int(NOW))
    view.refresh()
    assert view.best_hash == heavier[-1].hash and view.height == 8
    assert view.contains(first[1].hash, 2) and not view.contains(first[2].hash, 3)
    assert view.ancestor(heavier[-1].hash, 3) == heavier[0].hash  # on the best chain
    assert view.ancestor(first[-1].hash, 4) == first[3].hash  # off it: walks back
    assert view.ancestor(first[-1].hash, 1) == first[0].hash  # below the fork: shared
    assert view.ancestor(first[-1].hash, 6) is None  # above the block
    assert view.ancestor(bytes(32), 0) is None  # unknown block
