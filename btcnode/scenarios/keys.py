"""Scenario keys and the signed spends the scenarios broadcast.

Keys are derived from their names (SHA-256 of a fixed prefix and the name), so a run is
reproducible and a reader can recreate any key the narrative mentions. Coinbases are mined
to a key's P2WPKH address and spent with `btcnode.signing`. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import coincurve

from btcnode.address import address_for_script
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import SEQUENCE_FINAL, OutPoint, Tx, TxIn, TxOut
from btcnode.mempool.entry import MAX_BIP125_RBF_SEQUENCE
from btcnode.scenarios.errors import ScenarioMisuse
from btcnode.signing import p2wpkh_script_for, sign_inputs

__all__ = [
    "KEY_SEED_PREFIX",
    "RBF_SEQUENCE",
    "Coin",
    "ScenarioKey",
    "fee_of",
    "pay",
    "scenario_key",
    "short_hex",
    "txid_hex",
]

KEY_SEED_PREFIX = b"opentrust scenario key "
RBF_SEQUENCE = MAX_BIP125_RBF_SEQUENCE  # BIP125: below 0xfffffffe signals replaceability
SHORT_HEX_CHARS = 8  # enough to tell a scenario's few blocks and transactions apart


@dataclass(frozen=True, slots=True)
class ScenarioKey:
    """A named key; `secret` is SHA-256(KEY_SEED_PREFIX + name)."""

    name: str
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != 32:
            raise ScenarioMisuse(f"key {self.name}: secret of {len(self.secret)} bytes, not 32")

    @property
    def private_key(self) -> coincurve.PrivateKey:
        return coincurve.PrivateKey(self.secret)

    @property
    def pubkey(self) -> bytes:
        return self.private_key.public_key.format(compressed=True)

    @property
    def script(self) -> bytes:
        """The P2WPKH output script the scenarios pay this key with."""
        return p2wpkh_script_for(self.pubkey)

    def address(self, params: ChainParams) -> str:
        address = address_for_script(self.script, params)
        if address is None:  # a P2WPKH script always has one
            raise ScenarioMisuse(f"key {self.name}: no address for {self.script.hex()}")
        return address

    def __repr__(self) -> str:
        return f"scenario_key({self.name!r})"


def scenario_key(name: str) -> ScenarioKey:
    return ScenarioKey(name, hashlib.sha256(KEY_SEED_PREFIX + name.encode()).digest())


@dataclass(frozen=True, slots=True)
class Coin:
    """A spendable output and where it is."""

    outpoint: OutPoint
    output: TxOut

    @property
    def value(self) -> int:
        return self.output.value


def pay(
    owner: ScenarioKey,
    coins: Sequence[Coin],
    outputs: Sequence[tuple[bytes, int]],
    *,
    sequence: int = SEQUENCE_FINAL,
) -> Tx:
    """A version-2 transaction spending `coins` (all `owner`'s) to `(script, sats)` outputs,
    signed; the fee is what the outputs leave of the coins, and must not be negative."""
    if not coins or not outputs:
        raise ScenarioMisuse("a payment needs at least one coin and one output")
    spent = sum(c.value for c in coins)
    paid = sum(value for _, value in outputs)
    if paid > spent:
        raise ScenarioMisuse(f"outputs of {paid} sats exceed the {spent} sats spent")
    vin = tuple(TxIn(coin.outpoint, b"", sequence) for coin in coins)
    vout = tuple(TxOut(value, script) for script, value in outputs)
    unsigned = Tx(2, vin, vout, 0)
    return sign_inputs(unsigned, [(owner.private_key, coin.output) for coin in coins])


def fee_of(tx: Tx, coins: Sequence[Coin]) -> int:
    """The fee `tx` pays when it spends exactly `coins`."""
    by_outpoint = {coin.outpoint: coin.value for coin in coins}
    missing = [str(txin.prevout) for txin in tx.vin if txin.prevout not in by_outpoint]
    if missing:
        raise ScenarioMisuse(f"no coin given for inputs {missing}")
    return sum(by_outpoint[txin.prevout] for txin in tx.vin) - sum(o.value for o in tx.vout)


def txid_hex(tx: Tx) -> str:
    """The txid as RPC shows it (byte-reversed hex)."""
    return hash256_hex(tx.txid)


def short_hex(hex_id: str, chars: int = SHORT_HEX_CHARS) -> str:
    """The first `chars` digits of a txid or block hash, with an ellipsis."""
    return hex_id if len(hex_id) <= chars else hex_id[:chars] + "…"
