"""The btc-sync benchmark's two measurements, on a tiny chain: the local run builds node A's
data directory, and node B really syncs every block from A over P2P."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import _btc_chain, btc_sync
from btcnode.chain import Chainstate
from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST
from btcnode.daemon.layout import CHAINSTATE_DIR, network_dir
from common.store import LevelStore

pytestmark = pytest.mark.integration

CHAINS, BLOCKS = 6, 3


def _tip(datadir: Path) -> tuple[int, bytes]:
    with LevelStore(network_dir(datadir) / CHAINSTATE_DIR) as store:
        chainstate = Chainstate.open(store, REGTEST)
        return chainstate.tip_height, chainstate.tip_hash


def test_local_run_then_p2p_sync_reach_the_same_tip(tmp_path: Path) -> None:
    chain = _btc_chain.generate(CHAINS, BLOCKS, processes=1)
    last = Block.deserialize(chain.measured[-1]).hash
    height = _btc_chain.SETUP_BLOCKS + BLOCKS

    peer = btc_sync.validate_locally(chain, tmp_path / "a")
    assert (peer.blocks, peer.inputs) == (BLOCKS, CHAINS * BLOCKS)
    assert peer.seconds > 0
    assert _tip(tmp_path / "a") == (height, last)

    ours = btc_sync.sync_over_p2p(chain, tmp_path / "a", tmp_path)
    assert (ours.blocks, ours.inputs) == (BLOCKS, CHAINS * BLOCKS)
    assert _tip(tmp_path / "b") == (height, last)  # B stopped cleanly at A's tip
