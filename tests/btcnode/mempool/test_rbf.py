"""BIP125 replacement: each rule's rejection, inherited signalling, and what is evicted."""

from __future__ import annotations

from btcnode.consensus.errors import TxResult
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx
from btcnode.mempool import AcceptResult, Mempool, MempoolPolicy, RemovalReason
from tests.btcnode.mempool.helpers import (
    BASE_TIME,
    COIN,
    NO_RBF_SEQUENCE,
    FakeChain,
    Utxo,
    Wallet,
    utxo,
)

NOW = BASE_TIME


def _accept(pool: Mempool, chain: FakeChain, tx: Tx) -> AcceptResult:
    result = pool.accept(tx, chain, NOW)
    assert result.accepted, result
    return result


def _policy_reason(result: AcceptResult) -> str | None:
    assert result.error is not None
    assert result.error.result is TxResult.MEMPOOL_POLICY
    return result.reject_reason


def test_replacement_evicts_original_and_descendants(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    coin = wallet.fund(chain)
    original = _accept(pool, chain, wallet.spend([coin], [COIN - 1000])).txid
    child = wallet.chain_spend(pool.get(original).tx, 0, 1000)  # type: ignore[union-attr]
    grandchild = wallet.chain_spend(child, 0, 1000)
    _accept(pool, chain, child)
    _accept(pool, chain, grandchild)
    replacement = wallet.spend([coin], [COIN - 4000])
    preview = pool.accept(replacement, chain, NOW, test_only=True)
    assert [r.txid for r in preview.replaced] == [original, child.txid, grandchild.txid]
    assert len(pool) == 3
    result = _accept(pool, chain, replacement)
    assert [r.txid for r in result.replaced] == [original, child.txid, grandchild.txid]
    assert {r.reason for r in result.replaced} == {RemovalReason.REPLACED}
    assert len(pool) == 1 and replacement.txid in pool
    assert pool.spender_of(coin.outpoint) == replacement.txid
    assert (pool.total_fees, pool.total_vsize) == (4000, pool.get(replacement.txid).vsize)  # type: ignore[union-attr]


def test_rule1_non_signalling_original_is_a_conflict(chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    original = wallet.spend([coin], [COIN - 1000], sequence=NO_RBF_SEQUENCE)
    replacement = wallet.spend([coin], [COIN - 5000])
    pool = Mempool()
    _accept(pool, chain, original)
    result = pool.accept(replacement, chain, NOW)
    assert _policy_reason(result) == "txn-mempool-conflict"
    assert original.txid in pool and not pool.is_replaceable(original.txid)
    full = Mempool(MempoolPolicy(full_rbf=True))
    _accept(full, chain, original)
    assert [r.txid for r in _accept(full, chain, replacement).replaced] == [original.txid]


def test_rule1_signalling_is_inherited_from_an_unconfirmed_ancestor(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    parent = _accept(pool, chain, wallet.spend([wallet.fund(chain)], [COIN - 1000])).entry
    assert parent is not None and parent.signals_rbf
    child = wallet.chain_spend(parent.tx, 0, 1000, sequence=NO_RBF_SEQUENCE)
    _accept(pool, chain, child)
    assert not pool.get(child.txid).signals_rbf  # type: ignore[union-attr]
    assert pool.is_replaceable(child.txid)
    replacement = wallet.chain_spend(parent.tx, 0, 3000, sequence=NO_RBF_SEQUENCE)
    assert [r.txid for r in _accept(pool, chain, replacement).replaced] == [child.txid]
    # Neither the child nor its parent signals: no replacement.
    quiet_parent = wallet.spend([wallet.fund(chain)], [COIN - 1000], sequence=NO_RBF_SEQUENCE)
    _accept(pool, chain, quiet_parent)
    quiet_child = wallet.chain_spend(quiet_parent, 0, 1000, sequence=NO_RBF_SEQUENCE)
    _accept(pool, chain, quiet_child)
    again = pool.accept(wallet.chain_spend(quiet_parent, 0, 5000), chain, NOW)
    assert _policy_reason(again) == "txn-mempool-conflict"


def test_rule2_no_new_unconfirmed_inputs(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    _accept(pool, chain, wallet.spend([coin], [COIN - 1000]))
    unrelated = _accept(pool, chain, wallet.spend([wallet.fund(chain)], [COIN - 1000])).entry
    assert unrelated is not None
    replacement = wallet.spend([coin, utxo(unrelated.tx)], [2 * COIN - 10_000])
    result = pool.accept(replacement, chain, NOW)
    assert _policy_reason(result) == "replacement-adds-unconfirmed"
    assert result.error is not None and result.error.debug.endswith("adds unconfirmed input, idx 1")
    # A new confirmed input is fine.
    extra = wallet.fund(chain)
    assert pool.accept(wallet.spend([coin, extra], [2 * COIN - 10_000]), chain, NOW).accepted


def test_rule3_pays_for_everything_evicted(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    original = _accept(pool, chain, wallet.spend([coin], [COIN - 1000])).entry
    assert original is not None
    _accept(pool, chain, wallet.chain_spend(original.tx, 0, 5000))
    # A better fee rate than the original alone, less than original plus child.
    result = pool.accept(wallet.spend([coin], [COIN - 3000]), chain, NOW)
    assert _policy_reason(result) == "insufficient fee"
    assert result.error is not None
    assert result.error.debug.endswith("less fees than conflicting txs; 0.00003 < 0.00006")
    assert len(pool) == 2


def test_rule4_extra_fee_pays_for_relay(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    _accept(pool, chain, wallet.spend([coin], [COIN - 1000]))
    result = pool.accept(wallet.spend([coin], [COIN - 1005]), chain, NOW)
    assert _policy_reason(result) == "insufficient fee"
    assert result.error is not None
    # 110 vbytes at the 100 sat/kvB incremental relay fee asks 11 satoshis more.
    assert result.error.debug.endswith(
        "not enough additional fees to relay; 0.00000005 < 0.00000011"
    )
    assert pool.accept(wallet.spend([coin], [COIN - 1011]), chain, NOW).accepted


def test_core_feerate_rule(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    _accept(pool, chain, wallet.spend([coin], [COIN - 10_000]))
    # More absolute fee, but a bigger transaction at a lower rate than the original's.
    bigger = wallet.spend([coin], [COIN // 2, COIN // 2 - 11_000])
    result = pool.accept(bigger, chain, NOW)
    assert _policy_reason(result) == "insufficient fee"
    assert result.error is not None and "new feerate" in result.error.debug


def _chain_under(pool: Mempool, chain: FakeChain, wallet: Wallet, length: int) -> list[Tx]:
    """A confirmed coin, a signalling spend of it, and `length - 1` descendants in a line."""
    coin = wallet.fund(chain)
    txs = [wallet.spend([coin], [COIN - 200])]
    for _ in range(length - 1):
        txs.append(wallet.chain_spend(txs[-1], 0, 200))
    for tx in txs:
        _accept(pool, chain, tx)
    return txs


def test_rule5_at_most_100_evictions(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    packages = [_chain_under(pool, chain, wallet, 25) for _ in range(4)]
    lone = _chain_under(pool, chain, wallet, 1)
    assert len(pool) == 101
    coins = [utxo_of_first_input(p[0], chain) for p in [*packages, lone]]
    replacement = wallet.spend(coins, [5 * COIN - 100_000])
    result = pool.accept(replacement, chain, NOW)
    assert _policy_reason(result) == "too many potential replacements"
    assert result.error is not None and result.error.debug.endswith("(101 > 100)")
    assert len(pool) == 101
    # Exactly 100 evictions is allowed.
    four = wallet.spend(coins[:4], [4 * COIN - 100_000])
    accepted = _accept(pool, chain, four)
    assert len(accepted.replaced) == 100
    assert len(pool) == 2 and lone[0].txid in pool


def utxo_of_first_input(tx: Tx, chain: FakeChain) -> Utxo:
    prevout = tx.vin[0].prevout
    coin = chain.get_coin(prevout)
    assert coin is not None
    return Utxo(prevout, coin.out)


def test_spending_what_it_replaces_is_refused(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    coin = wallet.fund(chain)
    original = _accept(pool, chain, wallet.spend([coin], [COIN // 2, COIN // 2 - 1000])).entry
    assert original is not None
    both = wallet.spend([coin, utxo(original.tx, 1)], [COIN - 10_000])
    result = pool.accept(both, chain, NOW)
    assert result.reject_reason == "bad-txns-spends-conflicting-tx"
    assert result.error is not None and result.error.result is TxResult.CONSENSUS
    expected = f"spends conflicting transaction {hash256_hex(original.txid)}"
    assert result.error.debug.endswith(expected)
