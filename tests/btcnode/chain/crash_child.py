"""A process that keeps changing a LevelDB chainstate until it is killed (test_persistence).

`python -m tests.btcnode.chain.crash_child DB_PATH SEED [FLUSH_EVERY]`: opens the chainstate
flushing every FLUSH_EVERY blocks (default 1), resumes any interrupted reorg, prints
"ready", then forever builds branches of one to four blocks on one of the last few active
blocks, each heavier than the tip, so most steps disconnect and connect blocks; every block
spends its parent's coinbase and chains a second spend inside the block. Now and then it
invalidates and reconsiders a recent block, and at MAX_HEIGHT it invalidates the block three
below the tip for good, so the height stays near MAX_HEIGHT. Runs on QUICK_REGTEST
(coinbases spendable after one block).
"""

from __future__ import annotations

import random
import sys

from btcnode.chain import Chainstate
from btcnode.chain.flushing import FlushPolicy
from btcnode.consensus.block import Block
from btcnode.consensus.tx import Tx
from common.store import LevelStore
from tests.btcnode.chain.builder import QUICK_REGTEST, ChainBuilder, feed, spend

MAX_HEIGHT = 60  # keeps the parent's replay check short
FEE = 1000


def _spends(parent: Block) -> list[Tx]:
    if parent.hash == QUICK_REGTEST.genesis.hash:
        return []  # the genesis coinbase is not a coin
    value = parent.txs[0].vout[0].value
    first = spend([(parent.txs[0].txid, 0)], [value - 2 * FEE - 5000, 5000])
    second = spend([(first.txid, 1)], [5000 - FEE])
    return [first, second]


def _branch(chainstate: Chainstate, builder: ChainBuilder, rng: random.Random) -> list[Block]:
    """One to four blocks on one of the last four active blocks, one more than the tip."""
    if chainstate.tip_height >= MAX_HEIGHT:
        chainstate.invalidate_block(chainstate.block_hash_at(chainstate.tip_height - 3))
    depth = rng.randrange(0, min(3, chainstate.tip_height) + 1)
    base_height = chainstate.tip_height - depth
    parent = chainstate.get_block(chainstate.block_hash_at(base_height))
    assert parent is not None
    builder.know(parent.hash, base_height, parent.header.time)
    blocks = []
    tag = rng.randbytes(4)
    for _ in range(depth + 1):
        txs = _spends(parent)
        block = builder.block(parent.hash, txs, fees=len(txs) * FEE + FEE if txs else 0, tag=tag)
        blocks.append(block)
        parent = block
    return blocks


def main(path: str, seed: int, flush_every: int) -> None:
    rng = random.Random(seed)
    builder = ChainBuilder(QUICK_REGTEST)
    with LevelStore(path) as store:
        policy = FlushPolicy(every_blocks=flush_every)
        chainstate = Chainstate.open(store, QUICK_REGTEST, flush_policy=policy)
        chainstate.activate_best_chain()
        print("ready", flush=True)
        while True:
            if chainstate.tip_height > 3 and rng.random() < 0.1:
                target = chainstate.block_hash_at(chainstate.tip_height - rng.randrange(3))
                chainstate.invalidate_block(target)
                chainstate.reconsider_block(target)
                continue
            feed(chainstate, _branch(chainstate, builder, rng))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
