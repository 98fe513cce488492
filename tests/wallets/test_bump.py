"""Fee bumping: replacements accepted by a real in-process mempool in place of the original,
and the refusals for confirmed, non-signalling and unfundable bumps."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from btcnode.consensus.tx import Tx, TxOut
from btcnode.mempool.feerate import FeeRate
from btcnode.mempool.policy import DEFAULT_INCREMENTAL_RELAY_FEE
from tests.btcnode.scenarios.helpers import T0
from tests.wallets.test_signer import FundedWallet, funded_wallet
from wallets.builder import BuildOptions, BuiltTx, build_transaction
from wallets.bump import (
    WALLET_INCREMENTAL_RELAY_FEE,
    BumpRequest,
    CannotBump,
    FeeBumpTooLow,
    NotReplaceable,
    bump_fee,
    original_fee,
)
from wallets.signer import sign_transaction
from wallets.txsize import InputType


@pytest.fixture
def wallet() -> FundedWallet:
    return funded_wallet()


def _sent(wallet: FundedWallet, built: BuiltTx) -> tuple[Tx, BumpRequest]:
    signed = sign_transaction(built.tx, built.spent, wallet.key_for)
    wallet.submit(signed)
    return signed, BumpRequest(signed, built.spent, built.change_index, confirmed=False)


def _replace(wallet: FundedWallet, original: Tx, bumped: BuiltTx) -> Tx:
    signed = sign_transaction(bumped.tx, bumped.spent, wallet.key_for)
    result = wallet.node.submit_transaction(signed, T0 + 10_000)
    assert result.error is None, result.error
    assert original.txid in {r.txid for r in result.replaced}
    assert original.txid not in wallet.node.mempool and signed.txid in wallet.node.mempool
    return signed


def test_bump_reduces_change_and_replaces_in_the_mempool(wallet: FundedWallet) -> None:
    payment = TxOut(1_500_000, wallet.script("payee"))
    built = build_transaction(
        wallet.coins, [payment], FeeRate(2_000), wallet.script("change"), random.Random(1)
    )
    original, request = _sent(wallet, built)
    bumped = bump_fee(request, random.Random(2))
    old_fee = original_fee(request)
    assert old_fee == built.fee
    # Core's EstimateFeeRate: old rate + 1 sat/kvB + the wallet's 5 sat/vB increment.
    rate = FeeRate.of(old_fee, original.vsize) + FeeRate(1) + WALLET_INCREMENTAL_RELAY_FEE
    assert bumped.fee == rate.fee(bumped.vsize)
    assert bumped.fee >= old_fee + WALLET_INCREMENTAL_RELAY_FEE.fee(bumped.vsize)  # rules 3, 4
    assert {c.outpoint for c in bumped.spent} == {c.outpoint for c in built.spent}
    assert payment in bumped.tx.vout and len(bumped.tx.vout) == 2
    assert bumped.change_index is not None and built.change_index is not None
    old_change = built.tx.vout[built.change_index].value
    assert bumped.tx.vout[bumped.change_index].value == old_change - (bumped.fee - old_fee)
    replacement = _replace(wallet, original, bumped)
    # A second bump replaces the first.
    again = bump_fee(
        BumpRequest(replacement, bumped.spent, bumped.change_index, confirmed=False),
        random.Random(3),
        fee_rate=FeeRate(30_000),
    )
    _replace(wallet, replacement, again)


def test_a_given_rate_too_low_is_refused_with_the_amounts(wallet: FundedWallet) -> None:
    built = build_transaction(
        wallet.coins,
        [TxOut(800_000, wallet.script("payee"))],
        FeeRate(4_000),
        wallet.script("change"),
        random.Random(4),
    )
    _, request = _sent(wallet, built)
    with pytest.raises(FeeBumpTooLow) as info:
        bump_fee(request, random.Random(5), fee_rate=FeeRate(6_000))
    err = info.value
    assert err.old_fee == built.fee
    assert err.min_fee == built.fee + WALLET_INCREMENTAL_RELAY_FEE.fee(built.vsize)
    assert err.new_fee == FeeRate(6_000).fee(built.vsize) < err.min_fee
    assert FeeRate(DEFAULT_INCREMENTAL_RELAY_FEE) < WALLET_INCREMENTAL_RELAY_FEE


def test_confirmed_or_non_signalling_transactions_are_not_bumped(wallet: FundedWallet) -> None:
    payee, change = wallet.script("payee"), wallet.script("change")
    built = build_transaction(
        wallet.coins, [TxOut(50_000, payee)], FeeRate(1000), change, random.Random(6)
    )
    request = BumpRequest(built.tx, built.spent, built.change_index, confirmed=True)
    with pytest.raises(NotReplaceable, match="already confirmed"):
        bump_fee(request, random.Random(7))
    final = build_transaction(
        wallet.coins,
        [TxOut(50_000, payee)],
        FeeRate(1000),
        change,
        random.Random(6),
        BuildOptions(signal_rbf=False),
    )
    request = BumpRequest(final.tx, final.spent, final.change_index, confirmed=False)
    with pytest.raises(NotReplaceable, match="does not signal"):
        bump_fee(request, random.Random(7))


def test_without_change_a_bump_needs_more_coins(wallet: FundedWallet) -> None:
    coin = next(c for c in wallet.coins if c.input_type is InputType.P2PKH)
    rate = FeeRate(20_000)
    payment = TxOut(coin.value - rate.fee(10 + 1 + 147 + 31), wallet.script("payee"))
    built = build_transaction([coin], [payment], rate, wallet.script("change"), random.Random(8))
    assert built.change_index is None
    original, request = _sent(wallet, built)
    with pytest.raises(CannotBump) as info:
        bump_fee(request, random.Random(9))
    assert info.value.available < info.value.needed
    others = [c for c in wallet.coins if c.outpoint != coin.outpoint]
    bumped = bump_fee(request, random.Random(9), extra_coins=others)
    assert len(bumped.spent) > 1 and coin in bumped.spent
    assert payment in bumped.tx.vout
    _replace(wallet, original, bumped)


def test_a_bump_never_adds_an_unconfirmed_coin(wallet: FundedWallet) -> None:
    # BIP125 rule 2: the node refuses new unconfirmed inputs (Core's feebumper: min depth 1)
    coin = next(c for c in wallet.coins if c.input_type is InputType.P2WPKH)
    rate = FeeRate(20_000)
    payment = TxOut(coin.value - rate.fee(10 + 1 + 68 + 31), wallet.script("payee"))
    built = build_transaction([coin], [payment], rate, wallet.script("change"), random.Random(10))
    assert built.change_index is None
    original, request = _sent(wallet, built)
    others = [c for c in wallet.coins if c.outpoint != coin.outpoint]
    unconfirmed = [replace(c, confirmations=0) for c in others]
    with pytest.raises(CannotBump):
        bump_fee(request, random.Random(11), extra_coins=unconfirmed)
    mixed = unconfirmed[1:] + others[:1]
    bumped = bump_fee(request, random.Random(11), extra_coins=mixed)
    assert {c.outpoint for c in bumped.spent} == {coin.outpoint, others[0].outpoint}
    _replace(wallet, original, bumped)
