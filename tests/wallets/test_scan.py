"""`scan_block` against a naive reference written straight from what a wallet must find:
every output paying one of its scripts, every input spending one of its coins (including a
coin created earlier in the same block)."""

from __future__ import annotations

import random

import pytest

from btcnode.consensus.block import Block, BlockHeader
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from wallets.scan import TxMatch, scan_block, scan_tx

SEEDS = range(8)


def _bytes(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


def _random_block(rng: random.Random, wallet: list[bytes], coins: list[OutPoint]) -> Block:
    """Transactions paying and spending at random: some outputs to wallet scripts, some
    inputs spending wallet coins or outputs of earlier transactions of the block."""
    txs: list[Tx] = []
    earlier: list[OutPoint] = []
    for _ in range(rng.randrange(1, 40)):
        vin = []
        for _ in range(rng.randrange(1, 4)):
            pick = rng.random()
            if pick < 0.1 and coins:
                prevout = rng.choice(coins)
            elif pick < 0.3 and earlier:
                prevout = rng.choice(earlier)
            else:
                prevout = OutPoint(_bytes(rng, 32), rng.randrange(3))
            vin.append(TxIn(prevout, b"", 0xFFFFFFFD, (_bytes(rng, 71), _bytes(rng, 33))))
        vout = []
        for _ in range(rng.randrange(1, 4)):
            script = rng.choice(wallet) if rng.random() < 0.15 else b"\x00\x14" + _bytes(rng, 20)
            vout.append(TxOut(rng.randrange(1, 10**8), script))
        tx = Tx(2, tuple(vin), tuple(vout), 0)
        txs.append(tx)
        earlier.extend(OutPoint(tx.txid, n) for n in range(len(vout)))
    header = BlockHeader(1, _bytes(rng, 32), _bytes(rng, 32), 1_700_000_000, 0x207FFFFF, 7)
    return Block(header, tuple(txs))


def _reference(block: Block, scripts: set[bytes], coins: set[OutPoint]) -> list[TxMatch]:
    """Naive: walk the block keeping every wallet output found so far as a wallet coin."""
    watched = set(coins)
    matches = []
    for position, tx in enumerate(block.txs):
        received = tuple(n for n in range(len(tx.vout)) if tx.vout[n].script_pubkey in scripts)
        spent = tuple(n for n in range(len(tx.vin)) if tx.vin[n].prevout in watched)
        for n in received:
            watched.add(OutPoint(tx.txid, n))
        if received or spent:
            matches.append(TxMatch(tx, position, received, spent))
    return matches


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed={s}" for s in SEEDS])
def test_scan_block_finds_what_the_reference_finds(seed: int) -> None:
    rng = random.Random(seed)
    wallet = [b"\x00\x14" + _bytes(rng, 20) for _ in range(5)]
    coins = [OutPoint(_bytes(rng, 32), rng.randrange(2)) for _ in range(5)]
    block = _random_block(rng, wallet, coins)
    match = scan_block(block.serialize(), set(wallet), set(coins))
    expected = _reference(block, set(wallet), set(coins))
    assert expected  # the random block does touch the wallet
    assert list(match.matches) == expected
    assert (match.block_hash, match.prev_hash, match.time, match.tx_count) == (
        block.hash,
        block.header.prev_block,
        block.header.time,
        len(block.txs),
    )


def test_a_spend_of_an_output_paid_earlier_in_the_block_is_found() -> None:
    wallet_script = b"\x00\x14" + bytes(range(20))
    pay = Tx(2, (TxIn(OutPoint(b"\x01" * 32, 0), b"", 0),), (TxOut(1000, wallet_script),), 0)
    spend = Tx(2, (TxIn(OutPoint(pay.txid, 0), b"", 0),), (TxOut(900, b"\x51"),), 0)
    block = Block(BlockHeader(1, bytes(32), bytes(32), 0, 0x207FFFFF, 0), (pay, spend))
    match = scan_block(block.serialize(), {wallet_script}, set())
    assert [(m.tx.txid, m.received, m.spent) for m in match.matches] == [
        (pay.txid, (0,), ()),
        (spend.txid, (), (0,)),
    ]
    assert match.matches[0].received_scripts == [wallet_script]


def test_scan_tx_is_none_for_a_stranger_and_names_indices_otherwise() -> None:
    mine = b"\x00\x14" + b"\x02" * 20
    coin = OutPoint(b"\x03" * 32, 1)
    tx = Tx(
        2,
        (TxIn(OutPoint(b"\x04" * 32, 0), b"", 0), TxIn(coin, b"", 0)),
        (TxOut(5, b"\x51"), TxOut(6, mine)),
        0,
    )
    assert scan_tx(tx, set(), set()) is None
    assert scan_tx(tx, {mine}, {coin}, position=4) == TxMatch(tx, 4, (1,), (1,))


def test_a_truncated_block_is_refused() -> None:
    from btcnode.consensus.errors import SerializationError

    tx = Tx(2, (TxIn(OutPoint(b"\x01" * 32, 0), b"", 0),), (TxOut(1, b"\x51"),), 0)
    raw = Block(BlockHeader(1, bytes(32), bytes(32), 0, 0x207FFFFF, 0), (tx,)).serialize()
    with pytest.raises(SerializationError):
        scan_block(raw[:-3], set(), set())
