"""Random accept / child / replace / block / reorg sequences keep the pool consistent.

After every step the links, aggregates, spender index and totals are recomputed from the
transactions alone and compared with what the pool keeps. A failure names its seed:
rerun with that seed alone to replay it.
"""

from __future__ import annotations

import random

import pytest

from btcnode.consensus.block import Block
from btcnode.consensus.coins import Coin
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.mempool import Mempool, MempoolEntry, MempoolPolicy
from tests.btcnode.mempool.helpers import (
    BASE_TIME,
    COIN,
    Change,
    FakeChain,
    Utxo,
    Wallet,
    block_at,
)

SEEDS = range(10)
STEPS = 80


class Scenario:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.chain = FakeChain()
        self.wallet = Wallet(seed + 7)
        self.pool = Mempool(MempoolPolicy(max_size_bytes=15 * 200, ancestor_count=6))
        self.now = BASE_TIME
        self.blocks: list[tuple[Block, dict[OutPoint, Coin]]] = []  # with the coins spent

    def unspent_pool_outputs(self) -> list[Utxo]:
        return [
            Utxo(OutPoint(e.txid, n), out)
            for e in self.pool.entries()
            for n, out in enumerate(e.tx.vout)
            if self.pool.spender_of(OutPoint(e.txid, n)) is None
        ]

    def pay(self, sources: list[Utxo]) -> Tx:
        total = sum(u.out.value for u in sources)
        fee = self.rng.randrange(200, 5000)
        parts = self.rng.randrange(1, 4)
        each = (total - fee) // parts
        return self.wallet.spend(sources, [each] * parts)

    def step(self) -> None:
        self.now += self.rng.randrange(1, 600)
        kind = self.rng.choice(["fresh", "fresh", "child", "child", "replace", "block", "reorg"])
        getattr(self, f"do_{kind}")()

    def do_fresh(self) -> None:
        coin = self.wallet.fund(self.chain, self.rng.randrange(1, 5) * COIN)
        self.pool.accept(self.pay([coin]), self.chain, self.now)

    def do_child(self) -> None:
        outputs = self.unspent_pool_outputs()
        if outputs:
            picked = self.rng.sample(outputs, min(len(outputs), self.rng.randrange(1, 3)))
            self.pool.accept(self.pay(picked), self.chain, self.now)

    def do_replace(self) -> None:
        entries = self.pool.entries()
        if not entries:
            return
        victim = self.rng.choice(entries)
        view = self.pool.coins_view(self.chain)
        sources = []
        for txin in victim.tx.vin:
            coin = view.get_coin(txin.prevout)
            assert coin is not None
            sources.append(Utxo(txin.prevout, coin.out))
        total = sum(u.out.value for u in sources)
        fee = victim.descendant_fees + self.rng.randrange(0, 20_000)
        self.pool.accept(self.wallet.spend(sources, [total - fee]), self.chain, self.now)

    def do_block(self) -> None:
        roots = [e.tx for e in self.pool.entries() if not e.parents]
        txs = self.rng.sample(roots, min(len(roots), self.rng.randrange(0, 4)))
        height = self.chain.tip_height + 1
        spent: dict[OutPoint, Coin] = {}
        for tx in txs:
            for txin in tx.vin:
                spent[txin.prevout] = self.chain.coins.pop(txin.prevout)
            for n, out in enumerate(tx.vout):
                self.chain.coins[OutPoint(tx.txid, n)] = Coin(out, height, False)
        self.chain.tip_height = height
        block = block_at(height, *txs)
        self.blocks.append((block, spent))
        self.pool.update_for_reorg(Change(connected=(block,)), self.chain, self.now)

    def do_reorg(self) -> None:
        if not self.blocks:
            return
        block, spent = self.blocks.pop()
        for tx in block.txs[1:]:
            for n in range(len(tx.vout)):
                self.chain.coins.pop(OutPoint(tx.txid, n), None)
        self.chain.coins.update(spent)
        self.chain.tip_height -= 1
        self.pool.update_for_reorg(Change(disconnected=(block,)), self.chain, self.now)


def _closure(start: set[bytes], links: dict[bytes, set[bytes]]) -> set[bytes]:
    seen: set[bytes] = set()
    todo = list(start)
    while todo:
        txid = todo.pop()
        if txid not in seen:
            seen.add(txid)
            todo.extend(links[txid])
    return seen


def check_consistent(pool: Mempool, chain: FakeChain) -> None:
    entries = {e.txid: e for e in pool.entries()}
    parents = {
        t: {i.prevout.txid for i in e.tx.vin if i.prevout.txid in entries}
        for t, e in entries.items()
    }
    children: dict[bytes, set[bytes]] = {t: set() for t in entries}
    for t, ps in parents.items():
        for p in ps:
            children[p].add(t)
    spends = [i.prevout for e in entries.values() for i in e.tx.vin]
    assert len(spends) == len(set(spends)), "two entries spend one output"
    for t, e in entries.items():
        assert (e.parents, e.children) == (parents[t], children[t])
        _check_aggregates(e, [entries[a] for a in _closure(parents[t], parents)], "ancestor")
        _check_aggregates(e, [entries[d] for d in _closure(children[t], children)], "descendant")
        for txin in e.tx.vin:
            assert pool.spender_of(txin.prevout) == t
            assert txin.prevout.txid in entries or chain.get_coin(txin.prevout) is not None
    order = [e.txid for e in pool.entries()]
    assert all(order.index(p) < order.index(t) for t in entries for p in parents[t])
    assert pool.total_vsize == sum(e.vsize for e in entries.values())
    assert pool.total_fees == sum(e.fee for e in entries.values())
    assert pool.usage == sum(e.tx.total_size for e in entries.values())


def _check_aggregates(entry: MempoolEntry, others: list[MempoolEntry], side: str) -> None:
    figures = (
        getattr(entry, f"{side}_count"),
        getattr(entry, f"{side}_size"),
        getattr(entry, f"{side}_fees"),
    )
    expected = (
        1 + len(others),
        entry.vsize + sum(o.vsize for o in others),
        entry.fee + sum(o.fee for o in others),
    )
    assert figures == expected, f"{side} aggregates of {entry}"
    if side == "ancestor":
        assert entry.ancestor_sigop_cost == entry.sigop_cost + sum(o.sigop_cost for o in others)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_histories_keep_the_aggregates(seed: int) -> None:
    scenario = Scenario(seed)
    for step in range(STEPS):
        scenario.step()
        try:
            check_consistent(scenario.pool, scenario.chain)
        except AssertionError as err:
            raise AssertionError(f"SEED={seed} step {step}: {err}") from err
    assert len(scenario.pool) > 0 or scenario.blocks, f"SEED={seed}: nothing happened"
