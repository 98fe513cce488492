"""Coin, undo and index encodings: Core's VARINT and amount vectors, round trips, corruption."""

from __future__ import annotations

import pytest

from btcnode.chain.encoding import (
    CorruptChainstate,
    compress_amount,
    compress_script,
    decode_block_undo,
    decode_coin,
    decompress_amount,
    encode_block_undo,
    encode_coin,
    read_compressed_script,
    read_varint,
    ser_varint,
)
from btcnode.chain.layout import IndexRecord, coin_key, index_key, outpoint_of_coin_key
from btcnode.consensus.coins import Coin
from btcnode.consensus.errors import SerializationError
from btcnode.consensus.params import COIN, MAX_MONEY, REGTEST
from btcnode.consensus.serialize import ByteReader
from btcnode.consensus.tx import OutPoint, TxOut

# Core's serialize_tests.cpp, varint_bitpatterns.
VARINT_VECTORS = [
    (0, "00"),
    (0x7F, "7f"),
    (0x80, "8000"),
    (0x1234, "a334"),
    (0xFFFF, "82fe7f"),
    (0x123456, "c7e756"),
    (0x80123456, "86ffc7e756"),
    (0xFFFFFFFF, "8efefefe7f"),
    (0x7FFFFFFFFFFFFFFF, "fefefefefefefefe7f"),
    (0xFFFFFFFFFFFFFFFF, "80fefefefefefefefe7f"),
]

# Core's compress_tests.cpp.
AMOUNT_VECTORS = [
    (0, 0x0),
    (1, 0x1),
    (1_000_000, 0x7),  # CENT
    (COIN, 0x9),
    (50 * COIN, 0x32),
    (21_000_000 * COIN, 0x1406F40),
]

P2PKH = bytes.fromhex("76a914") + bytes(range(20)) + bytes.fromhex("88ac")
P2SH = bytes.fromhex("a914") + bytes(range(20)) + b"\x87"
P2PK = b"\x21\x02" + bytes(range(32)) + b"\xac"
P2WPKH = b"\x00\x14" + bytes(range(20))


@pytest.mark.parametrize(("value", "hex_bytes"), VARINT_VECTORS, ids=[v[1] for v in VARINT_VECTORS])
def test_varint_matches_core(value: int, hex_bytes: str) -> None:
    assert ser_varint(value).hex() == hex_bytes
    reader = ByteReader(bytes.fromhex(hex_bytes))
    assert read_varint(reader) == value
    reader.finish()


def test_varint_refuses_values_past_64_bits() -> None:
    with pytest.raises(SerializationError) as info:
        read_varint(ByteReader(bytes.fromhex("80fefefefefefefefeff00")))
    assert info.value.debug == "ReadVarInt(): size too large"


def test_varint_round_trips_every_width() -> None:
    for value in [2**k + d for k in range(64) for d in (-1, 0, 1) if 0 <= 2**k + d < 2**64]:
        assert read_varint(ByteReader(ser_varint(value))) == value


def _core_write_varint(n: int) -> bytes:
    """Core's WriteVarInt loop, written out: the reference for the unrolled short forms."""
    out = [n & 0x7F]
    while n > 0x7F:
        n = (n >> 7) - 1
        out.append((n & 0x7F) | 0x80)
    return bytes(reversed(out))


def test_varint_short_forms_match_the_general_loop_at_every_length_boundary() -> None:
    edges = [0x7F, 0x80, 0x407F, 0x4080, 0x20407F, 0x204080, 0x1020407F, 0x10204080]
    values = [edge + d for edge in edges for d in (-2, -1, 0, 1, 2)]
    values += list(range(0x4000, 0x4200)) + list(range(0x204000, 0x204200))
    for value in values:
        assert ser_varint(value) == _core_write_varint(value), value


@pytest.mark.parametrize(("amount", "compressed"), AMOUNT_VECTORS)
def test_amount_compression_matches_core(amount: int, compressed: int) -> None:
    assert compress_amount(amount) == compressed
    assert decompress_amount(compressed) == amount


def test_amount_compression_round_trips() -> None:
    samples = [1, 9, 10, 11, 99, 100, 12345678, COIN - 1, COIN + 1, MAX_MONEY, 10**9, 10**10]
    for amount in samples + list(range(0, 100_000, 997)):
        assert decompress_amount(compress_amount(amount)) == amount


@pytest.mark.parametrize(
    ("script", "size"),
    [(P2PKH, 21), (P2SH, 21), (P2PK, 33), (P2WPKH, 23), (b"", 1), (b"\x51", 2)],
    ids=["p2pkh", "p2sh", "p2pk", "p2wpkh", "empty", "op_true"],
)
def test_scripts_compress_to_core_sizes_and_back(script: bytes, size: int) -> None:
    compressed = compress_script(script)
    assert len(compressed) == size
    reader = ByteReader(compressed)
    assert read_compressed_script(reader) == script
    reader.finish()


def test_coin_round_trip_keeps_height_and_coinbase_flag() -> None:
    for coin in (
        Coin(TxOut(50 * COIN, P2PKH), 0, True),
        Coin(TxOut(1, P2WPKH), 123_456, False),
        Coin(TxOut(0, b""), 7, True),
    ):
        assert decode_coin(encode_coin(coin)) == coin


def test_coin_encoding_is_cores() -> None:
    # Core's coins_tests "ccoins_serialization": height 203998, not coinbase, 60000000000 sat
    # to a P2PKH key hash.
    raw = bytes.fromhex("97f23c835800816115944e077fe7c803cfa57f29b36bf87c1d35")
    coin = decode_coin(raw)
    assert (coin.height, coin.is_coinbase, coin.out.value) == (203998, False, 60_000_000_000)
    assert coin.out.script_pubkey == bytes.fromhex(
        "76a914816115944e077fe7c803cfa57f29b36bf87c1d3588ac"
    )
    assert encode_coin(coin) == raw


@pytest.mark.parametrize(
    "raw",
    ["", "00", "0000", "000000", "0004" + "00" * 32, "00" + "06" + "ff"],
    ids=["empty", "no-amount", "no-script", "short-p2pkh", "type-4", "truncated-raw"],
)
def test_corrupt_coins_raise_corrupt_chainstate(raw: str) -> None:
    with pytest.raises(CorruptChainstate):
        decode_coin(bytes.fromhex(raw))


def test_trailing_bytes_after_a_coin_are_corruption() -> None:
    with pytest.raises(CorruptChainstate) as info:
        decode_coin(encode_coin(Coin(TxOut(5, P2SH), 3, False)) + b"\x00")
    assert "trailing" in str(info.value)


def test_block_undo_round_trip() -> None:
    undo = (
        (Coin(TxOut(5 * COIN, P2PKH), 1, True), Coin(TxOut(7, P2WPKH), 0, False)),
        (),
        (Coin(TxOut(99, b"\x51"), 500_000, False),),
    )
    assert decode_block_undo(encode_block_undo(undo)) == undo
    assert decode_block_undo(encode_block_undo(())) == ()


def test_truncated_undo_is_corruption() -> None:
    raw = encode_block_undo(((Coin(TxOut(5, P2PKH), 9, False),),))
    for cut in range(len(raw)):
        with pytest.raises(CorruptChainstate):
            decode_block_undo(raw[:cut])


def test_coin_keys_order_by_txid_then_index() -> None:
    txid = bytes(range(32))
    keys = [coin_key(OutPoint(txid, n)) for n in (0, 1, 255, 256, 70000)]
    assert keys == sorted(keys)
    assert [outpoint_of_coin_key(k).n for k in keys] == [0, 1, 255, 256, 70000]


def test_index_record_round_trip_and_key_check() -> None:
    header = REGTEST.genesis.header
    record = IndexRecord(header, 0, 0x0D, 1)
    key = index_key(header.hash)
    assert IndexRecord.decode(key, record.encode()) == record
    with pytest.raises(CorruptChainstate):
        IndexRecord.decode(index_key(bytes(32)), record.encode())
    with pytest.raises(CorruptChainstate):
        IndexRecord.decode(key, record.encode()[:-1])
