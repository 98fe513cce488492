"""Ancestor and descendant limits (25 transactions, 101 kvB) and the CPFP carve-out."""

from __future__ import annotations

from btcnode.consensus.errors import TxResult
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx
from btcnode.mempool import Mempool, MempoolPolicy
from tests.btcnode.mempool.helpers import BASE_TIME, COIN, FakeChain, Wallet, utxo

NOW = BASE_TIME


def _too_long(pool: Mempool, chain: FakeChain, tx: Tx) -> str:
    result = pool.accept(tx, chain, NOW)
    assert result.reject_reason == "too-long-mempool-chain", result
    assert result.error is not None and result.error.result is TxResult.MEMPOOL_POLICY
    return result.error.debug


def test_chain_of_25_then_the_26th_is_too_long(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    txs = [wallet.spend([wallet.fund(chain)], [COIN - 1000])]
    for _ in range(24):
        txs.append(wallet.chain_spend(txs[-1], 0, 1000))
    for tx in txs:
        assert pool.accept(tx, chain, NOW).accepted
    last = pool.get(txs[-1].txid)
    first = pool.get(txs[0].txid)
    assert last is not None and first is not None
    assert (last.ancestor_count, first.descendant_count) == (25, 25)
    assert (last.ancestor_fees, first.descendant_fees) == (25_000, 25_000)
    assert len(pool.ancestors(txs[-1].txid)) == 24
    assert pool.descendants(txs[0].txid) == {t.txid for t in txs[1:]}
    debug = _too_long(pool, chain, wallet.chain_spend(txs[-1], 0, 1000))
    assert debug == "too many unconfirmed ancestors [limit: 25]"


def test_too_many_parents(chain: FakeChain, wallet: Wallet) -> None:
    pool = Mempool(MempoolPolicy(ancestor_count=3))
    parents = [wallet.spend([wallet.fund(chain)], [COIN - 1000]) for _ in range(3)]
    for parent in parents:
        assert pool.accept(parent, chain, NOW).accepted
    child = wallet.spend([utxo(p) for p in parents], [3 * COIN - 10_000])
    assert _too_long(pool, chain, child) == "too many unconfirmed parents [limit: 3]"


def test_descendant_limit_and_the_carve_out(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    parent = wallet.spend([wallet.fund(chain, 30 * COIN)], [COIN] * 27)
    assert pool.accept(parent, chain, NOW).accepted
    for n in range(24):
        assert pool.accept(wallet.chain_spend(parent, n, 1000), chain, NOW).accepted
    entry = pool.get(parent.txid)
    assert entry is not None and entry.descendant_count == 25
    # One more child: over the descendant limit, but a small child with one unconfirmed
    # ancestor gets the carve-out.
    carved = pool.accept(wallet.chain_spend(parent, 24, 1000), chain, NOW)
    assert carved.accepted
    debug = _too_long(pool, chain, wallet.chain_spend(parent, 25, 1000))
    assert debug.startswith("too many descendants for tx ") and debug.endswith("[limit: 25]")


def test_size_limits(chain: FakeChain, wallet: Wallet) -> None:
    parent = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    child = wallet.chain_spend(parent, 0, 1000)
    both = parent.vsize + child.vsize
    tight = Mempool(MempoolPolicy(ancestor_size_vbytes=both - 1, descendant_size_vbytes=both * 2))
    assert tight.accept(parent, chain, NOW).accepted
    assert _too_long(tight, chain, child) == f"exceeds ancestor size limit [limit: {both - 1}]"
    # The descendant size limit, on a grandchild (two ancestors: no carve-out).
    grandchild = wallet.chain_spend(child, 0, 1000)
    three = both + grandchild.vsize
    narrow = Mempool(MempoolPolicy(descendant_size_vbytes=three - 1))
    assert narrow.accept(parent, chain, NOW).accepted
    assert narrow.accept(child, chain, NOW).accepted
    debug = _too_long(narrow, chain, grandchild)
    assert debug == (
        f"exceeds descendant size limit for tx {hash256_hex(parent.txid)} [limit: {three - 1}]"
    )


def test_replacing_one_conflict_may_use_its_descendants_room(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    parent = wallet.spend([wallet.fund(chain, 30 * COIN)], [COIN] * 26)
    assert pool.accept(parent, chain, NOW).accepted
    children = [wallet.chain_spend(parent, n, 1000) for n in range(25)]
    for child in children[:24]:
        assert pool.accept(child, chain, NOW).accepted
    assert pool.accept(children[24], chain, NOW).accepted  # the carve-out slot
    # The parent has 26 descendants; replacing one child is still allowed.
    replacement = wallet.chain_spend(parent, 3, 5000)
    result = pool.accept(replacement, chain, NOW)
    assert result.accepted, result
    assert [r.txid for r in result.replaced] == [children[3].txid]
