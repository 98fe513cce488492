"""The chainstate on regtest: extending, fork choice, reorgs, ties, orphans, queries."""

from __future__ import annotations

import pytest

from btcnode.chain import BlockOutcome, ChainUpdate, OrphanPool, TipStatus
from btcnode.consensus.block import Block
from btcnode.consensus.coins import ChainView, Coin
from btcnode.consensus.contextual import median_time_past
from btcnode.consensus.errors import BlockResult, BlockValidationError
from btcnode.consensus.params import COIN, REGTEST
from btcnode.consensus.tx import OutPoint
from tests.btcnode.chain.builder import (
    NOW,
    QUICK_REGTEST,
    ChainBuilder,
    feed,
    mature_chain,
    new_chainstate,
    replay_stats,
    spend,
)

SUBSIDY = 50 * COIN
CHANGE = 20_000_000
FEE = 10_000
GENESIS = REGTEST.genesis.hash


def _coinbase_outpoint(block: Block) -> tuple[bytes, int]:
    return block.txs[0].txid, 0


def test_open_starts_at_genesis_with_an_empty_utxo_set() -> None:
    chainstate = new_chainstate()
    assert (chainstate.tip_height, chainstate.tip_hash) == (0, GENESIS)
    assert chainstate.get_block(GENESIS) == REGTEST.genesis
    genesis_coinbase = REGTEST.genesis.txs[0].txid
    assert chainstate.get_coin(OutPoint(genesis_coinbase, 0)) is None  # never spendable
    stats = chainstate.utxo_stats()
    assert (stats.coins, stats.total_amount, stats.tip_height) == (0, 0, 0)
    [tip] = chainstate.chain_tips()
    assert (tip.hash, tip.status, tip.branch_len) == (GENESIS, TipStatus.ACTIVE, 0)


def test_extending_the_tip_connects_each_block() -> None:
    builder = ChainBuilder()
    blocks = builder.chain(GENESIS, 12)
    chainstate = new_chainstate()
    updates = feed(chainstate, blocks)
    assert [u.connected for u in updates] == [(b,) for b in blocks]
    assert all(u.disconnected == () and u.invalid == () for u in updates)
    assert (chainstate.tip_height, chainstate.tip_hash) == (12, blocks[-1].hash)
    assert [chainstate.block_hash_at(h) for h in range(13)] == [GENESIS] + [b.hash for b in blocks]
    times = [REGTEST.genesis.header.time] + [b.header.time for b in blocks]
    assert chainstate.median_time_past(12) == median_time_past(times)
    assert chainstate.block_time(5) == blocks[4].header.time
    coin = chainstate.get_coin(OutPoint(*_coinbase_outpoint(blocks[2])))
    assert coin == Coin(blocks[2].txs[0].vout[0], 3, True)
    stats = chainstate.utxo_stats()
    assert (stats.coins, stats.total_amount, stats.tip_hash) == (12, 12 * SUBSIDY, blocks[-1].hash)
    entry = chainstate.get_index(blocks[-1].hash)
    assert entry is not None and entry.status.have_data and entry.height == 12


def test_a_heavier_branch_replaces_the_active_chain() -> None:
    builder = ChainBuilder()
    a_chain = builder.chain(GENESIS, 3, tag=b"a")
    b_chain = builder.chain(GENESIS, 4, tag=b"b")
    chainstate = new_chainstate()
    feed(chainstate, a_chain)
    updates = feed(chainstate, b_chain)
    assert all(not u.changed for u in updates[:3])  # B1..B3: not more work than A3
    assert updates[3].disconnected == tuple(reversed(a_chain))
    assert updates[3].connected == tuple(b_chain)
    assert (updates[3].tip_hash, updates[3].tip_height) == (b_chain[-1].hash, 4)
    tips = {tip.hash: tip for tip in chainstate.chain_tips()}
    assert tips[a_chain[-1].hash].status is TipStatus.VALID_FORK
    assert tips[a_chain[-1].hash].branch_len == 3
    assert tips[b_chain[-1].hash].status is TipStatus.ACTIVE
    assert chainstate.utxo_stats() == replay_stats(chainstate)


def _spending_branch(
    builder: ChainBuilder, base: Block, length: int, tag: bytes, offset: int = 0
) -> list[Block]:
    """`length` blocks on `base`, each spending an old coinbase and the previous block's
    change, and chaining a second spend inside the block."""
    _, mature = mature_chain()
    blocks: list[Block] = []
    parent = base
    change: tuple[bytes, int] | None = None
    for i in range(length):
        source = mature[offset + i + len(tag) - 1]  # block h's coinbase: mature at h + 100
        kept = SUBSIDY - CHANGE - FEE
        first = spend([_coinbase_outpoint(source)], [kept, CHANGE])
        inputs = [(first.txid, 0)] + ([change] if change else [])
        second = spend(inputs, [kept - FEE + (CHANGE if change else 0)])
        block = builder.block(parent.hash, [first, second], fees=2 * FEE, tag=tag)
        blocks.append(block)
        parent, change = block, (first.txid, 1)
    return blocks


def test_one_block_reorg_gives_the_utxo_set_of_a_fresh_replay() -> None:
    builder, mature = mature_chain()
    chainstate = new_chainstate()
    feed(chainstate, mature)
    [a1] = _spending_branch(builder, mature[-1], 1, b"a")
    b1, b2 = _spending_branch(builder, mature[-1], 2, b"bb")
    feed(chainstate, [a1])
    before = chainstate.utxo_stats()
    assert before == replay_stats(chainstate)
    updates = feed(chainstate, [b1, b2])
    assert not updates[0].changed
    assert updates[1].disconnected == (a1,) and updates[1].connected == (b1, b2)
    assert chainstate.utxo_stats() == replay_stats(chainstate)
    assert chainstate.get_coin(OutPoint(a1.txs[1].txid, 1)) is None  # A's outputs are gone


def test_ten_block_reorg_and_back_gives_fresh_replay_utxo_sets() -> None:
    builder, mature = mature_chain()
    chainstate = new_chainstate()
    feed(chainstate, mature)
    fork = mature[-1]
    a_chain = _spending_branch(builder, fork, 10, b"a")
    b_chain = _spending_branch(builder, fork, 11, b"bb")
    feed(chainstate, a_chain)
    a_stats = chainstate.utxo_stats()
    assert a_stats == replay_stats(chainstate)
    update = feed(chainstate, b_chain)[-1]
    assert update.disconnected == tuple(reversed(a_chain)) and update.connected == tuple(b_chain)
    assert chainstate.utxo_stats() == replay_stats(chainstate)
    a_more = _spending_branch(builder, a_chain[-1], 2, b"a", offset=10)  # A heavier again
    update = feed(chainstate, a_more)[-1]
    assert update.disconnected == tuple(reversed(b_chain))
    assert update.connected == (*a_chain, *a_more)
    assert chainstate.utxo_stats() == replay_stats(chainstate)


def test_reorg_across_the_coinbase_maturity_boundary() -> None:
    """Spending block 1's coinbase is valid at height 101, premature at height 100."""
    builder, mature = mature_chain()
    chainstate = new_chainstate()
    feed(chainstate, mature[:99])  # tip at height 99
    base = mature[98]
    spend_cb1 = spend([_coinbase_outpoint(mature[0])], [SUBSIDY - 1000])
    a100 = builder.block(base.hash, tag=b"a")
    a101 = builder.block(a100.hash, [spend_cb1], fees=1000, tag=b"a")
    feed(chainstate, [a100, a101])
    good = chainstate.utxo_stats()
    assert chainstate.get_coin(OutPoint(spend_cb1.txid, 0)) is not None
    # A heavier branch that spends the same coinbase one block too early.
    b100 = builder.block(base.hash, [spend_cb1], fees=1000, tag=b"b")
    b101 = builder.block(b100.hash, tag=b"b")
    b102 = builder.block(b101.hash, tag=b"b")
    updates = feed(chainstate, [b100, b101, b102], allow_invalid=True)
    last = updates[-1]
    assert [item.hash for item in last.invalid] == [b100.hash]
    assert last.invalid[0].reject_reason == "bad-txns-premature-spend-of-coinbase"
    assert not last.changed and chainstate.tip_hash == a101.hash
    assert chainstate.utxo_stats() == good
    tip_statuses = {tip.hash: tip.status for tip in chainstate.chain_tips()}
    assert tip_statuses[b102.hash] is TipStatus.INVALID
    # The same spend one block later on a third branch is valid, and that branch wins.
    c100 = builder.block(base.hash, tag=b"c")
    c101 = builder.block(c100.hash, [spend_cb1], fees=1000, tag=b"c")
    c102 = builder.block(c101.hash, tag=b"c")
    update = feed(chainstate, [c100, c101, c102])[-1]
    assert update.connected == (c100, c101, c102) and update.disconnected == (a101, a100)
    assert chainstate.utxo_stats() == replay_stats(chainstate)


def test_equal_work_tie_keeps_the_first_seen_block() -> None:
    builder = ChainBuilder()
    first, second = builder.block(GENESIS, tag=b"1"), builder.block(GENESIS, tag=b"2")
    for order in ((first, second), (second, first)):
        chainstate = new_chainstate()
        updates = feed(chainstate, order)
        assert updates[0].connected == (order[0],)
        assert not updates[1].changed
        assert chainstate.tip_hash == order[0].hash
        statuses = {tip.hash: tip.status for tip in chainstate.chain_tips()}
        assert statuses[order[1].hash] is TipStatus.VALID_HEADERS  # stored, never connected
        child = builder.block(order[1].hash)
        update = feed(chainstate, [child])[0]
        assert update.disconnected == (order[0],) and update.connected == (order[1], child)


def test_blocks_out_of_order_wait_as_orphans_and_connect_with_their_parent() -> None:
    builder = ChainBuilder(QUICK_REGTEST)
    blocks = builder.chain(GENESIS, 5)
    chainstate = new_chainstate(QUICK_REGTEST)
    for block in reversed(blocks[1:]):
        assert chainstate.process_block(block, NOW) is BlockOutcome.ORPHAN
    assert chainstate.orphan_count == 4 and chainstate.tip_height == 0
    update = chainstate.process_block(blocks[0], NOW)
    assert isinstance(update, ChainUpdate)
    assert update.connected == tuple(blocks)
    assert chainstate.orphan_count == 0 and chainstate.tip_hash == blocks[-1].hash


def test_the_orphan_pool_is_bounded_and_drops_the_oldest() -> None:
    builder = ChainBuilder()
    blocks = builder.chain(GENESIS, 6)
    pool = OrphanPool(max_blocks=3)
    for block in blocks[1:]:
        pool.add(block)
    assert len(pool) == 3
    assert [b.hash in pool for b in blocks[1:]] == [False, False, True, True, True]
    assert pool.take_children(blocks[3].hash) == [blocks[4]]
    assert len(pool) == 2 and pool.byte_size == sum(b.total_size for b in (blocks[3], blocks[5]))


def test_invalidate_and_reconsider_round_trip() -> None:
    builder = ChainBuilder()
    main = builder.chain(GENESIS, 6, tag=b"m")
    side = builder.chain(main[1].hash, 3, tag=b"s")  # forks at height 2, ends at height 5
    chainstate = new_chainstate()
    feed(chainstate, main + side)
    stats = chainstate.utxo_stats()
    update = chainstate.invalidate_block(main[3].hash)  # height 4
    assert update.disconnected == tuple(reversed(main[2:]))  # back to the fork at height 2
    assert update.connected == tuple(side)
    assert chainstate.tip_hash == side[-1].hash
    entry = chainstate.get_index(main[3].hash)
    assert entry is not None and entry.status.failed
    statuses = {tip.hash: tip.status for tip in chainstate.chain_tips()}
    assert statuses[main[-1].hash] is TipStatus.INVALID
    assert chainstate.utxo_stats() == replay_stats(chainstate)
    update = chainstate.reconsider_block(main[3].hash)
    assert update.disconnected == tuple(reversed(side))
    assert update.connected == tuple(main[2:])
    assert chainstate.utxo_stats() == stats
    assert all(not chainstate.get_index(b.hash).status.failed for b in main)  # type: ignore[union-attr]


def test_invalidating_the_tip_without_a_rival_steps_back_one_block() -> None:
    builder = ChainBuilder()
    blocks = builder.chain(GENESIS, 3)
    chainstate = new_chainstate()
    feed(chainstate, blocks)
    update = chainstate.invalidate_block(blocks[-1].hash)
    assert update.disconnected == (blocks[-1],) and update.connected == ()
    assert chainstate.tip_hash == blocks[1].hash
    with pytest.raises(BlockValidationError) as info:
        chainstate.process_block(blocks[-1], NOW)
    assert info.value.reject_reason == "duplicate-invalid"
    assert info.value.result is BlockResult.CACHED_INVALID


def test_locator_and_find_fork() -> None:
    builder = ChainBuilder(QUICK_REGTEST)
    blocks = builder.chain(GENESIS, 40)
    chainstate = new_chainstate(QUICK_REGTEST)
    feed(chainstate, blocks)
    locator = chainstate.locator()
    heights = [chainstate.get_index(h).height for h in locator]  # type: ignore[union-attr]
    assert heights[:11] == list(range(40, 29, -1))
    assert heights[11:] == [29, 27, 23, 15, 0]
    side = builder.chain(blocks[19].hash, 2, tag=b"x")
    other = new_chainstate(QUICK_REGTEST)
    feed(other, blocks[:20] + side)
    assert chainstate.find_fork(other.locator()).hash == blocks[19].hash
    assert chainstate.find_fork([bytes(32)]).hash == GENESIS


def test_coinbase_and_in_block_spends_are_tracked() -> None:
    builder = ChainBuilder(QUICK_REGTEST)
    chainstate = new_chainstate(QUICK_REGTEST)
    b1 = builder.block(GENESIS)
    feed(chainstate, [b1])
    first = spend([_coinbase_outpoint(b1)], [SUBSIDY - 2000, 1000])
    second = spend([(first.txid, 0)], [SUBSIDY - 4000])  # spends an output of the same block
    b2 = builder.block(b1.hash, [first, second], fees=3000)
    feed(chainstate, [b2])
    assert chainstate.get_coin(OutPoint(first.txid, 0)) is None
    assert chainstate.get_coin(OutPoint(first.txid, 1)) == Coin(first.vout[1], 2, False)
    assert chainstate.get_coin(OutPoint(second.txid, 0)) == Coin(second.vout[0], 2, False)
    assert chainstate.get_coin(OutPoint(*_coinbase_outpoint(b1))) is None
    update = chainstate.invalidate_block(b2.hash)
    assert update.disconnected == (b2,)
    assert chainstate.get_coin(OutPoint(*_coinbase_outpoint(b1))) == Coin(
        b1.txs[0].vout[0], 1, True
    )
    assert chainstate.get_coin(OutPoint(second.txid, 0)) is None
    assert chainstate.utxo_stats() == replay_stats(chainstate)


def test_witness_commitment_output_is_not_a_coin() -> None:
    builder = ChainBuilder()
    block = builder.block(GENESIS)
    assert len(block.txs[0].vout) == 2  # the payout and the OP_RETURN commitment
    chainstate = new_chainstate()
    feed(chainstate, [block])
    assert chainstate.utxo_stats().coins == 1
    assert chainstate.get_coin(OutPoint(block.txs[0].txid, 1)) is None


def test_the_chainstate_is_the_chain_view_the_mempool_and_miner_read() -> None:
    builder = ChainBuilder()
    blocks = builder.chain(GENESIS, 3)
    chainstate = new_chainstate()
    feed(chainstate, blocks)
    view: ChainView = chainstate  # checked by mypy against the protocol
    assert (view.tip_height, view.tip_hash, view.params) == (3, blocks[-1].hash, REGTEST)
    assert view.block_time(3) == blocks[-1].header.time
    assert view.get_coin(OutPoint(blocks[0].txs[0].txid, 0)) is not None


def test_raw_blocks_are_the_serialization_with_witnesses_cached_or_not() -> None:
    builder = ChainBuilder()
    blocks = builder.chain(GENESIS, 20)  # more than the block cache holds
    chainstate = new_chainstate()
    feed(chainstate, blocks)
    assert chainstate.get_raw_block(GENESIS) == REGTEST.genesis.serialize()
    for block in (blocks[0], blocks[-1]):  # long evicted from the cache; just connected
        assert chainstate.get_raw_block(block.hash) == block.serialize()
    assert chainstate.get_raw_block(b"\x07" * 32) is None
