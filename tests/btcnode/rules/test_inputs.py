"""Rules against coins: CheckTxInputs, maturity, sigop cost, script flags, subsidy and fees."""

from __future__ import annotations

import dataclasses

import pytest

from btcnode.consensus.block import Block
from btcnode.consensus.coins import Coin, UtxoView
from btcnode.consensus.contextual import (
    check_coinbase_value,
    check_tx_inputs,
    p2sh_sigop_count_tx,
    script_flags_for_block,
    transaction_sigop_cost,
)
from btcnode.consensus.errors import ChainMisuse, TxResult, ValidationError
from btcnode.consensus.hashes import hash160, sha256
from btcnode.consensus.params import COIN, MAINNET, MAX_MONEY, REGTEST
from btcnode.consensus.script.flags import MANDATORY_FLAGS, ScriptFlags
from btcnode.consensus.script.ops import p2sh_script, p2wpkh_script, p2wsh_script, push_data
from btcnode.consensus.subsidy import block_subsidy
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from tests.btcnode.rules.chain import OP_TRUE, TestChain, coinbase_outpoint, resolve, spend


class Coins(dict[OutPoint, Coin]):
    """A UtxoView over a plain dict."""

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self.get(outpoint)


def _outpoint(n: int) -> OutPoint:
    return OutPoint(bytes([n]) * 32, n)


def _coins(*values: int, height: int = 1, coinbase: bool = False) -> Coins:
    return Coins(
        {_outpoint(i): Coin(TxOut(v, OP_TRUE), height, coinbase) for i, v in enumerate(values)}
    )


def _reason(tx: Tx, view: UtxoView, spend_height: int = 200) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        check_tx_inputs(tx, view, spend_height, REGTEST)
    return info.value


@pytest.fixture(scope="module")
def chain99() -> tuple[TestChain, list[Block]]:
    """A real chain at height 99: the coinbase of block 1 is one block short of maturity."""
    chain = TestChain()
    blocks = chain.mine(99)
    return chain, blocks


# -- CheckTxInputs ------------------------------------------------------------------------


def test_fee_is_inputs_minus_outputs() -> None:
    view = _coins(3 * COIN, 2 * COIN)
    tx = spend(_outpoint(0), _outpoint(1), value=4 * COIN)
    assert check_tx_inputs(tx, view, 200, REGTEST) == COIN


def test_missing_or_spent() -> None:
    err = _reason(spend(_outpoint(0), _outpoint(7), value=1), _coins(COIN))
    assert err.reject_reason == "bad-txns-inputs-missingorspent"
    assert err.result is TxResult.MISSING_INPUTS
    assert "input 1" in err.debug


def test_missing_input_is_reported_before_an_immature_one() -> None:
    view = _coins(COIN, coinbase=True)
    err = _reason(spend(_outpoint(0), _outpoint(5), value=1), view, spend_height=2)
    assert err.reject_reason == "bad-txns-inputs-missingorspent"


@pytest.mark.parametrize(("depth", "ok"), [(0, False), (99, False), (100, True), (101, True)])
def test_coinbase_maturity(depth: int, ok: bool) -> None:
    # A coinbase created at height h is spendable in the block at height h + 100.
    view = _coins(COIN, height=50, coinbase=True)
    tx = spend(_outpoint(0), value=COIN)
    if ok:
        assert check_tx_inputs(tx, view, 50 + depth, REGTEST) == 0
        return
    err = _reason(tx, view, spend_height=50 + depth)
    assert err.reject_reason == "bad-txns-premature-spend-of-coinbase"
    assert err.result is TxResult.PREMATURE_SPEND
    assert f"depth {depth}" in err.debug


def test_maturity_does_not_apply_to_ordinary_outputs() -> None:
    assert check_tx_inputs(spend(_outpoint(0), value=1), _coins(2, height=50), 50, REGTEST) == 1


def test_coinbase_maturity_on_a_real_chain(chain99: tuple[TestChain, list[Block]]) -> None:
    base, blocks = chain99
    chain = base.fork()
    first = coinbase_outpoint(blocks[0])  # block 1's coinbase
    tx = spend(first, value=49 * COIN)
    with pytest.raises(ValidationError) as info:
        chain.connect(chain.build([tx], fees=COIN))  # block 100: depth 99
    assert info.value.reject_reason == "bad-txns-premature-spend-of-coinbase"
    chain.mine(1)
    chain.connect(chain.build([tx], fees=COIN))  # block 101: depth 100
    assert chain.get_coin(first) is None
    assert chain.get_coin(OutPoint(tx.txid, 0)) == Coin(TxOut(49 * COIN, OP_TRUE), 101, False)
    err = _reason(tx, chain)
    assert err.reject_reason == "bad-txns-inputs-missingorspent"  # now spent


@pytest.mark.parametrize("values", [(MAX_MONEY + 1,), (-1,), (MAX_MONEY, 1)])
def test_input_values_out_of_range(values: tuple[int, ...]) -> None:
    prevouts = [_outpoint(i) for i in range(len(values))]
    err = _reason(spend(*prevouts, value=0), _coins(*values))
    assert err.reject_reason == "bad-txns-inputvalues-outofrange"


def test_in_below_out() -> None:
    err = _reason(spend(_outpoint(0), value=COIN + 1), _coins(COIN))
    assert err.reject_reason == "bad-txns-in-belowout"
    assert err.debug == f"value in ({COIN}) < value out ({COIN + 1})"


def test_fee_out_of_range_guards_unchecked_transactions() -> None:
    # Only reachable when check_transaction was skipped: a negative output inflates the fee.
    tx = Tx(2, (TxIn(_outpoint(0)),), (TxOut(-1, OP_TRUE),))
    err = _reason(tx, _coins(MAX_MONEY))
    assert err.reject_reason == "bad-txns-fee-outofrange"


# -- sigop cost -------------------------------------------------------------------------------

MULTISIG_2 = b"\x52\xae"  # OP_2 OP_CHECKMULTISIG: 2 sigops counted accurately, 20 legacy
WITNESS_SCRIPT = b"\x53\xae\xac"  # OP_3 OP_CHECKMULTISIG OP_CHECKSIG: 4 accurate


def _cost_case(script_pubkey: bytes, script_sig: bytes, witness: tuple[bytes, ...]) -> int:
    view = Coins({_outpoint(0): Coin(TxOut(COIN, script_pubkey), 1, False)})
    tx = Tx(2, (TxIn(_outpoint(0), script_sig, 0xFFFFFFFF, witness),), (TxOut(1, b"\xac"),))
    return transaction_sigop_cost(tx, view, MANDATORY_FLAGS)


def test_sigop_cost_by_output_type() -> None:
    legacy_out = 4  # the spending tx's own OP_CHECKSIG output: 1 legacy sigop, weight 4
    assert _cost_case(OP_TRUE, b"", ()) == legacy_out
    p2sh = p2sh_script(hash160(MULTISIG_2))
    assert _cost_case(p2sh, push_data(MULTISIG_2), ()) == legacy_out + 2 * 4
    assert _cost_case(p2wpkh_script(bytes(20)), b"", (b"sig", b"key")) == legacy_out + 1
    p2wsh = p2wsh_script(sha256(WITNESS_SCRIPT))
    assert _cost_case(p2wsh, b"", (b"", WITNESS_SCRIPT)) == legacy_out + 4
    nested = p2wsh_script(sha256(WITNESS_SCRIPT))
    p2sh_p2wsh = p2sh_script(hash160(nested))
    assert _cost_case(p2sh_p2wsh, push_data(nested), (WITNESS_SCRIPT,)) == legacy_out + 4


def test_sigop_cost_follows_the_flags() -> None:
    p2sh = p2sh_script(hash160(MULTISIG_2))
    view = Coins({_outpoint(0): Coin(TxOut(COIN, p2sh), 1, False)})
    tx = Tx(2, (TxIn(_outpoint(0), push_data(MULTISIG_2)),), (TxOut(1, OP_TRUE),))
    assert p2sh_sigop_count_tx(tx, view) == 2
    assert transaction_sigop_cost(tx, view, MANDATORY_FLAGS) == 8
    assert transaction_sigop_cost(tx, view, ScriptFlags.NONE) == 0
    witness_view = Coins({_outpoint(0): Coin(TxOut(COIN, p2wpkh_script(bytes(20))), 1, False)})
    wtx = Tx(2, (TxIn(_outpoint(0), b"", 0xFFFFFFFF, (b"s", b"k")),), (TxOut(1, OP_TRUE),))
    assert transaction_sigop_cost(wtx, witness_view, ScriptFlags.P2SH) == 0


def test_sigop_cost_of_a_coinbase_is_legacy_only() -> None:
    chain = TestChain()
    coinbase = chain.build().txs[0]
    checksig_coinbase = dataclasses.replace(coinbase, vout=(TxOut(COIN, b"\xac\xae"),))
    assert transaction_sigop_cost(checksig_coinbase, Coins(), MANDATORY_FLAGS) == 21 * 4
    assert p2sh_sigop_count_tx(checksig_coinbase, Coins()) == 0


def test_sigop_cost_needs_the_coins() -> None:
    with pytest.raises(ChainMisuse):
        transaction_sigop_cost(spend(_outpoint(0), value=1), Coins(), MANDATORY_FLAGS)


# -- script flags -------------------------------------------------------------------------------


def test_regtest_blocks_get_the_mandatory_flags() -> None:
    assert script_flags_for_block(1, REGTEST) == MANDATORY_FLAGS
    assert script_flags_for_block(0, REGTEST) == (
        ScriptFlags.P2SH | ScriptFlags.WITNESS | ScriptFlags.NULLDUMMY
    )


@pytest.mark.parametrize(
    ("height", "added"),
    [
        (MAINNET.bip66_height, ScriptFlags.DERSIG),
        (MAINNET.bip65_height, ScriptFlags.CHECKLOCKTIMEVERIFY),
        (MAINNET.csv_height, ScriptFlags.CHECKSEQUENCEVERIFY),
        (MAINNET.segwit_height, ScriptFlags.NULLDUMMY),
    ],
)
def test_mainnet_flags_switch_on_at_the_buried_heights(height: int, added: ScriptFlags) -> None:
    before = script_flags_for_block(height - 1, MAINNET)
    assert not before & added
    assert script_flags_for_block(height, MAINNET) == before | added
    assert before & ScriptFlags.P2SH and before & ScriptFlags.WITNESS


# -- subsidy and the coinbase amount ----------------------------------------------------------


@pytest.mark.parametrize(
    ("height", "subsidy"),
    [
        (0, 50 * COIN),
        (149, 50 * COIN),
        (150, 25 * COIN),
        (299, 25 * COIN),
        (300, 1_250_000_000),
        (150 * 33, 0),
        (150 * 64, 0),
    ],
)
def test_regtest_halvings(height: int, subsidy: int) -> None:
    assert block_subsidy(height, REGTEST) == subsidy


def test_mainnet_halvings() -> None:
    assert block_subsidy(209_999, MAINNET) == 50 * COIN
    assert block_subsidy(210_000, MAINNET) == 25 * COIN
    assert block_subsidy(210_000 * 32, MAINNET) == 1  # 50 BTC >> 32 rounds to one satoshi


def _overpay(block: Block, extra: int) -> Block:
    coinbase = block.txs[0]
    first, *rest = coinbase.vout
    vout = (TxOut(first.value + extra, first.script_pubkey), *rest)
    return resolve(block, [dataclasses.replace(coinbase, vout=vout), *block.txs[1:]])


def test_halving_in_real_blocks_and_bad_cb_amount() -> None:
    chain = TestChain()
    blocks = chain.mine(300)
    for height in (149, 150, 299, 300):
        assert blocks[height - 1].txs[0].vout[0].value == block_subsidy(height, REGTEST)
    assert blocks[299].txs[0].vout[0].value == 12 * COIN + COIN // 2
    block = chain.build()
    check_coinbase_value(block, 0, 301, REGTEST)
    with pytest.raises(ValidationError) as info:
        check_coinbase_value(_overpay(block, 1), 0, 301, REGTEST)
    assert info.value.reject_reason == "bad-cb-amount"
    assert (
        info.value.debug
        == f"coinbase pays too much (actual={1_250_000_001} vs limit={1_250_000_000})"
    )


def test_coinbase_may_claim_the_fees_and_no_more(chain99: tuple[TestChain, list[Block]]) -> None:
    base, blocks = chain99
    chain = base.fork()
    chain.mine(2)  # blocks 1 and 2 mature at 101 and 102
    txs = [spend(coinbase_outpoint(blocks[0]), value=50 * COIN - 700)]
    block = chain.build(txs, fees=700)
    check_coinbase_value(block, 700, 102, REGTEST)
    with pytest.raises(ValidationError) as info:
        chain.fork().connect(_overpay(block, 1))
    assert info.value.reject_reason == "bad-cb-amount"
    chain.connect(block)
    underpaid = chain.build(fees=0)
    chain.connect(_overpay(underpaid, -COIN))  # paying less than allowed is valid
