"""The btc-validate benchmark's generator, cache and measurements, on a tiny chain."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import coincurve
import pytest

from bench import _btc_chain, _btc_measure, btc_validate
from btcnode.consensus.block import Block
from btcnode.consensus.checks import check_block
from btcnode.consensus.contextual import contextual_check_block
from btcnode.consensus.errors import BlockValidationError
from btcnode.consensus.params import REGTEST
from btcnode.consensus.tx import Tx

CHAINS, BLOCKS = 6, 3


@pytest.fixture(scope="module")
def chain() -> _btc_chain.BenchChain:
    return _btc_chain.generate(CHAINS, BLOCKS, processes=2)


def test_layout_and_counts(chain: _btc_chain.BenchChain) -> None:
    assert len(chain.setup) == _btc_chain.SETUP_BLOCKS == 101
    assert len(chain.measured) == BLOCKS
    assert chain.measured_inputs == CHAINS * BLOCKS
    blocks = [Block.deserialize(raw) for raw in (*chain.setup, *chain.measured)]
    prev = REGTEST.genesis_hash
    for height, block in enumerate(blocks, start=1):
        assert block.header.prev_block == prev
        assert block.header.time == REGTEST.genesis.header.time + 600 * height
        check_block(block, REGTEST)
        contextual_check_block(block, height, block.header.time - 600, REGTEST)
        prev = block.hash
    assert [len(b.txs) for b in blocks[:100]] == [1] * 100
    assert len(blocks[100].txs) == 2 and len(blocks[100].txs[1].vout) == CHAINS
    assert all(len(b.txs) == 1 + CHAINS for b in blocks[101:])


def test_measured_blocks_mix_p2pkh_and_p2wpkh_half_and_half(
    chain: _btc_chain.BenchChain,
) -> None:
    for raw in chain.measured:
        spends = [tx.vin[0] for tx in Block.deserialize(raw).txs[1:]]
        witness = sum(1 for txin in spends if txin.witness and not txin.script_sig)
        legacy = sum(1 for txin in spends if txin.script_sig and not txin.witness)
        assert witness == legacy == CHAINS // 2


def test_each_block_spends_the_previous_blocks_change(chain: _btc_chain.BenchChain) -> None:
    first, second = (Block.deserialize(raw) for raw in chain.measured[:2])
    change = {(tx.txid, 1) for tx in first.txs[1:]}
    assert {(tx.vin[0].prevout.txid, tx.vin[0].prevout.n) for tx in second.txs[1:]} == change


def test_triples_are_the_signatures_in_the_blocks(chain: _btc_chain.BenchChain) -> None:
    pushed = []  # each input's signature with its hash type byte, as the block carries it
    for raw in chain.measured:
        for tx in Block.deserialize(raw).txs[1:]:
            txin = tx.vin[0]
            script_sig = txin.script_sig
            pushed.append(txin.witness[0] if txin.witness else script_sig[1 : 1 + script_sig[0]])
    for (pubkey, sig, digest), in_block in zip(chain.triples, pushed, strict=True):
        assert in_block == sig + b"\x01"  # SIGHASH_ALL
        assert coincurve.PublicKey(pubkey).verify(sig, digest, hasher=None)
    rate = _btc_measure.peer_verify(chain.triples)
    assert rate.count == CHAINS * BLOCKS and rate.per_s > 0


def test_a_wrong_sighash_fails_the_peer_check(chain: _btc_chain.BenchChain) -> None:
    pubkey, sig, _ = chain.triples[0]
    bad = (pubkey, sig, bytes(32))
    with pytest.raises(RuntimeError, match="only 0 of 1"):
        _btc_measure.peer_verify([bad])


def test_generation_is_deterministic(chain: _btc_chain.BenchChain) -> None:
    again = _btc_chain.generate(CHAINS, 1, processes=1)
    assert again.setup == chain.setup
    assert again.measured[0] == chain.measured[0]


def test_cache_round_trip_and_damage(chain: _btc_chain.BenchChain, tmp_path: Path) -> None:
    data = _btc_chain.encode(chain)
    assert _btc_chain.decode(data) == chain
    with pytest.raises(_btc_chain.CacheError, match="left over"):
        _btc_chain.decode(data + b"\x00")
    path = _btc_chain.cache_path(CHAINS, BLOCKS, tmp_path)
    path.write_bytes(data)
    loaded, generated = _btc_chain.load_or_generate(CHAINS, BLOCKS, tmp_path)
    assert loaded == chain and not generated
    path.write_bytes(data[:-7])  # a torn write is regenerated, not trusted
    loaded, generated = _btc_chain.load_or_generate(CHAINS, BLOCKS, tmp_path)
    assert loaded == chain and generated
    assert path.read_bytes() == data


def test_million_byte_block_parses(chain: _btc_chain.BenchChain) -> None:
    raw = _btc_measure.million_byte_block(chain.measured, size=20_000)
    assert len(raw) == 20_000
    seconds, count = _btc_measure.parse_block(raw, rounds=1)
    block = Block.deserialize(raw)
    assert count == len(block.txs) > 1 and seconds > 0
    check_block(block, REGTEST, check_pow=False)


def test_validation_connects_the_tiny_chain_on_two_processes(
    chain: _btc_chain.BenchChain,
) -> None:
    run = btc_validate.validate(chain, workers=1)
    assert (run.blocks, run.inputs, run.workers) == (BLOCKS, CHAINS * BLOCKS, 1)
    assert run.seconds > 0 and run.inputs_per_s > 0


def _with_bad_signature(chain: _btc_chain.BenchChain) -> _btc_chain.BenchChain:
    """The chain with one measured P2WPKH signature altered, the block otherwise rebuilt
    correctly (merkle roots, witness commitment, proof of work)."""
    block = Block.deserialize(chain.measured[0])
    txs = list(block.txs[1:])
    position = next(i for i, tx in enumerate(txs) if tx.vin[0].witness)
    old = txs[position]
    sig, key = old.vin[0].witness
    bad_sig = sig[:-2] + bytes((sig[-2] ^ 1,)) + sig[-1:]  # the last byte of S
    txin = dataclasses.replace(old.vin[0], witness=(bad_sig, key))
    txs[position] = Tx(old.version, (txin,), old.vout, old.lock_time)
    raw, _ = _btc_chain.block_bytes(
        len(chain.setup) + 1,
        block.header.prev_block,
        [tx.serialize() for tx in txs],
        [tx.txid for tx in txs],
        [tx.wtxid for tx in txs],
        _btc_chain.FEE_SAT * len(txs),
    )
    return dataclasses.replace(chain, measured=(raw,), triples=chain.triples[: len(txs)])


def test_validation_refuses_a_bad_signature_with_cores_reason(
    chain: _btc_chain.BenchChain,
) -> None:
    with pytest.raises(BlockValidationError) as refused:
        btc_validate.validate(_with_bad_signature(chain), workers=1)
    assert refused.value.reject_reason.startswith("mandatory-script-verify-flag-failed")


def test_long_chains_pay_less_so_one_coinbase_funds_every_block() -> None:
    assert _btc_chain.spend_amounts(2000, 200) == (_btc_chain.PAYMENT_SAT, _btc_chain.FEE_SAT)
    payment, fee = _btc_chain.spend_amounts(500, 2000)  # btc-sync's shape
    assert (payment, fee) == (_btc_chain.SMALL_PAYMENT_SAT, _btc_chain.SMALL_FEE_SAT)
    per_chain = (50 * 100_000_000 - _btc_chain.FANOUT_FEE_SAT) // 500
    assert (payment + fee) * 2000 < per_chain
    assert payment > 546  # P2PKH dust at Core's 3 sat/vB dust relay fee
    with pytest.raises(ValueError, match="cost more than one coinbase"):
        _btc_chain.spend_amounts(5000, 20_000)
