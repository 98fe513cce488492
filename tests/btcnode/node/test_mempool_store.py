"""Mempool persistence: the store mirrors the pool, and a reload offers it back in order."""

from __future__ import annotations

from btcnode.consensus.hashes import hash256_hex
from btcnode.mempool_store import (
    TX_PREFIX,
    CorruptMempoolRecord,
    MempoolRecorder,
    MempoolStore,
    decode_record,
    encode_record,
    reload_mempool,
)
from btcnode.node import Node
from common.store import MemoryStore, SimStore
from tests.btcnode.chain.builder import active_blocks
from tests.btcnode.scenarios.helpers import (
    RBF_SEQUENCE,
    T0,
    coinbase_coin,
    key,
    mature_node,
    new_node,
    output_coin,
    p2wpkh,
    pay,
)

MINER, ALICE, BOB = key("miner"), key("alice"), key("bob")


def _recorded(node: Node, store: MempoolStore) -> None:
    node.subscribe(MempoolRecorder(store, node.mempool))


def _same_chain(node: Node) -> Node:
    """A fresh node (empty mempool) on a copy of `node`'s blocks."""
    fresh = new_node()
    for block in active_blocks(node.chainstate):
        fresh.submit_block(block, T0)
    return fresh


def _stored_txids(store: MempoolStore) -> list[bytes]:
    return [decode_record(k, v).tx.txid for k, v in store.records()]


def test_a_record_round_trips_and_garbage_is_refused_with_its_key() -> None:
    _, blocks = mature_node(MINER)
    tx = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), 1000)
    key_ = TX_PREFIX + (5).to_bytes(8, "big")
    stored = decode_record(key_, encode_record(T0, tx))
    assert (stored.sequence, stored.time, stored.tx) == (5, T0, tx)
    for bad in (b"", b"\x02" + bytes(8) + tx.serialize(), encode_record(T0, tx) + b"\x00"):
        try:
            decode_record(key_, bad)
        except CorruptMempoolRecord as exc:
            assert exc.key == key_
        else:
            raise AssertionError(f"{bad.hex()} decoded")


def test_the_store_follows_additions_replacements_and_confirmations() -> None:
    node, blocks = mature_node(MINER)
    store = MempoolStore(MemoryStore())
    _recorded(node, store)
    coin = coinbase_coin(blocks[0])
    original = pay(MINER, coin, p2wpkh(ALICE), 10_000, sequence=RBF_SEQUENCE)
    replacement = pay(MINER, coin, p2wpkh(BOB), 20_000, sequence=RBF_SEQUENCE)
    other = pay(MINER, coinbase_coin(blocks[1]), p2wpkh(BOB), 10_000)
    assert node.submit_transaction(original, T0).accepted
    assert _stored_txids(store) == [original.txid]
    assert node.submit_transaction(replacement, T0).accepted
    assert node.submit_transaction(other, T0 + 5).accepted
    assert _stored_txids(store) == [replacement.txid, other.txid]
    node.generate(1, p2wpkh(MINER), T0)
    assert _stored_txids(store) == [] and len(store) == 0


def test_additions_are_synced_and_a_crash_keeps_them() -> None:
    node, blocks = mature_node(MINER)
    level = SimStore()
    store = MempoolStore(level)
    _recorded(node, store)
    tx = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), 1000)
    assert node.submit_transaction(tx, T0).accepted
    assert level.unsynced_writes == 0
    level.crash()
    assert _stored_txids(MempoolStore(level)) == [tx.txid]


def test_reload_offers_in_stored_order_and_drops_what_no_longer_fits() -> None:
    node, blocks = mature_node(MINER)
    store = MempoolStore(MemoryStore())
    _recorded(node, store)
    parent = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), 1000)
    child = pay(ALICE, output_coin(parent, 0), p2wpkh(BOB), 1000)
    confirmed_later = pay(MINER, coinbase_coin(blocks[1]), p2wpkh(BOB), 1000)
    for tx in (parent, child, confirmed_later):
        assert node.submit_transaction(tx, T0 + 1).accepted
    # Elsewhere a block confirms a double-spend of `confirmed_later`'s coin.
    restarted = _same_chain(node)
    conflict = pay(MINER, coinbase_coin(blocks[1]), p2wpkh(ALICE), 2000)
    assert restarted.submit_transaction(conflict, T0).accepted
    restarted.generate(1, p2wpkh(MINER), T0)
    assert len(restarted.mempool) == 0
    summary = reload_mempool(restarted, store, T0 + 100)
    assert (summary.offered, summary.accepted) == (3, 2)
    assert [txid for txid, _ in summary.dropped] == [hash256_hex(confirmed_later.txid)]
    assert [e.tx for e in sorted(restarted.mempool.entries(), key=lambda e: e.sequence)] == [
        parent,
        child,
    ]
    assert restarted.mempool.get(parent.txid).time == T0 + 1  # type: ignore[union-attr]
    assert _stored_txids(store) == [parent.txid, child.txid]


def test_a_corrupt_record_is_dropped_and_the_rest_reloads() -> None:
    node, blocks = mature_node(MINER)
    level = MemoryStore()
    store = MempoolStore(level)
    tx = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), 1000)
    store.add(tx, T0)
    level.put(TX_PREFIX + (9).to_bytes(8, "big"), b"\x01garbage")
    summary = reload_mempool(_same_chain(node), MempoolStore(level), T0)
    assert (summary.offered, summary.accepted, len(summary.dropped)) == (2, 1, 1)
    assert summary.dropped[0][0] == (TX_PREFIX + (9).to_bytes(8, "big")).hex()


def test_sequence_numbers_continue_after_reopening() -> None:
    _, blocks = mature_node(MINER)
    level = MemoryStore()
    first = pay(MINER, coinbase_coin(blocks[0]), p2wpkh(ALICE), 1000)
    second = pay(MINER, coinbase_coin(blocks[1]), p2wpkh(ALICE), 1000)
    MempoolStore(level).add(first, T0)
    MempoolStore(level).add(second, T0)
    MempoolStore(level).add(first, T0)  # already stored: stays first
    assert _stored_txids(MempoolStore(level)) == [first.txid, second.txid]
