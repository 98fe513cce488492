"""The orphan pool: adoption when parents arrive, bounds, expiry, and block cleanup."""

from __future__ import annotations

import pytest

from btcnode.consensus.block import Block, BlockHeader
from btcnode.consensus.errors import ChainMisuse
from btcnode.mempool import AcceptStatus, Mempool, MempoolPolicy, OrphanPool
from tests.btcnode.mempool.helpers import BASE_TIME, COIN, FakeChain, Wallet, utxo

NOW = BASE_TIME


def test_orphan_chain_enters_when_the_parent_arrives(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    parent = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    child = wallet.chain_spend(parent, 0, 1000)
    grandchild = wallet.chain_spend(child, 0, 1000)
    assert pool.accept(grandchild, chain, NOW).status is AcceptStatus.ORPHAN
    assert pool.accept(child, chain, NOW + 1).status is AcceptStatus.ORPHAN
    assert len(pool.orphans) == 2 and len(pool) == 0
    result = pool.accept(parent, chain, NOW + 2)
    assert result.accepted
    assert [r.txid for r in result.orphan_results] == [child.txid, grandchild.txid]
    assert all(r.accepted for r in result.orphan_results)
    assert len(pool.orphans) == 0 and len(pool) == 3
    entry = pool.get(grandchild.txid)
    assert entry is not None and entry.ancestor_count == 3


def test_orphan_waiting_for_two_parents_stays_until_both(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    a = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    b = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    child = wallet.spend([utxo(a), utxo(b)], [2 * COIN - 5000])
    assert pool.accept(child, chain, NOW).status is AcceptStatus.ORPHAN
    assert pool.accept(a, chain, NOW).orphan_results == ()
    assert child.txid in pool.orphans
    result = pool.accept(b, chain, NOW)
    assert [r.txid for r in result.orphan_results] == [child.txid]
    assert child.txid in pool and child.txid not in pool.orphans


def test_invalid_orphan_is_dropped_with_its_reason(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    parent = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    greedy = wallet.chain_spend(parent, 0, 5)  # below the relay floor
    assert pool.accept(greedy, chain, NOW).status is AcceptStatus.ORPHAN
    result = pool.accept(parent, chain, NOW)
    (retried,) = result.orphan_results
    assert retried.reject_reason == "min relay fee not met"
    assert greedy.txid not in pool.orphans and greedy.txid not in pool


def test_orphan_count_limit_evicts_the_oldest(chain: FakeChain, wallet: Wallet) -> None:
    pool = Mempool(MempoolPolicy(max_orphans=3))
    parents = [wallet.spend([wallet.fund(chain)], [COIN - 1000]) for _ in range(4)]
    orphans = [wallet.chain_spend(p, 0, 1000) for p in parents]
    for i, orphan in enumerate(orphans[:3]):
        assert pool.accept(orphan, chain, NOW + i).status is AcceptStatus.ORPHAN
    result = pool.accept(orphans[3], chain, NOW + 3)
    assert result.status is AcceptStatus.ORPHAN
    assert result.orphans_evicted == (orphans[0].txid,)
    assert [o.tx.txid for o in pool.orphans.orphans()] == [o.txid for o in orphans[1:]]


def test_orphan_weight_limit(chain: FakeChain, wallet: Wallet) -> None:
    parents = [wallet.spend([wallet.fund(chain)], [COIN - 1000]) for _ in range(3)]
    orphans = [wallet.chain_spend(p, 0, 1000) for p in parents]
    limit = orphans[0].weight + orphans[1].weight  # room for two
    pool = Mempool(MempoolPolicy(max_orphan_weight=limit))
    pool.accept(orphans[0], chain, NOW)
    pool.accept(orphans[1], chain, NOW)
    result = pool.accept(orphans[2], chain, NOW)
    assert result.orphans_evicted == (orphans[0].txid,)
    assert pool.orphans.total_weight == orphans[1].weight + orphans[2].weight


def test_orphans_expire(chain: FakeChain, wallet: Wallet) -> None:
    pool = Mempool(MempoolPolicy(orphan_expiry_seconds=1200))
    parent = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    orphan = wallet.chain_spend(parent, 0, 1000)
    pool.accept(orphan, chain, NOW)
    other = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    pool.accept(other, chain, NOW + 1199)
    assert orphan.txid in pool.orphans
    pool.accept(wallet.spend([wallet.fund(chain)], [COIN - 1000]), chain, NOW + 1200)
    assert orphan.txid not in pool.orphans
    # The parent arriving later finds no orphan to adopt.
    assert pool.accept(parent, chain, NOW + 1300).orphan_results == ()


def test_orphan_pool_unit() -> None:
    wallet, chain = Wallet(), FakeChain()
    parent = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    orphan = wallet.chain_spend(parent, 0, 1000)
    orphans = OrphanPool(max_count=10, max_weight=10**6, expiry_seconds=60)
    assert orphans.add(orphan, 5) == (True, ())
    assert orphans.add(orphan, 6) == (False, ())  # already there
    assert [o.tx for o in orphans.spending(parent.txid, 1)] == [orphan]
    assert orphans.spending(parent.txid, 0) == ()
    assert orphans.get(orphan.txid) is not None
    assert orphans.expire(64) == () and orphans.expire(65) == (orphan.txid,)
    assert orphans.total_weight == 0 and orphans.spending(parent.txid, 1) == ()
    with pytest.raises(ChainMisuse):
        OrphanPool(max_count=-1, max_weight=0, expiry_seconds=0)


def test_block_erases_orphans_it_confirms_or_double_spends() -> None:
    wallet, chain = Wallet(), FakeChain()
    parent = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    confirmed = wallet.chain_spend(parent, 0, 1000)
    rival = wallet.chain_spend(parent, 0, 2000)
    unrelated = wallet.chain_spend(wallet.spend([wallet.fund(chain)], [COIN - 1000]), 0, 1000)
    orphans = OrphanPool(max_count=10, max_weight=10**6, expiry_seconds=60)
    for tx in (confirmed, rival, unrelated):
        orphans.add(tx, 0)
    header = BlockHeader(1, bytes(32), bytes(32), 0, 0x207FFFFF, 0)
    erased = orphans.erase_for_block(Block(header, (parent, confirmed)))
    assert set(erased) == {confirmed.txid, rival.txid}
    assert len(orphans) == 1 and unrelated.txid in orphans
