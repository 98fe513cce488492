"""Building blocks for node-level tests: fresh REGTEST nodes, seeded keys, signed spends.

Every node is a real `Node` over a real `Chainstate` on a `MemoryStore` and a real `Mempool`;
two nodes share nothing but the blocks and transactions a test hands from one to the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import coincurve

from btcnode.chain import Chainstate, ChainUpdate
from btcnode.consensus.block import Block
from btcnode.consensus.params import COIN, REGTEST
from btcnode.consensus.tx import SEQUENCE_FINAL, OutPoint, Tx, TxIn, TxOut
from btcnode.mempool import Mempool
from btcnode.node import Node
from btcnode.signing import p2pkh_script_for, p2wpkh_script_for, sign_inputs
from common.store import MemoryStore

T0 = REGTEST.genesis.header.time + 10_000  # the tests' "now"; blocks are stamped near it
RBF_SEQUENCE = 0xFFFFFFFD  # BIP125: signals replaceability
Coin = tuple[OutPoint, TxOut]  # a spendable output and where it is


def new_node() -> Node:
    return Node(Chainstate.open(MemoryStore(), REGTEST), Mempool(), REGTEST)


def key(name: str) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(hashlib.sha256(b"opentrust test key " + name.encode()).digest())


def pubkey(k: coincurve.PrivateKey) -> bytes:
    return k.public_key.format(compressed=True)


def p2wpkh(k: coincurve.PrivateKey) -> bytes:
    return p2wpkh_script_for(pubkey(k))


def p2pkh(k: coincurve.PrivateKey) -> bytes:
    return p2pkh_script_for(pubkey(k))


def coinbase_coin(block: Block) -> Coin:
    coinbase = block.txs[0]
    return OutPoint(coinbase.txid, 0), coinbase.vout[0]


def output_coin(tx: Tx, n: int) -> Coin:
    return OutPoint(tx.txid, n), tx.vout[n]


def spend(
    owner: coincurve.PrivateKey,
    coins: Sequence[Coin],
    outputs: Sequence[tuple[bytes, int]],
    *,
    sequence: int = SEQUENCE_FINAL,
    lock_time: int = 0,
) -> Tx:
    """A transaction spending `coins` (all `owner`'s) to `(script, value)` outputs, signed."""
    vin = tuple(TxIn(outpoint, b"", sequence) for outpoint, _ in coins)
    vout = tuple(TxOut(value, script) for script, value in outputs)
    unsigned = Tx(2, vin, vout, lock_time)
    return sign_inputs(unsigned, [(owner, out) for _, out in coins])


def pay(
    owner: coincurve.PrivateKey,
    coin: Coin,
    to_script: bytes,
    fee: int,
    *,
    sequence: int = SEQUENCE_FINAL,
) -> Tx:
    """All of `coin` but `fee` to `to_script`."""
    return spend(owner, [coin], [(to_script, coin[1].value - fee)], sequence=sequence)


def connected(update: object, *blocks: Block) -> ChainUpdate:
    """`update` as a ChainUpdate that made the last of `blocks` the tip (asserted)."""
    assert isinstance(update, ChainUpdate), update
    assert update.tip_hash == blocks[-1].hash, update
    return update


def mature_node(owner: coincurve.PrivateKey, blocks: int = 101) -> tuple[Node, list[Block]]:
    """A node with `blocks` blocks paying `owner`: the first `blocks - 100` coinbases are
    spendable in the next block."""
    node = new_node()
    return node, node.generate(blocks, p2wpkh(owner), T0)


__all__ = [
    "COIN",
    "RBF_SEQUENCE",
    "T0",
    "Coin",
    "coinbase_coin",
    "connected",
    "key",
    "mature_node",
    "new_node",
    "output_coin",
    "p2pkh",
    "p2wpkh",
    "pay",
    "pubkey",
    "spend",
]
