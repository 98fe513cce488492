"""The mempool following a real Chainstate (MemoryStore): blocks confirm and conflict,
a reorg returns transactions and drops those the new chain double-spends."""

from __future__ import annotations

import functools

from btcnode.consensus.block import Block
from btcnode.consensus.params import REGTEST
from btcnode.consensus.tx import OutPoint
from btcnode.mempool import AcceptStatus, Mempool, RemovalReason
from tests.btcnode.chain.builder import QUICK_REGTEST, ChainBuilder, feed, new_chainstate
from tests.btcnode.mempool.helpers import Utxo, Wallet

# Coinbases spendable one block later keep the chains short.
PARAMS = QUICK_REGTEST
NOW = REGTEST.genesis.header.time + 10_000_000


def _reward(block: Block) -> Utxo:
    return Utxo(OutPoint(block.txs[0].txid, 0), block.txs[0].vout[0])


def test_blocks_and_a_reorg_against_the_chainstate() -> None:
    wallet = Wallet()
    chainstate = new_chainstate(PARAMS)
    mine = functools.partial(ChainBuilder(PARAMS).block, script_pubkey=wallet.p2wpkh)
    pool = Mempool()
    b1 = mine(PARAMS.genesis_hash)
    b2 = mine(b1.hash)
    feed(chainstate, [b1, b2])
    reward1, reward2 = _reward(b1), _reward(b2)
    value = reward1.out.value
    a = wallet.spend([reward1], [value - 1000])
    a_child = wallet.chain_spend(a, 0, 1000)
    c = wallet.spend([reward2], [value - 1000])
    for tx in (a, a_child, c):
        assert pool.accept(tx, chainstate, NOW).accepted
    # Block 3a confirms a and a rival of c.
    c_rival = wallet.spend([reward2], [value - 3000])
    b3a = mine(b2.hash, [a, c_rival], fees=1000 + 3000)
    (update,) = feed(chainstate, [b3a])
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
    b3b = mine(b2.hash, [d], fees=5000, tag=b"b")
    b4b = mine(b3b.hash, tag=b"b")
    update = feed(chainstate, [b3b, b4b])[-1]
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
