"""Test doubles and builders for mempool tests: a chain of coins, signed spends.

`FakeChain` is a `ChainView` over a dict of coins: the tip height and the median time past
of every height are chosen by the test. `Wallet` makes real signed P2WPKH (and P2PKH)
spends with one deterministic key, so script checks run on every accepted transaction.
`block_at` and `Change` describe the blocks a test connects or disconnects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import coincurve

from btcnode.consensus.block import Block, BlockHeader
from btcnode.consensus.coins import Coin
from btcnode.consensus.params import COIN, REGTEST, ChainParams
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.miner.assemble import create_coinbase
from btcnode.signing import p2pkh_script_for, p2wpkh_script_for, sign_inputs

BASE_TIME = 1_700_000_000
RBF_SEQUENCE = 0xFFFFFFFD  # BIP125: signals
NO_RBF_SEQUENCE = 0xFFFFFFFE  # final for RBF, still enables nLockTime


class FakeChain:
    """A ChainView: coins in a dict, block k has time BASE_TIME + 600 k."""

    def __init__(self, tip_height: int = 200, params: ChainParams = REGTEST) -> None:
        self.params = params
        self.tip_height = tip_height
        self.tip_hash = tip_height.to_bytes(32, "little")
        self.coins: dict[OutPoint, Coin] = {}

    def block_time(self, height: int) -> int:
        return BASE_TIME + 600 * height

    def median_time_past(self, height: int) -> int:
        return self.block_time(max(height - 5, 0))  # the median of 11 evenly spaced times

    def get_coin(self, outpoint: OutPoint) -> Coin | None:
        return self.coins.get(outpoint)

    def spend(self, outpoint: OutPoint) -> None:
        del self.coins[outpoint]


@dataclass(frozen=True)
class Change:
    """A chain change as `Mempool.update_for_reorg` reads it (a `ChainChange`)."""

    disconnected: tuple[Block, ...] = ()
    connected: tuple[Block, ...] = ()


def block_at(height: int, *txs: Tx) -> Block:
    """A block of a coinbase for `height` and `txs`, unsolved: the mempool reads only its txs."""
    header = BlockHeader(1, height.to_bytes(32, "little"), bytes(32), 0, 0x207FFFFF, 0)
    return Block(header, (create_coinbase(height, b"\x51", 50 * COIN), *txs))


@dataclass(frozen=True)
class Utxo:
    outpoint: OutPoint
    out: TxOut


class Wallet:
    """One key; funds coins into a FakeChain and signs spends of them."""

    def __init__(self, seed: int = 1) -> None:
        self.key = coincurve.PrivateKey(seed.to_bytes(32, "big"))
        pubkey = self.key.public_key.format(compressed=True)
        self.p2wpkh = p2wpkh_script_for(pubkey)
        self.p2pkh = p2pkh_script_for(pubkey)
        self._funded = 0

    def fund(
        self,
        chain: FakeChain,
        value: int = COIN,
        *,
        script: bytes | None = None,
        height: int = 10,
        coinbase: bool = False,
    ) -> Utxo:
        """A confirmed coin of this wallet at `height`."""
        self._funded += 1
        outpoint = OutPoint(self._funded.to_bytes(4, "big") * 8, 0)
        out = TxOut(value, self.p2wpkh if script is None else script)
        chain.coins[outpoint] = Coin(out, height, coinbase)
        return Utxo(outpoint, out)

    def spend(
        self,
        utxos: Sequence[Utxo],
        values: Sequence[int],
        *,
        sequence: int = RBF_SEQUENCE,
        version: int = 2,
        lock_time: int = 0,
        scripts: Sequence[bytes] | None = None,
        extra_outputs: Sequence[TxOut] = (),
    ) -> Tx:
        """A signed transaction spending `utxos` to outputs of `values` (to this wallet)."""
        outs = [
            TxOut(v, self.p2wpkh if scripts is None else scripts[i]) for i, v in enumerate(values)
        ]
        vin = tuple(TxIn(u.outpoint, sequence=sequence) for u in utxos)
        unsigned = Tx(version, vin, (*outs, *extra_outputs), lock_time)
        return sign_inputs(unsigned, [(self.key, u.out) for u in utxos])

    def chain_spend(self, parent: Tx, n: int, fee: int, *, sequence: int = RBF_SEQUENCE) -> Tx:
        """Spend output `n` of `parent` to one output, paying `fee`."""
        out = parent.vout[n]
        source = Utxo(OutPoint(parent.txid, n), out)
        return self.spend([source], [out.value - fee], sequence=sequence)


def utxo(tx: Tx, n: int = 0) -> Utxo:
    return Utxo(OutPoint(tx.txid, n), tx.vout[n])
