"""Scenario keys and spends: reproducible, and accepted by a real node's mempool."""

from __future__ import annotations

import pytest

from btcnode.address import script_for_address
from btcnode.consensus.params import COIN, REGTEST
from btcnode.consensus.tx import OutPoint, TxOut
from btcnode.node import Node
from btcnode.scenarios.errors import ScenarioMisuse
from btcnode.scenarios.keys import (
    RBF_SEQUENCE,
    Coin,
    fee_of,
    pay,
    scenario_key,
    short_hex,
    txid_hex,
)
from tests.btcnode.scenarios.helpers import T0, new_node

OWNER = scenario_key("owner")
PAYEE = scenario_key("payee")


def _funded_node() -> tuple[Node, Coin]:
    node = new_node()
    blocks = node.generate(101, OWNER.script, T0)
    coinbase = blocks[0].txs[0]
    return node, Coin(OutPoint(coinbase.txid, 0), coinbase.vout[0])


def test_a_key_is_its_name() -> None:
    assert scenario_key("owner") == OWNER
    assert scenario_key("owner").secret != scenario_key("owner ").secret
    assert repr(OWNER) == "scenario_key('owner')"


def test_the_address_decodes_to_the_keys_p2wpkh_script() -> None:
    address = OWNER.address(REGTEST)
    assert address.startswith("bcrt1q")
    assert script_for_address(address, REGTEST) == OWNER.script
    assert OWNER.script[:2] == b"\x00\x14" and len(OWNER.script) == 22


def test_a_payment_is_accepted_by_a_node_and_pays_what_it_says() -> None:
    node, coin = _funded_node()
    tx = pay(OWNER, [coin], [(PAYEE.script, 10 * COIN), (OWNER.script, 40 * COIN - 1_500)])
    assert fee_of(tx, [coin]) == 1_500
    assert [o.value for o in tx.vout] == [10 * COIN, 40 * COIN - 1_500]
    result = node.submit_transaction(tx, T0)
    assert result.accepted, result


def test_an_rbf_payment_signals_and_replaces() -> None:
    node, coin = _funded_node()
    original = pay(OWNER, [coin], [(PAYEE.script, coin.value - 1_000)], sequence=RBF_SEQUENCE)
    bumped = pay(OWNER, [coin], [(PAYEE.script, coin.value - 5_000)], sequence=RBF_SEQUENCE)
    assert all(txin.sequence == RBF_SEQUENCE for txin in original.vin)
    assert node.submit_transaction(original, T0).accepted
    assert node.submit_transaction(bumped, T0).accepted


def test_a_payment_signed_by_the_wrong_key_is_refused_by_the_node() -> None:
    node, coin = _funded_node()
    forged = Coin(coin.outpoint, TxOut(coin.value, PAYEE.script))  # PAYEE signs OWNER's coin
    tx = pay(PAYEE, [forged], [(PAYEE.script, coin.value - 1_000)])
    result = node.submit_transaction(tx, T0)
    assert not result.accepted
    assert result.reject_reason is not None
    assert result.reject_reason.startswith("mandatory-script-verify-flag-failed")


def test_overspending_and_empty_payments_are_refused() -> None:
    coin = Coin(OutPoint(bytes(32), 0), TxOut(1_000, OWNER.script))
    with pytest.raises(ScenarioMisuse, match="outputs of 1001 sats exceed the 1000 sats"):
        pay(OWNER, [coin], [(PAYEE.script, 1_001)])
    with pytest.raises(ScenarioMisuse, match="at least one coin and one output"):
        pay(OWNER, [], [(PAYEE.script, 1)])


def test_fee_of_needs_every_spent_coin() -> None:
    coin = Coin(OutPoint(bytes(32), 0), TxOut(1_000, OWNER.script))
    tx = pay(OWNER, [coin], [(PAYEE.script, 900)])
    with pytest.raises(ScenarioMisuse, match="no coin given for inputs"):
        fee_of(tx, [])


def test_ids_are_shown_shortened_in_rpc_order() -> None:
    coin = Coin(OutPoint(bytes(32), 0), TxOut(1_000, OWNER.script))
    tx = pay(OWNER, [coin], [(PAYEE.script, 900)])
    assert txid_hex(tx) == tx.txid[::-1].hex()
    assert short_hex(txid_hex(tx)) == txid_hex(tx)[:8] + "…"
    assert short_hex("abcd") == "abcd"
