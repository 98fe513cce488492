"""Building: fees on the exact size, change only when it is worth it, BIP125 signalling,
anti-fee-sniping, and the errors for dust, low fee rates and missing funds."""

from __future__ import annotations

import random

import pytest

from btcnode.consensus.tx import TxOut
from btcnode.mempool.feerate import FeeRate
from tests.wallets.test_signer import FundedWallet, funded_wallet
from wallets.builder import (
    MAX_BIP125_RBF_SEQUENCE,
    MAX_SEQUENCE_NONFINAL,
    BuildOptions,
    DustOutput,
    FeeRateTooLow,
    build_transaction,
)
from wallets.coinselect import InsufficientFunds, SelectionAlgorithm
from wallets.signer import sign_transaction
from wallets.txsize import InputType


@pytest.fixture
def wallet() -> FundedWallet:
    return funded_wallet()


def test_a_payment_with_change_pays_exactly_rate_times_size(wallet: FundedWallet) -> None:
    rate = FeeRate(3_000)
    payee, change = wallet.script("payee"), wallet.script("change", InputType.P2WPKH)
    built = build_transaction(
        wallet.coins, [TxOut(1_234_567, payee)], rate, change, random.Random(1)
    )
    assert built.change_index is not None
    assert built.tx.vout[built.change_index].script_pubkey == change
    assert built.fee == rate.fee(built.vsize)
    assert sum(c.value for c in built.spent) == sum(o.value for o in built.tx.vout) + built.fee
    assert all(txin.sequence == MAX_BIP125_RBF_SEQUENCE for txin in built.tx.vin)
    signed = sign_transaction(built.tx, built.spent, wallet.key_for)
    assert signed.vsize <= built.vsize <= signed.vsize + len(signed.vin)
    wallet.submit(signed)
    entry = wallet.node.mempool.get(signed.txid)
    assert entry is not None and entry.fee == built.fee


def test_small_change_goes_to_the_fee(wallet: FundedWallet) -> None:
    rate = FeeRate(2_000)
    coin = next(c for c in wallet.coins if c.input_type is InputType.P2WPKH)
    payee = wallet.script("payee")
    # One input, one output: 10.5 + 68 + 31 -> 110 vbytes. Leave 100 sat over the fee.
    amount = coin.value - rate.fee(110) - 100
    built = build_transaction(
        [coin], [TxOut(amount, payee)], rate, wallet.script("change"), random.Random(2)
    )
    assert built.change_index is None and len(built.tx.vout) == 1
    assert built.fee == rate.fee(110) + 100
    wallet.submit(sign_transaction(built.tx, built.spent, wallet.key_for))


def test_exact_match_avoids_change(wallet: FundedWallet) -> None:
    # Above the long-term rate (below it, spending more coins now is cheaper: Core consolidates).
    rate = FeeRate(20_000)
    coin = next(c for c in wallet.coins if c.input_type is InputType.P2SH_P2WPKH)
    payee = wallet.script("payee")
    vsize = 10 + 1 + 91 + 31  # Core prices the marker as one vbyte and each input rounded up
    built = build_transaction(
        wallet.coins,
        [TxOut(coin.value - rate.fee(vsize), payee)],
        rate,
        wallet.script("change"),
        random.Random(3),
    )
    assert built.change_index is None and built.algorithm is SelectionAlgorithm.BNB
    assert [c.outpoint for c in built.spent] == [coin.outpoint]


def test_errors_carry_what_was_wrong(wallet: FundedWallet) -> None:
    payee, change = wallet.script("payee"), wallet.script("change")
    rng = random.Random(4)
    with pytest.raises(DustOutput) as dust:
        build_transaction(
            wallet.coins, [TxOut(5000, payee), TxOut(293, payee)], FeeRate(1000), change, rng
        )
    assert (dust.value.index, dust.value.amount, dust.value.threshold) == (1, 293, 294)
    with pytest.raises(FeeRateTooLow) as low:
        build_transaction(wallet.coins, [TxOut(5000, payee)], FeeRate(99), change, rng)
    assert low.value.minimum == FeeRate(100)
    total = sum(c.value for c in wallet.coins)
    with pytest.raises(InsufficientFunds) as short:
        build_transaction(wallet.coins, [TxOut(total, payee)], FeeRate(1000), change, rng)
    assert short.value.available < total < short.value.needed


def test_no_signalling_and_anti_fee_sniping(wallet: FundedWallet) -> None:
    options = BuildOptions(signal_rbf=False, current_height=102)
    lock_times = set()
    for seed in range(40):
        built = build_transaction(
            wallet.coins,
            [TxOut(50_000, wallet.script("payee"))],
            FeeRate(1000),
            wallet.script("change"),
            random.Random(seed),
            options,
        )
        assert all(txin.sequence == MAX_SEQUENCE_NONFINAL for txin in built.tx.vin)
        lock_times.add(built.tx.lock_time)
    assert max(lock_times) == 102 and min(lock_times) >= 3 and len(lock_times) > 1
    signed = sign_transaction(built.tx, built.spent, wallet.key_for)
    if signed.lock_time <= 101:  # final in the next block (height 102)
        wallet.submit(signed)


def test_same_seed_same_transaction(wallet: FundedWallet) -> None:
    def build(seed: int) -> bytes:
        outs = [TxOut(700_000, wallet.script("a")), TxOut(900_000, wallet.script("b"))]
        built = build_transaction(
            wallet.coins, outs, FeeRate(5000), wallet.script("change"), random.Random(seed)
        )
        return built.tx.serialize()

    assert build(7) == build(7)
    assert len({build(s) for s in range(8)}) > 1  # inputs shuffled, change placed at random


@pytest.mark.parametrize("seed", range(6))
def test_random_payments_are_accepted(wallet: FundedWallet, seed: int) -> None:
    rng = random.Random(seed)
    types = list(InputType)
    outs = [
        TxOut(rng.randrange(1_000, 3_000_000), wallet.script(f"p{seed}/{i}", rng.choice(types)))
        for i in range(rng.randrange(1, 4))
    ]
    change = wallet.script("change", rng.choice(types))
    rate = FeeRate(rng.randrange(100, 40_000))
    built = build_transaction(wallet.coins, outs, rate, change, rng)
    signed = sign_transaction(built.tx, built.spent, wallet.key_for)
    assert built.fee >= rate.fee(signed.vsize)
    assert all(o in signed.vout for o in outs)
    wallet.submit(signed)
