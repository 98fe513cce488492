"""Transactions and blocks round-trip byte for byte, and malformed bytes fail with evidence."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btcnode.consensus.block import Block, BlockHeader, merkle_root
from btcnode.consensus.errors import SerializationError
from btcnode.consensus.hashes import sha256d
from btcnode.consensus.params import MAINNET, REGTEST
from btcnode.consensus.serialize import MAX_SIZE, ByteReader, ser_compact_size
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from tests.vectors import load_json

_bytes = st.binary(max_size=80)
_outpoint = st.builds(OutPoint, st.binary(min_size=32, max_size=32), st.integers(0, 2**32 - 1))
_txin = st.builds(
    TxIn,
    _outpoint,
    _bytes,
    st.integers(0, 2**32 - 1),
    st.lists(_bytes, max_size=3).map(tuple),
)
_txout = st.builds(TxOut, st.integers(-(2**63), 2**63 - 1), _bytes)
_tx = st.builds(
    Tx,
    st.integers(-(2**31), 2**31 - 1),
    st.lists(_txin, min_size=1, max_size=4).map(tuple),
    st.lists(_txout, max_size=4).map(tuple),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=150, deadline=None)
@given(_tx)
def test_tx_round_trips_and_ids_match_the_definitions(tx: Tx) -> None:
    raw = tx.serialize()
    decoded = Tx.deserialize(raw)
    assert decoded == tx
    assert decoded.serialize() == raw
    assert decoded.txid == sha256d(tx.serialize(with_witness=False))
    assert decoded.wtxid == sha256d(raw)
    assert decoded.weight == 3 * len(tx.serialize(with_witness=False)) + len(raw)
    # The decoder writes slots directly: every field of every value must be set, and the
    # values must hash like constructed ones.
    assert hash(decoded) == hash(tx)
    values: list[Tx | TxIn | OutPoint | TxOut] = [decoded, *decoded.vin, *decoded.vout]
    values += [txin.prevout for txin in decoded.vin]
    for value in values:
        for f in dataclasses.fields(value):
            getattr(value, f.name)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**64 - 1))
def test_compact_size_round_trips_canonically(n: int) -> None:
    encoded = ser_compact_size(n)
    assert ByteReader(encoded).read_compact_size(limit=2**64) == n


@pytest.mark.parametrize(
    ("encoded", "fragment"),
    [
        ("fdfc00", "non-canonical"),
        ("fe00ff0000", "non-canonical"),
        ("ffffffffff00000000", "non-canonical"),
        ("fe01000002", "size too large"),
        ("fd01", "truncated"),
    ],
)
def test_non_canonical_oversize_and_truncated_compact_sizes_fail(
    encoded: str, fragment: str
) -> None:
    with pytest.raises(SerializationError) as caught:
        ByteReader(bytes.fromhex(encoded)).read_compact_size()
    assert fragment in caught.value.debug
    assert caught.value.reject_reason == "decode-failed"


def test_the_size_limit_is_cores_max_size() -> None:
    assert ByteReader(ser_compact_size(MAX_SIZE)).read_compact_size() == MAX_SIZE


def _spend() -> Tx:
    return Tx(2, (TxIn(OutPoint(bytes(range(32)), 1), b"\x51"),), (TxOut(5000, b"\x51"),), 0)


def test_truncated_transactions_fail_at_every_cut() -> None:
    raw = _spend().serialize()
    for cut in range(len(raw)):
        with pytest.raises(SerializationError):
            Tx.deserialize(raw[:cut])


def test_trailing_bytes_are_refused() -> None:
    with pytest.raises(SerializationError) as caught:
        Tx.deserialize(_spend().serialize() + b"\x00")
    assert "1 trailing bytes" in caught.value.debug


def test_an_absurd_input_count_fails_before_allocating() -> None:
    raw = b"\x02\x00\x00\x00" + b"\xfe\xff\xff\xff\x01" + bytes(50)
    with pytest.raises(SerializationError) as caught:
        Tx.deserialize(raw)
    assert "needs at least" in caught.value.debug


def test_a_witness_flag_without_witness_data_is_superfluous() -> None:
    tx = _spend()
    body = tx.serialize()
    raw = body[:4] + b"\x00\x01" + body[4:-4] + b"\x00" + body[-4:]
    with pytest.raises(SerializationError) as caught:
        Tx.deserialize(raw)
    assert caught.value.debug == "Superfluous witness record"


def test_unknown_optional_data_flags_are_refused() -> None:
    tx = _spend()
    body = tx.serialize()
    raw = body[:4] + b"\x00\x02" + body[4:]
    with pytest.raises(SerializationError) as caught:
        Tx.deserialize(raw)
    assert caught.value.debug == "Unknown transaction optional data"


def test_every_vector_transaction_round_trips() -> None:
    rows = load_json("bitcoin", "tx_valid.json") + load_json("bitcoin", "tx_invalid.json")
    count = 0
    for row in rows:
        if len(row) < 3 or not isinstance(row[1], str):
            continue
        raw = bytes.fromhex(row[1])
        try:
            tx = Tx.deserialize(raw)
        except SerializationError:
            continue  # some invalid rows are undecodable on purpose
        assert tx.serialize() == raw
        count += 1
    assert count > 200


def test_genesis_blocks_hash_to_cores_values() -> None:
    assert REGTEST.genesis.header.hash_hex == (
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    )
    assert MAINNET.genesis.header.hash_hex == (
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    )
    assert MAINNET.genesis.header.merkle_root[::-1].hex() == (
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    )


def test_blocks_round_trip_and_know_their_sizes() -> None:
    genesis = MAINNET.genesis
    raw = genesis.serialize()
    assert len(raw) == 285
    decoded = Block.deserialize(raw)
    assert decoded == genesis
    assert decoded.weight == 4 * 285
    assert BlockHeader.deserialize(raw[:80]).hash == genesis.hash
    with pytest.raises(SerializationError):
        Block.deserialize(raw + b"\x00")


def test_merkle_root_flags_the_duplicate_subtree_mutation() -> None:
    leaves = [sha256d(bytes([i])) for i in range(3)]
    root, mutated = merkle_root(leaves)
    assert not mutated
    # CVE-2012-2459: repeating the last leaf of an odd list gives the same root, flagged.
    root_dup, mutated_dup = merkle_root([*leaves, leaves[-1]])
    assert root_dup == root
    assert mutated_dup
    assert merkle_root([]) == (bytes(32), False)
