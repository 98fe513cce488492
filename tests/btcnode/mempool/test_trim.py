"""A full pool evicts the lowest descendant fee rate, raises its floor, and lets it decay."""

from __future__ import annotations

from btcnode.consensus.block import Block, BlockHeader
from btcnode.consensus.errors import TxResult
from btcnode.consensus.tx import Tx
from btcnode.mempool import FeeRate, Mempool, MempoolPolicy, RemovalReason
from tests.btcnode.mempool.helpers import BASE_TIME, COIN, FakeChain, Wallet

NOW = BASE_TIME
HALF_LIFE = 12 * 60 * 60
EMPTY_BLOCK = Block(BlockHeader(1, bytes(32), bytes(32), 0, 0x207FFFFF, 0), ())


def _spends(chain: FakeChain, wallet: Wallet, fees: list[int]) -> list[Tx]:
    return [wallet.spend([wallet.fund(chain)], [COIN - fee]) for fee in fees]


def _pool_for(txs: list[Tx], **policy: object) -> Mempool:
    """Room for `txs`, plus a few bytes: signatures vary by a byte, transactions by ~190."""
    room = sum(tx.total_size for tx in txs) + 10
    return Mempool(MempoolPolicy(max_size_bytes=room, **policy))  # type: ignore[arg-type]


def test_full_pool_evicts_the_cheapest_and_raises_its_floor(
    chain: FakeChain, wallet: Wallet
) -> None:
    a, b, c, d, e = _spends(chain, wallet, [1000, 3000, 2000, 5000, 1000])
    pool = _pool_for([a, b, c])
    for tx in (a, b, c):
        assert pool.accept(tx, chain, NOW).accepted
    assert pool.min_fee(NOW) == FeeRate(100)  # the relay floor while nothing was evicted
    result = pool.accept(d, chain, NOW)
    assert result.accepted
    assert [(r.txid, r.reason) for r in result.evicted] == [(a.txid, RemovalReason.SIZELIMIT)]
    assert a.txid not in pool and pool.usage <= pool.policy.max_size_bytes
    floor = FeeRate.of(1000, a.vsize) + FeeRate(100)  # the evicted rate plus incremental
    assert pool.min_fee(NOW) == floor
    refused = pool.accept(e, chain, NOW)
    assert refused.reject_reason == "mempool min fee not met"
    assert refused.error is not None and refused.error.result is TxResult.MEMPOOL_POLICY
    assert refused.error.debug == f"1000 < {floor.fee(e.vsize)}"
    info = pool.info(NOW)
    assert (info.size, info.min_fee, info.usage) == (3, floor, pool.usage)


def test_floor_decays_only_after_a_block(chain: FakeChain, wallet: Wallet) -> None:
    a, b, c, d = _spends(chain, wallet, [1000, 3000, 2000, 5000])
    pool = _pool_for([a, b, c])
    for tx in (a, b, c, d):
        pool.accept(tx, chain, NOW)
    floor = pool.min_fee(NOW)
    assert floor > FeeRate(1000)
    assert pool.min_fee(NOW + 10 * HALF_LIFE) == floor  # no block, no decay
    pool.remove_for_block(EMPTY_BLOCK, NOW + 100)
    assert pool.min_fee(NOW + 100 + HALF_LIFE) == FeeRate(round(floor.sat_per_kvb / 2))
    # Under half the incremental relay fee it drops to nothing: the relay floor is left.
    assert pool.min_fee(NOW + 100 + 8 * HALF_LIFE) == FeeRate(100)


def _block(*txs: Tx) -> Block:
    return Block(EMPTY_BLOCK.header, txs)


def test_floor_halves_faster_in_an_emptier_pool(chain: FakeChain, wallet: Wallet) -> None:
    a, b, c, d = _spends(chain, wallet, [1000, 3000, 2000, 5000])
    quarter_full = _pool_for([a, b, c])
    for tx in (a, b, c, d):
        quarter_full.accept(tx, chain, NOW)
    floor = quarter_full.min_fee(NOW)
    half = FeeRate(round(floor.sat_per_kvb / 2))
    # A block confirms two of the three: a third full, the half-life is halved.
    quarter_full.remove_for_block(_block(c, d), NOW)
    assert len(quarter_full) == 1
    assert quarter_full.min_fee(NOW + HALF_LIFE // 2) == half
    # A block confirms everything: under a quarter full, the half-life is quartered.
    quarter_full.remove_for_block(_block(b), NOW)
    assert quarter_full.min_fee(NOW + HALF_LIFE // 4) == half


def test_package_fee_rate_protects_a_cheap_parent(chain: FakeChain, wallet: Wallet) -> None:
    parent, unrelated, rich = _spends(chain, wallet, [200, 1000, 9000])
    child = wallet.chain_spend(parent, 0, 5000)
    pool = _pool_for([parent, child, unrelated])
    for tx in (parent, child, unrelated):
        assert pool.accept(tx, chain, NOW).accepted
    result = pool.accept(rich, chain, NOW)
    assert [r.txid for r in result.evicted] == [unrelated.txid]
    assert parent.txid in pool and child.txid in pool


def test_evicting_a_parent_takes_its_descendants(chain: FakeChain, wallet: Wallet) -> None:
    parent, rich = _spends(chain, wallet, [200, 9000])
    child = wallet.chain_spend(parent, 0, 300)  # better alone, but the package is worst
    pool = _pool_for([parent, child])
    assert pool.accept(parent, chain, NOW).accepted
    assert pool.accept(child, chain, NOW).accepted
    result = pool.accept(rich, chain, NOW)
    assert [r.txid for r in result.evicted] == [parent.txid, child.txid]
    assert len(pool) == 1


def test_mempool_full_when_the_newcomer_is_cheapest(chain: FakeChain, wallet: Wallet) -> None:
    a, b, cheap = _spends(chain, wallet, [5000, 6000, 500])
    pool = _pool_for([a, b])
    assert pool.accept(a, chain, NOW).accepted and pool.accept(b, chain, NOW).accepted
    result = pool.accept(cheap, chain, NOW)
    assert result.reject_reason == "mempool full"
    assert [r.txid for r in result.evicted] == [cheap.txid]
    assert len(pool) == 2 and cheap.txid not in pool


def test_old_entries_expire_with_descendants(chain: FakeChain, wallet: Wallet) -> None:
    pool = Mempool(MempoolPolicy(expiry_seconds=100))
    old, fresh = _spends(chain, wallet, [1000, 1000])
    child = wallet.chain_spend(old, 0, 1000)
    assert pool.accept(old, chain, NOW).accepted
    assert pool.accept(child, chain, NOW + 50).accepted
    result = pool.accept(fresh, chain, NOW + 101)
    assert [(r.txid, r.reason) for r in result.evicted] == [
        (old.txid, RemovalReason.EXPIRY),
        (child.txid, RemovalReason.EXPIRY),
    ]
    assert len(pool) == 1
