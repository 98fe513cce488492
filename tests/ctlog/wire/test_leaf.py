"""Log entry wire types: exact layouts, round trips, and strict decoding."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctlog.errors import InputError, UsageError
from ctlog.leaf import (
    MAX_TILE_ENTRIES,
    LogEntryType,
    MerkleTreeLeaf,
    PreCert,
    TileLeaf,
    TimestampedEntry,
    chain_fingerprints,
    decode_extra_data,
    decode_leaf_index_extension,
    encode_extra_data,
    encode_leaf_index_extension,
    parse_ct_extensions,
    parse_data_tile,
)

certs = st.binary(min_size=1, max_size=64)
precerts = st.builds(PreCert, st.binary(min_size=32, max_size=32), certs)
timestamps = st.integers(0, (1 << 64) - 1)
extensions = st.binary(max_size=24)


@st.composite
def entries(draw: st.DrawFn) -> TimestampedEntry:
    if draw(st.booleans()):
        return TimestampedEntry(
            draw(timestamps), LogEntryType.X509_ENTRY, draw(certs), draw(extensions)
        )
    return TimestampedEntry(
        draw(timestamps), LogEntryType.PRECERT_ENTRY, draw(precerts), draw(extensions)
    )


@st.composite
def tile_leaves(draw: st.DrawFn) -> TileLeaf:
    entry = draw(entries())
    pre = draw(certs) if entry.entry_type is LogEntryType.PRECERT_ENTRY else b""
    fingerprints = draw(st.lists(st.binary(min_size=32, max_size=32), max_size=4))
    return TileLeaf(entry, pre, tuple(fingerprints))


X509 = TimestampedEntry(0x0102030405060708, LogEntryType.X509_ENTRY, b"\xaa\xbb", b"\xee")
PRE = TimestampedEntry(7, LogEntryType.PRECERT_ENTRY, PreCert(b"\x11" * 32, b"\xcc"))


def test_x509_leaf_layout() -> None:
    """RFC 6962 §3.4: version, leaf_type, timestamp, entry_type, ASN.1Cert<3>, extensions<2>."""
    expected = bytes.fromhex("000001020304050607080000000002aabb0001ee")
    leaf = MerkleTreeLeaf(X509)
    assert leaf.serialize() == expected
    assert leaf.leaf_hash() == hashlib.sha256(b"\x00" + expected).digest()


def test_precert_leaf_layout() -> None:
    """RFC 6962 §3.2: PreCert is issuer_key_hash[32] then TBSCertificate<3>."""
    expected = bytes.fromhex("000000000000000000070001") + b"\x11" * 32
    expected += bytes.fromhex("000001cc0000")
    assert MerkleTreeLeaf(PRE).serialize() == expected


@given(entries())
def test_leaf_round_trip(entry: TimestampedEntry) -> None:
    leaf = MerkleTreeLeaf(entry)
    assert MerkleTreeLeaf.deserialize(leaf.serialize()) == leaf
    assert TimestampedEntry.deserialize(entry.serialize()) == entry
    assert eval(repr(leaf)) == leaf  # repr is a constructor expression


@given(entries())
def test_every_truncation_is_refused(entry: TimestampedEntry) -> None:
    data = MerkleTreeLeaf(entry).serialize()
    for cut in range(len(data)):
        with pytest.raises(InputError):
            MerkleTreeLeaf.deserialize(data[:cut])


def test_trailing_bytes_are_refused() -> None:
    with pytest.raises(InputError) as err:
        MerkleTreeLeaf.deserialize(MerkleTreeLeaf(X509).serialize() + b"\x00")
    assert str(err.value) == "MerkleTreeLeaf has 1 trailing bytes"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("010000000000000000000000000001000000", "version 1 is not v1"),
        ("000100000000000000000000000001000000", "leaf_type 1 is not"),
        ("000000000000000000000002000001000000", "unknown log entry type 2"),
        ("0000000000000000000000000000000000", "vector length 0 outside <1.."),
        ("000000000000000000000000ffffff", "truncated"),
    ],
)
def test_malformed_leaves(data: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        MerkleTreeLeaf.deserialize(bytes.fromhex(data))
    assert reason in str(err.value)


def test_constructor_checks() -> None:
    with pytest.raises(UsageError, match="issuer_key_hash"):
        PreCert(b"\x00" * 31, b"x")
    with pytest.raises(UsageError, match="signed_entry is a PreCert"):
        TimestampedEntry(0, LogEntryType.PRECERT_ENTRY, b"cert")
    with pytest.raises(UsageError, match="certificate DER"):
        TimestampedEntry(0, LogEntryType.X509_ENTRY, PRE.signed_entry)
    with pytest.raises(UsageError, match="uint64"):
        TimestampedEntry(-1, LogEntryType.X509_ENTRY, b"c")
    with pytest.raises(UsageError, match="extensions"):
        TimestampedEntry(0, LogEntryType.X509_ENTRY, b"c", b"\x00" * 0x10000)
    coerced = TimestampedEntry(0, 1, PRE.signed_entry)  # type: ignore[arg-type]
    assert coerced.entry_type is LogEntryType.PRECERT_ENTRY


@given(st.lists(certs, max_size=4))
def test_x509_extra_data_round_trip(chain: list[bytes]) -> None:
    encoded = encode_extra_data(LogEntryType.X509_ENTRY, chain)
    assert decode_extra_data(LogEntryType.X509_ENTRY, encoded) == chain


@given(st.lists(certs, min_size=1, max_size=4))
def test_precert_extra_data_round_trip(chain: list[bytes]) -> None:
    encoded = encode_extra_data(LogEntryType.PRECERT_ENTRY, chain)
    assert encoded[:3] == len(chain[0]).to_bytes(3, "big")  # pre_certificate comes first
    assert decode_extra_data(LogEntryType.PRECERT_ENTRY, encoded) == chain


def test_extra_data_strictness() -> None:
    good = encode_extra_data(LogEntryType.X509_ENTRY, [b"ab"])
    assert good == bytes.fromhex("0000050000026162")
    with pytest.raises(InputError, match="trailing"):
        decode_extra_data(LogEntryType.X509_ENTRY, good + b"\x00")
    with pytest.raises(InputError, match="truncated"):
        decode_extra_data(LogEntryType.X509_ENTRY, bytes.fromhex("0000060000026162"))
    with pytest.raises(InputError, match="outside <1"):
        decode_extra_data(LogEntryType.X509_ENTRY, bytes.fromhex("000003000000"))
    with pytest.raises(UsageError, match="starts with the precertificate"):
        encode_extra_data(LogEntryType.PRECERT_ENTRY, [])


@given(tile_leaves())
def test_tile_leaf_round_trip(leaf: TileLeaf) -> None:
    assert TileLeaf.deserialize(leaf.serialize()) == leaf
    assert leaf.merkle_tree_leaf() == MerkleTreeLeaf(leaf.timestamped_entry)


@given(st.lists(tile_leaves(), min_size=1, max_size=5))
def test_data_tile_round_trip(leaves: list[TileLeaf]) -> None:
    assert parse_data_tile(b"".join(leaf.serialize() for leaf in leaves)) == leaves


def test_tile_leaf_layout() -> None:
    """static-ct-api: entry, then pre_certificate (precert only), then fingerprints<2>."""
    fp = chain_fingerprints([b"issuer"])
    assert fp == (hashlib.sha256(b"issuer").digest(),)
    x509_leaf = TileLeaf(X509, b"", fp)
    assert x509_leaf.serialize() == X509.serialize() + b"\x00\x20" + fp[0]
    pre_leaf = TileLeaf(PRE, b"\x99", ())
    assert pre_leaf.serialize() == PRE.serialize() + b"\x00\x00\x01\x99" + b"\x00\x00"


def test_data_tile_strictness() -> None:
    one = TileLeaf(X509, b"", ()).serialize()
    with pytest.raises(InputError, match="empty"):
        parse_data_tile(b"")
    with pytest.raises(InputError, match=f"more than {MAX_TILE_ENTRIES}"):
        parse_data_tile(one * (MAX_TILE_ENTRIES + 1))
    assert len(parse_data_tile(one * MAX_TILE_ENTRIES)) == MAX_TILE_ENTRIES
    with pytest.raises(InputError, match="not 32"):
        parse_data_tile(X509.serialize() + b"\x00\x1f" + b"\x00" * 31)
    with pytest.raises(InputError, match="truncated"):
        parse_data_tile(one + one[:-1])
    with pytest.raises(UsageError, match="no pre_certificate"):
        TileLeaf(X509, b"\x01", ())


@given(st.integers(0, (1 << 40) - 1))
def test_leaf_index_extension(index: int) -> None:
    encoded = encode_leaf_index_extension(index)
    assert len(encoded) == 8  # static-ct-api: "the total length ... is 8 bytes"
    assert encoded[:3] == b"\x00\x00\x05"
    assert decode_leaf_index_extension(encoded) == index


def test_leaf_index_extension_errors() -> None:
    with pytest.raises(UsageError, match="40 bits"):
        encode_leaf_index_extension(1 << 40)
    with pytest.raises(InputError, match="no leaf_index"):
        decode_leaf_index_extension(b"")
    with pytest.raises(InputError, match="repeats extension type 0"):
        decode_leaf_index_extension(encode_leaf_index_extension(1) * 2)
    with pytest.raises(InputError, match="4 bytes, not 5"):
        decode_leaf_index_extension(bytes.fromhex("00000400000001"))
    other = bytes.fromhex("070001ff")
    assert parse_ct_extensions(other + encode_leaf_index_extension(9)) == {
        7: b"\xff",
        0: b"\x00\x00\x00\x00\x09",
    }
    assert decode_leaf_index_extension(other + encode_leaf_index_extension(9)) == 9
