"""Partition and heal: four nodes split into two mining halves, then joined again.

west-1, west-2, east-1 and east-2 start in a ring (west-1 - west-2 - east-1 - east-2 -
west-1) on a short shared chain. The two links between the halves are cut; each half mines
on its own chain (the west more blocks than the east, each block by a different node of the
half). When the links come back every node converges on the chain with the most work, the
west's: the east's blocks are disconnected, and all four nodes end with the same tip and
the same UTXO set.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from btcnode.scenarios.chain import mine, tip_of, utxo_summaries, wait_tip
from btcnode.scenarios.errors import ScenarioMisuse
from btcnode.scenarios.harness import Cluster, NodeProcess, Progress, quiet
from btcnode.scenarios.keys import scenario_key, short_hex
from btcnode.scenarios.results import HalfView, PartitionResult

__all__ = ["DEFAULT_EAST_BLOCKS", "DEFAULT_WEST_BLOCKS", "NODES", "run_partition_heal"]

WEST = ("west-1", "west-2")
EAST = ("east-1", "east-2")
NODES = (*WEST, *EAST)
RING = (("west-1", "west-2"), ("west-2", "east-1"), ("east-1", "east-2"), ("east-2", "west-1"))
SHARED_BLOCKS = 2  # history both halves keep
DEFAULT_WEST_BLOCKS = 3
DEFAULT_EAST_BLOCKS = 2


def run_partition_heal(
    root: Path,
    *,
    progress: Progress = quiet,
    par: int = 1,
    west_blocks: int = DEFAULT_WEST_BLOCKS,
    east_blocks: int = DEFAULT_EAST_BLOCKS,
) -> PartitionResult:
    if not 0 < east_blocks < west_blocks:
        raise ScenarioMisuse(f"west must out-mine east: {west_blocks} vs {east_blocks} blocks")
    started = time.monotonic()
    with Cluster(root, NODES, par=par, progress=progress) as cluster:
        cluster.start()
        nodes = list(cluster)
        cluster.connect_all(RING)
        mine(cluster["west-1"], SHARED_BLOCKS, scenario_key("west-1"))
        fork = wait_tip(nodes)[0]
        progress(f"all at height {fork.height}; cutting the links between west and east")
        cluster.split(WEST, EAST)
        halves = (
            _mine_half([cluster[n] for n in WEST], west_blocks, progress),
            _mine_half([cluster[n] for n in EAST], east_blocks, progress),
        )
        progress("healing: the links between the halves come back")
        for initiator, acceptor in RING:
            if frozenset((initiator, acceptor)) not in cluster.links:
                cluster.link(initiator, acceptor)
        final = wait_tip(nodes, halves[0].tip)
        return PartitionResult(
            fork_height=fork.height,
            halves=halves,
            final_tips=final,
            utxo=utxo_summaries(nodes),
            elapsed_s=time.monotonic() - started,
        )


def _mine_half(half: Sequence[NodeProcess], blocks: int, progress: Progress) -> HalfView:
    """`blocks` blocks, taking turns among the half's nodes, each waiting for the others."""
    for i in range(blocks):
        miner = half[i % len(half)]
        block = mine(miner, 1, scenario_key(miner.name))[0]
        wait_tip(half, block)
    tip = tip_of(half[0])
    names = tuple(n.name for n in half)
    progress(
        f"{' and '.join(names)} mined {blocks} blocks: tip {short_hex(tip.tip)} at {tip.height}"
    )
    return HalfView(names, blocks, tip.height, tip.tip)
