"""The merchant's view of a payment, read from blocks an in-process node mined."""

from __future__ import annotations

import pytest

from btcnode.consensus.block import Block
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.node import Node
from btcnode.scenarios.errors import ScenarioMisuse
from btcnode.scenarios.keys import Coin, pay, scenario_key, txid_hex
from btcnode.scenarios.merchant import PaymentState, PaymentStatus, payment_status
from tests.btcnode.scenarios.helpers import T0, new_node

ATTACKER = scenario_key("attacker")
MERCHANT = scenario_key("merchant")
LOOT = scenario_key("loot")
MINER = scenario_key("miner")


def _setup() -> tuple[Node, Tx, Tx, int]:
    """A node at height 101 with the attacker's matured coin; the payment, the double
    spend and the fork height."""
    node = new_node()
    coinbase = node.generate(101, ATTACKER.script, T0)[0].txs[0]
    coin = Coin(OutPoint(coinbase.txid, 0), coinbase.vout[0])
    payment = pay(ATTACKER, [coin], [(MERCHANT.script, coin.value - 1_000)])
    double_spend = pay(ATTACKER, [coin], [(LOOT.script, coin.value - 1_000)])
    return node, payment, double_spend, 101


def _mine(node: Node, n: int, first_height: int) -> list[tuple[int, Block]]:
    return list(enumerate(node.generate(n, MINER.script, T0), first_height))


def test_a_mined_payment_counts_its_confirmations() -> None:
    node, payment, _, fork = _setup()
    assert node.submit_transaction(payment, T0).accepted
    blocks = _mine(node, 3, fork + 1)
    status = payment_status(payment, blocks, fork + 3, mempool=())
    assert status == PaymentStatus(txid_hex(payment), PaymentState.CONFIRMED, 3, fork + 1)
    assert status.confirmations == 3
    assert status.describe() == f"payment {txid_hex(payment)[:8]}…: 3 confirmations (block 102)"


def test_a_double_spent_payment_is_conflicted_with_negative_confirmations() -> None:
    node, payment, double_spend, fork = _setup()
    assert node.submit_transaction(double_spend, T0).accepted
    blocks = _mine(node, 4, fork + 1)
    status = payment_status(payment, blocks, fork + 4, mempool=())
    assert status.state is PaymentState.CONFLICTED
    assert (status.conflict_txid, status.height, status.depth) == (
        txid_hex(double_spend),
        fork + 1,
        4,
    )
    assert status.confirmations == -4
    assert "not in the chain; conflicted by " + txid_hex(double_spend)[:8] in status.describe()


def test_a_pooled_payment_has_no_confirmations_and_an_absent_one_is_unknown() -> None:
    node, payment, _, fork = _setup()
    blocks = _mine(node, 1, fork + 1)
    pooled = payment_status(payment, blocks, fork + 1, mempool={txid_hex(payment)})
    assert (pooled.state, pooled.confirmations) == (PaymentState.IN_MEMPOOL, 0)
    unknown = payment_status(payment, blocks, fork + 1, mempool=set())
    assert unknown.state is PaymentState.UNKNOWN
    assert unknown.describe().endswith("unknown to the node")


def test_a_block_above_the_tip_is_a_caller_error() -> None:
    node, payment, _, fork = _setup()
    blocks = _mine(node, 2, fork + 1)
    with pytest.raises(ScenarioMisuse, match="height 103 is above the tip 102"):
        payment_status(payment, blocks, fork + 1, mempool=())


@pytest.mark.parametrize(
    ("state", "depth", "height", "conflict"),
    [
        (PaymentState.CONFIRMED, 0, 5, ""),
        (PaymentState.IN_MEMPOOL, 2, 5, ""),
        (PaymentState.CONFLICTED, 2, 5, ""),
        (PaymentState.CONFIRMED, 2, 5, "ab" * 32),
    ],
)
def test_an_inconsistent_status_is_refused(
    state: PaymentState, depth: int, height: int, conflict: str
) -> None:
    with pytest.raises(ScenarioMisuse, match=state.value):
        PaymentStatus("00" * 32, state, depth, height, conflict)
