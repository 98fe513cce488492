"""Context-free checks: CheckTransaction, CheckBlockHeader, CheckBlock, each reason once."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.consensus.block import Block, merkle_root
from btcnode.consensus.checks import (
    MAX_BLOCK_SIGOPS_COST,
    check_block,
    check_block_header,
    check_transaction,
    legacy_sigop_count,
)
from btcnode.consensus.errors import BlockResult, TxResult, ValidationError
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import COIN, MAINNET, MAX_MONEY, REGTEST
from btcnode.consensus.tx import NULL_INDEX, NULL_TXID, OutPoint, Tx, TxIn, TxOut
from tests.btcnode.rules.chain import OP_TRUE, TestChain, header_with, resolve, spend

PREVOUT = OutPoint(bytes(range(32)), 0)
NULL = OutPoint(NULL_TXID, NULL_INDEX)


def _tx(vin: tuple[TxIn, ...] = (TxIn(PREVOUT),), vout: tuple[TxOut, ...] = ()) -> Tx:
    return Tx(version=2, vin=vin, vout=vout or (TxOut(COIN, OP_TRUE),))


def _reason(tx: Tx) -> str:
    with pytest.raises(ValidationError) as info:
        check_transaction(tx)
    assert info.value.result is TxResult.CONSENSUS
    return info.value.reject_reason


# -- CheckTransaction ------------------------------------------------------------------------


def test_valid_transaction_passes() -> None:
    check_transaction(_tx())
    check_transaction(_tx(vin=(TxIn(NULL, b"\x51\x00"),)))  # a coinbase


def test_vin_empty() -> None:
    assert _reason(Tx(2, (), (TxOut(1, OP_TRUE),))) == "bad-txns-vin-empty"


def test_vout_empty() -> None:
    assert _reason(Tx(2, (TxIn(PREVOUT),), ())) == "bad-txns-vout-empty"


def test_oversize_counts_base_size_only() -> None:
    # base size 1_000_001 > MAX_BLOCK_WEIGHT / 4; 1_000_000 exactly is allowed.
    overhead = len(_tx(vout=(TxOut(0, b""),)).serialize()) + 4  # 5-byte length prefix vs 1
    at_limit = _tx(vout=(TxOut(0, bytes(1_000_000 - overhead)),))
    assert at_limit.base_size == 1_000_000
    check_transaction(at_limit)
    over = _tx(vout=(TxOut(0, bytes(1_000_001 - overhead)),))
    assert _reason(over) == "bad-txns-oversize"
    witness_heavy = Tx(2, (TxIn(PREVOUT, witness=(bytes(1_100_000),)),), (TxOut(0, OP_TRUE),))
    check_transaction(witness_heavy)


def test_vout_negative() -> None:
    assert _reason(_tx(vout=(TxOut(-1, OP_TRUE),))) == "bad-txns-vout-negative"


def test_vout_toolarge() -> None:
    check_transaction(_tx(vout=(TxOut(MAX_MONEY, OP_TRUE),)))
    assert _reason(_tx(vout=(TxOut(MAX_MONEY + 1, OP_TRUE),))) == "bad-txns-vout-toolarge"


def test_txouttotal_toolarge() -> None:
    outs = (TxOut(MAX_MONEY, OP_TRUE), TxOut(1, OP_TRUE))
    with pytest.raises(ValidationError) as info:
        check_transaction(_tx(vout=outs))
    assert info.value.reject_reason == "bad-txns-txouttotal-toolarge"
    assert "after output 1" in info.value.debug


def test_inputs_duplicate() -> None:
    # CVE-2018-17144: the same outpoint twice, even with different scriptSigs.
    vin = (TxIn(PREVOUT, b"\x01"), TxIn(OutPoint(PREVOUT.txid, 1)), TxIn(PREVOUT, b"\x02"))
    assert _reason(_tx(vin=vin)) == "bad-txns-inputs-duplicate"


@pytest.mark.parametrize("size", [0, 1, 101])
def test_coinbase_script_sig_length(size: int) -> None:
    assert _reason(_tx(vin=(TxIn(NULL, bytes(size)),))) == "bad-cb-length"


@pytest.mark.parametrize("size", [2, 100])
def test_coinbase_script_sig_length_bounds_pass(size: int) -> None:
    check_transaction(_tx(vin=(TxIn(NULL, bytes(size)),)))


def test_prevout_null_outside_coinbase() -> None:
    assert _reason(_tx(vin=(TxIn(PREVOUT), TxIn(NULL)))) == "bad-txns-prevout-null"


def test_first_failing_rule_wins() -> None:
    both = Tx(2, (TxIn(PREVOUT), TxIn(PREVOUT)), (TxOut(-5, OP_TRUE),))
    assert _reason(both) == "bad-txns-vout-negative"  # outputs are checked before inputs


_outpoints = st.builds(
    OutPoint,
    st.sampled_from([NULL_TXID, bytes(range(32))]),
    st.sampled_from([0, 1, NULL_INDEX]),
)
_txins = st.builds(
    TxIn,
    _outpoints,
    st.binary(max_size=120),
    st.integers(0, 0xFFFFFFFF),
    st.lists(st.binary(max_size=8), max_size=2).map(tuple),
)
_txouts = st.builds(
    TxOut,
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, MAX_MONEY, -1])),
    st.binary(max_size=40),
)
_txs = st.builds(
    Tx,
    st.integers(-(2**31), 2**31 - 1),
    st.lists(_txins, max_size=4).map(tuple),
    st.lists(_txouts, max_size=4).map(tuple),
    st.integers(0, 0xFFFFFFFF),
)


@settings(max_examples=150, deadline=None)
@given(_txs)
def test_check_transaction_only_raises_validation_errors(tx: Tx) -> None:
    try:
        check_transaction(tx)
    except ValidationError as err:
        assert err.reject_reason.startswith(("bad-txns-", "bad-cb-"))
    else:
        assert tx.vin and tx.vout
        assert all(0 <= out.value <= MAX_MONEY for out in tx.vout)


# -- CheckBlockHeader and CheckBlock -----------------------------------------------------------


def _reject(block: Block, **kwargs: bool) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        check_block(block, REGTEST, **kwargs)
    return info.value


@pytest.fixture(scope="module")
def chain() -> TestChain:
    chain = TestChain()
    chain.mine(3)
    return chain


def test_mainnet_genesis_passes() -> None:
    check_block_header(MAINNET.genesis.header, MAINNET)
    check_block(MAINNET.genesis, MAINNET)
    check_block(REGTEST.genesis, REGTEST)


def test_high_hash() -> None:
    header = MAINNET.genesis.header
    bad = header_with(header, nonce=header.nonce + 1)
    with pytest.raises(ValidationError) as info:
        check_block_header(bad, MAINNET)
    assert info.value.reject_reason == "high-hash"
    assert info.value.result is BlockResult.INVALID_HEADER
    check_block_header(bad, MAINNET, check_pow=False)
    with pytest.raises(ValidationError, match="high-hash"):
        check_block(Block(bad, MAINNET.genesis.txs), MAINNET)


def test_built_block_passes(chain: TestChain) -> None:
    block = chain.build([spend(PREVOUT, value=1)])
    check_block(block, REGTEST)


def test_bad_txnmrklroot(chain: TestChain) -> None:
    block = chain.build()
    tampered = Block(block.header, (block.txs[0], spend(PREVOUT, value=1)))
    err = _reject(tampered, check_pow=False)
    assert (err.reject_reason, err.result) == ("bad-txnmrklroot", BlockResult.MUTATED)
    check_block(tampered, REGTEST, check_pow=False, check_merkle_root=False)


def test_cve_2012_2459_duplicate_last_tx(chain: TestChain) -> None:
    a, b = spend(PREVOUT, value=1), spend(OutPoint(PREVOUT.txid, 1), value=2)
    block = resolve(chain.build(), [chain.build().txs[0], a, b])
    check_block(block, REGTEST)
    duplicated = Block(block.header, (*block.txs, b))  # odd list: repeat the last one
    assert merkle_root([tx.txid for tx in duplicated.txs])[0] == block.header.merkle_root
    err = _reject(duplicated)
    assert (err.reject_reason, err.result) == ("bad-txns-duplicate", BlockResult.MUTATED)


def test_bad_blk_length_empty(chain: TestChain) -> None:
    empty = resolve(chain.build(), [])
    err = _reject(empty)
    assert err.reject_reason == "bad-blk-length"
    assert "0 txs" in err.debug


def test_bad_blk_length_base_size(chain: TestChain) -> None:
    big = [spend(OutPoint(PREVOUT.txid, n), value=0) for n in range(2)]
    big = [Tx(2, tx.vin, (TxOut(0, bytes(600_000)),)) for tx in big]
    block = resolve(chain.build(), [chain.build().txs[0], *big])
    err = _reject(block)
    assert err.reject_reason == "bad-blk-length"


def test_bad_cb_missing(chain: TestChain) -> None:
    err = _reject(resolve(chain.build(), [spend(PREVOUT, value=1)]))
    assert err.reject_reason == "bad-cb-missing"


def test_bad_cb_multiple(chain: TestChain) -> None:
    coinbase = chain.build().txs[0]
    other = chain.build(extra_nonce=b"x").txs[0]
    err = _reject(resolve(chain.build(), [coinbase, other]))
    assert err.reject_reason == "bad-cb-multiple"


def test_transaction_failure_is_reported_against_the_block(chain: TestChain) -> None:
    negative = Tx(2, (TxIn(PREVOUT),), (TxOut(-1, OP_TRUE),))
    block = resolve(chain.build(), [chain.build().txs[0], negative])
    err = _reject(block)
    assert (err.reject_reason, err.result) == ("bad-txns-vout-negative", BlockResult.CONSENSUS)
    assert f"tx hash {hash256_hex(negative.txid)}" in err.debug


def test_bad_blk_sigops(chain: TestChain) -> None:
    limit = MAX_BLOCK_SIGOPS_COST // 4
    coinbase = chain.build().txs[0]
    assert legacy_sigop_count(coinbase) == 0
    # CHECKSIG (0xac) counts 1, CHECKMULTISIG (0xae) counts 20 when counted inaccurately.
    at_limit = Tx(2, (TxIn(PREVOUT),), (TxOut(0, b"\xae" * (limit // 20)),))
    assert legacy_sigop_count(at_limit) == limit
    check_block(resolve(chain.build(), [coinbase, at_limit]), REGTEST)
    over = Tx(2, (TxIn(PREVOUT, b"\xac"),), at_limit.vout)
    err = _reject(resolve(chain.build(), [coinbase, over]))
    assert err.reject_reason == "bad-blk-sigops"
    assert str(limit + 1) in err.debug
