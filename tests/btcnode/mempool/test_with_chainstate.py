"""The mempool following a real Chainstate (MemoryStore): blocks confirm and conflict,
a reorg returns transactions and drops those the new chain double-spends."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from btcnode.chain import Chainstate, ChainUpdate
from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.mempool import AcceptStatus, Mempool, RemovalReason
from btcnode.miner.assemble import assemble_block, solve_block
from common.store import MemoryStore
from tests.btcnode.mempool.helpers import Utxo, Wallet

# Coinbases spendable one block later keep the chains short.
PARAMS = dataclasses.replace(REGTEST, name="regtest-maturity-1", coinbase_maturity=1)
NOW = REGTEST.genesis.header.time + 10_000_000


class Miner:
    def __init__(self, chainstate: Chainstate, wallet: Wallet) -> None:
        self.chainstate = chainstate
        self.wallet = wallet
        self.heights = {PARAMS.genesis_hash: (0, PARAMS.genesis.header.time)}

    def block(
        self, parent: bytes, txs: Sequence[Tx] = (), *, fees: int = 0, tag: bytes = b""
    ) -> Block:
        height, time = self.heights[parent]
        block = solve_block(
            assemble_block(
                prev_hash=parent,
                height=height + 1,
                time=time + 1,
                bits=PARAMS.genesis.header.bits,
                txs=txs,
                fees=fees,
                script_pubkey=self.wallet.p2wpkh,
                params=PARAMS,
                extra_nonce=tag,
            )
        )
        self.heights[block.hash] = (height + 1, time + 1)
        return block

    def connect(self, block: Block) -> ChainUpdate:
        update = self.chainstate.process_block(block, NOW)
        assert isinstance(update, ChainUpdate)
        return update


def _reward(block: Block) -> Utxo:
    return Utxo(OutPoint(block.txs[0].txid, 0), block.txs[0].vout[0])


def test_blocks_and_a_reorg_against_the_chainstate() -> None:
    wallet = Wallet()
    chainstate = Chainstate.open(MemoryStore(), PARAMS)
    miner = Miner(chainstate, wallet)
    pool = Mempool()
    b1 = miner.block(PARAMS.genesis_hash)
    b2 = miner.block(b1.hash)
    for block in (b1, b2):
        miner.connect(block)
    reward1, reward2 = _reward(b1), _reward(b2)
    value = reward1.out.value
    a = wallet.spend([reward1], [value - 1000])
    a_child = wallet.chain_spend(a, 0, 1000)
    c = wallet.spend([reward2], [value - 1000])
    for tx in (a, a_child, c):
        assert pool.accept(tx, chainstate, NOW).accepted
    # Block 3a confirms a and a rival of c.
    c_rival = wallet.spend([reward2], [value - 3000])
    b3a = miner.block(b2.hash, [a, c_rival], fees=1000 + 3000)
    update = miner.connect(b3a)
    assert update.connected == (b3a,)
    result = pool.update_for_reorg(update, chainstate, NOW)
    assert [(r.txid, r.reason) for r in result.removed] == [
        (a.txid, RemovalReason.BLOCK),
        (c.txid, RemovalReason.CONFLICT),
    ]
    child = pool.get(a_child.txid)
    assert child is not None and child.ancestor_count == 1 and len(pool) == 1
    # A longer fork from block 2 spends block 1's reward otherwise: a cannot come back,
    # so its child goes; c's rival returns to the pool.
    d = wallet.spend([reward1], [value - 5000])
    b3b = miner.block(b2.hash, [d], fees=5000, tag=b"b")
    b4b = miner.block(b3b.hash, tag=b"b")
    miner.connect(b3b)
    update = miner.connect(b4b)
    assert update.disconnected == (b3a,) and update.connected == (b3b, b4b)
    result = pool.update_for_reorg(update, chainstate, NOW + 1)
    assert [(r.txid, r.status) for r in result.resurrected] == [
        (a.txid, AcceptStatus.REJECTED),
        (c_rival.txid, AcceptStatus.ACCEPTED),
    ]
    assert result.resurrected[0].reject_reason == "bad-txns-inputs-missingorspent"
    assert [(r.txid, r.reason) for r in result.removed] == [(a_child.txid, RemovalReason.REORG)]
    assert [e.txid for e in pool.entries()] == [c_rival.txid]
    entry = pool.get(c_rival.txid)
    assert entry is not None and entry.height == chainstate.tip_height == 4
