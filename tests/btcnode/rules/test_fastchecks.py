"""The ConnectBlock shortcuts agree with the general checks wherever they answer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.consensus.coins import Coin
from btcnode.consensus.contextual import check_tx_inputs, transaction_sigop_cost
from btcnode.consensus.errors import ValidationError
from btcnode.consensus.fastchecks import (
    NOT_PROVEN,
    fee_if_plain,
    needs_sequence_locks,
    sigop_cost_if_plain,
)
from btcnode.consensus.params import MAX_MONEY, REGTEST
from btcnode.consensus.script.flags import ScriptFlags
from btcnode.consensus.sequence_locks import NO_LOCK, calculate_sequence_locks
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut

P2PKH = b"\x76\xa9\x14" + b"\x11" * 20 + b"\x88\xac"
P2WPKH = b"\x00\x14" + b"\x22" * 20
P2SH = b"\xa9\x14" + b"\x33" * 20 + b"\x87"
P2WSH = b"\x00\x20" + b"\x44" * 32
NEAR_P2PKH = b"\x76\xa9\x14" + b"\x11" * 20 + b"\x88\xad"
CHECKSIG_SCRIPT = b"\x51\xac"

scripts = st.sampled_from([P2PKH, P2WPKH, P2SH, P2WSH, NEAR_P2PKH, CHECKSIG_SCRIPT, b""])
values = st.one_of(
    st.integers(0, 10**9), st.sampled_from([-1, MAX_MONEY, MAX_MONEY + 1, MAX_MONEY // 2 + 1])
)
sequences = st.sampled_from([0, 1, 0xFFFFFFFF, 0xFFFFFFFE, 1 << 31, 1 << 22, (1 << 22) | 5])
versions = st.sampled_from([1, 2, 3, -1, 0x7FFFFFFF, 0])


class _View:
    def __init__(self, tx: Tx, coins: list[Coin]) -> None:
        self._coins = {txin.prevout: coin for txin, coin in zip(tx.vin, coins, strict=True)}

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self._coins.get(outpoint)


@st.composite
def spends(draw: st.DrawFn) -> tuple[Tx, list[Coin]]:
    n_in = draw(st.integers(1, 4))
    vin = tuple(
        TxIn(
            OutPoint(bytes([i + 1]) * 32, i),
            draw(st.sampled_from([b"", b"\x00", b"\x51\xac", b"\x16" + P2WPKH])),
            draw(sequences),
            draw(st.sampled_from([(), (b"\x01" * 71, b"\x02" * 33), (CHECKSIG_SCRIPT,)])),
        )
        for i in range(n_in)
    )
    vout = tuple(TxOut(draw(values), draw(scripts)) for _ in range(draw(st.integers(1, 3))))
    tx = Tx(draw(versions), vin, vout)
    coins = [
        Coin(TxOut(draw(values), draw(scripts)), draw(st.integers(0, 300)), draw(st.booleans()))
        for _ in range(n_in)
    ]
    return tx, coins


@settings(max_examples=600)
@given(spends(), st.integers(100, 400))
def test_fee_matches_check_tx_inputs(spend: tuple[Tx, list[Coin]], height: int) -> None:
    tx, coins = spend
    fast = fee_if_plain(tx, coins, height, REGTEST.coinbase_maturity)
    try:
        general = check_tx_inputs(tx, _View(tx, coins), height, REGTEST)
    except ValidationError:
        assert fast == NOT_PROVEN
        return
    assert fast in (general, NOT_PROVEN)
    plain = all(not c.is_coinbase or height - c.height >= 100 for c in coins)
    if plain:
        assert fast == general  # only a possible raise is left to the general check


def test_fee_missing_coin_is_not_proven() -> None:
    tx = Tx(2, (TxIn(OutPoint(b"\x01" * 32, 0)),), (TxOut(1, P2PKH),))
    assert fee_if_plain(tx, [None], 200, 100) == NOT_PROVEN


@settings(max_examples=600)
@given(
    spends(),
    st.sampled_from([0, int(ScriptFlags.P2SH), int(ScriptFlags.P2SH | ScriptFlags.WITNESS)]),
)
def test_sigop_cost_matches_general(spend: tuple[Tx, list[Coin]], flags: int) -> None:
    tx, coins = spend
    fast = sigop_cost_if_plain(tx, coins, flags)
    general = transaction_sigop_cost(tx, _View(tx, coins), flags)
    plain = all(c.out.script_pubkey in (P2PKH, P2WPKH) for c in coins)
    assert fast == (general if plain else NOT_PROVEN)


@settings(max_examples=600)
@given(spends(), st.booleans())
def test_sequence_shortcut_only_where_no_lock(spend: tuple[Tx, list[Coin]], enforce: bool) -> None:
    tx, coins = spend
    heights = [c.height for c in coins]
    locks = calculate_sequence_locks(tx, enforce, heights, lambda h: 1_000 + h, 400)
    if not needs_sequence_locks(tx, enforce):
        assert locks == (NO_LOCK, NO_LOCK)
    else:
        assert enforce and (tx.version & 0xFFFFFFFF) >= 2
        assert any(not txin.sequence & (1 << 31) for txin in tx.vin)
