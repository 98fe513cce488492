"""Signing: every input type accepted by a real in-process mempool, and the consensus check
catching tampering before a transaction leaves the wallet.

`FundedWallet` is shared with the builder, bump and PSBT tests: a regtest node whose chain
pays the wallet confirmed coins of all three input types.
"""

from __future__ import annotations

from dataclasses import dataclass

import coincurve
import pytest

from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.mempool.results import AcceptStatus
from btcnode.node import Node
from tests.btcnode.scenarios.helpers import T0, coinbase_coin, key, mature_node, spend
from wallets.builder import Spendable
from wallets.signer import (
    InputVerificationFailed,
    KeyMismatch,
    script_for_key,
    sign_transaction,
    verify_inputs,
)
from wallets.txsize import InputType

FUNDING_FEE = 100_000
VALUES = (1_000_000, 2_500_000, 40_000_000)  # three coins of each type


@dataclass
class FundedWallet:
    node: Node
    keys: dict[str, coincurve.PrivateKey]
    coins: list[Spendable]
    funding: Tx | None = None

    def key_for(self, coin: Spendable) -> coincurve.PrivateKey:
        return self.keys[coin.key_path]

    def script(self, name: str, input_type: InputType = InputType.P2WPKH) -> bytes:
        k = self.keys.setdefault(name, key(name))
        return script_for_key(input_type, k.public_key.format(compressed=True))

    def submit(self, tx: Tx) -> None:
        result = self.node.submit_transaction(tx, T0 + 10_000)
        assert result.status is AcceptStatus.ACCEPTED, result.error

    def mine(self) -> None:
        self.node.generate(1, self.script("miner"), T0 + 10_000)


def funded_wallet() -> FundedWallet:
    """A node whose latest block pays the wallet nine coins: three of each input type."""
    miner = key("miner")
    node, blocks = mature_node(miner)
    keys = {"miner": miner}
    plan: list[tuple[str, InputType, int]] = []
    for input_type in InputType:
        for n, value in enumerate(VALUES):
            name = f"{input_type.value}/{n}"
            keys[name] = key(name)
            plan.append((name, input_type, value))
    outputs = [
        (script_for_key(t, keys[name].public_key.format(compressed=True)), value)
        for name, t, value in plan
    ]
    coin = coinbase_coin(blocks[0])
    change = coin[1].value - sum(v for _, v in outputs) - FUNDING_FEE
    funding = spend(miner, [coin], [*outputs, (coin[1].script_pubkey, change)])
    wallet = FundedWallet(node, keys, [], funding)
    wallet.submit(funding)
    wallet.mine()
    wallet.coins = [
        Spendable(OutPoint(funding.txid, n), funding.vout[n], t, name, 1)
        for n, (name, t, _) in enumerate(plan)
    ]
    return wallet


def _unsigned(coins: list[Spendable], pay_to: bytes, fee: int = 20_000) -> Tx:
    vin = tuple(TxIn(c.outpoint, b"", 0xFFFFFFFD) for c in coins)
    total = sum(c.value for c in coins)
    return Tx(2, vin, (TxOut(total - fee, pay_to),), 0)


@pytest.fixture(scope="module")
def wallet() -> FundedWallet:
    return funded_wallet()


@pytest.mark.parametrize("input_type", list(InputType), ids=lambda t: t.value)
def test_each_input_type_is_accepted_by_the_mempool(
    wallet: FundedWallet, input_type: InputType
) -> None:
    coins = [c for c in wallet.coins if c.input_type is input_type][:1]
    signed = sign_transaction(_unsigned(coins, wallet.script("payee")), coins, wallet.key_for)
    wallet.submit(signed)


def test_a_mix_of_all_types_is_accepted(wallet: FundedWallet) -> None:
    coins = [c for c in wallet.coins if c.key_path.endswith("/1")]
    assert {c.input_type for c in coins} == set(InputType)
    signed = sign_transaction(_unsigned(coins, wallet.script("payee2")), coins, wallet.key_for)
    wallet.submit(signed)
    assert signed.txid in wallet.node.mempool


def test_tampering_fails_the_check_naming_the_input(wallet: FundedWallet) -> None:
    coins = [c for c in wallet.coins if c.key_path.endswith("/2")]
    signed = sign_transaction(_unsigned(coins, wallet.script("payee3")), coins, wallet.key_for)
    spent = [c.txout for c in coins]
    verify_inputs(signed, spent)
    # A changed output breaks every SIGHASH_ALL signature; the first input is named.
    more = Tx(signed.version, signed.vin, (TxOut(signed.vout[0].value + 1, b"\x51"),), 0)
    with pytest.raises(InputVerificationFailed) as info:
        verify_inputs(more, spent)
    assert info.value.input_index == 0 and info.value.outpoint == coins[0].outpoint
    # A flipped bit in the second input's signature names that input.
    bad = signed.vin[1]
    sig = bytearray(bad.witness[0] if bad.witness else bad.script_sig[1:72])
    sig[10] ^= 1
    if bad.witness:
        forged = TxIn(bad.prevout, bad.script_sig, bad.sequence, (bytes(sig), bad.witness[1]))
    else:
        forged = TxIn(bad.prevout, bad.script_sig[:1] + bytes(sig) + bad.script_sig[72:])
    tampered = Tx(signed.version, (signed.vin[0], forged, signed.vin[2]), signed.vout, 0)
    with pytest.raises(InputVerificationFailed) as info:
        verify_inputs(tampered, spent)
    assert info.value.input_index == 1
    assert "signature" in info.value.reason.lower() or "false" in info.value.reason.lower()
    # The wrong amount for a segwit input (BIP143 commits to it) fails too.
    wrong_amount = [*spent[:2], TxOut(spent[2].value + 1, spent[2].script_pubkey)]
    with pytest.raises(InputVerificationFailed) as info:
        verify_inputs(signed, wrong_amount)
    assert info.value.input_index == 2


def test_a_key_that_does_not_match_is_refused(wallet: FundedWallet) -> None:
    coins = wallet.coins[:1]
    unsigned = _unsigned(coins, wallet.script("payee4"))
    with pytest.raises(KeyMismatch) as info:
        sign_transaction(unsigned, coins, lambda c: key("someone else"))
    assert info.value.input_index == 0
