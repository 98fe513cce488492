"""SCTs: layout, JSON, lists, signing and verifying, embedded SCTs from the dev PKI."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctlog.devcerts import DevPki
from ctlog.errors import InputError, SignatureError, UsageError
from ctlog.keys import LogSigningKey
from ctlog.leaf import LogEntryType, PreCert, TimestampedEntry, encode_leaf_index_extension
from ctlog.sct import (
    SignedCertificateTimestamp,
    embedded_scts,
    encode_sct_list,
    load_sct,
    parse_sct_list,
    sct_signed_data,
    sign_sct,
    verify_chain_scts,
    verify_sct,
)
from ctlog.tls import DigitallySigned
from ctlog.x509 import RootSet, validate_chain
from tests.ctlog.wire.helpers import NOW_MS

SIG = DigitallySigned(4, 3, b"\x30\x06\x02\x01\x01\x02\x01\x01")
scts = st.builds(
    SignedCertificateTimestamp,
    st.just(0),
    st.binary(min_size=32, max_size=32),
    st.integers(0, (1 << 64) - 1),
    st.binary(max_size=16),
    st.builds(DigitallySigned, st.just(4), st.just(3), st.binary(max_size=80)),
)
ENTRY = TimestampedEntry(5, LogEntryType.X509_ENTRY, b"\xde\xad", b"")


def test_sct_layout() -> None:
    """RFC 6962 §3.2: version, id[32], timestamp, extensions<2>, digitally-signed."""
    sct = SignedCertificateTimestamp(0, b"\x01" * 32, 9, b"\xab", SIG)
    expected = b"\x00" + b"\x01" * 32 + (9).to_bytes(8, "big") + b"\x00\x01\xab"
    assert sct.serialize() == expected + b"\x04\x03\x00\x08" + SIG.signature


def test_signed_data_layout() -> None:
    """RFC 6962 §3.2: version, signature_type 0, timestamp, entry_type, entry, extensions."""
    x509_data = sct_signed_data(0, 5, ENTRY)
    assert x509_data == bytes.fromhex("000000000000000000050000000002dead0000")
    pre = TimestampedEntry(5, LogEntryType.PRECERT_ENTRY, PreCert(b"\x22" * 32, b"\x33"))
    pre_data = sct_signed_data(0, 6, pre, extensions=b"\x44")
    expected = bytes.fromhex("000000000000000000060001") + b"\x22" * 32
    assert pre_data == expected + bytes.fromhex("00000133000144")


@given(scts)
def test_sct_round_trip(sct: SignedCertificateTimestamp) -> None:
    assert SignedCertificateTimestamp.deserialize(sct.serialize()) == sct
    assert SignedCertificateTimestamp.from_json(sct.to_json()) == sct
    assert load_sct(json.dumps(sct.to_json()).encode()) == sct
    assert load_sct(sct.serialize()) == sct


@given(st.lists(scts, min_size=1, max_size=4))
def test_sct_list_round_trip(items: list[SignedCertificateTimestamp]) -> None:
    assert parse_sct_list(encode_sct_list(items)) == items


def test_sct_strictness() -> None:
    data = SignedCertificateTimestamp(0, b"\x01" * 32, 9, b"", SIG).serialize()
    for cut in range(len(data)):
        with pytest.raises(InputError):
            SignedCertificateTimestamp.deserialize(data[:cut])
    with pytest.raises(InputError, match="1 trailing bytes"):
        SignedCertificateTimestamp.deserialize(data + b"\x00")
    with pytest.raises(InputError, match="SCT version 1 is not v1"):
        SignedCertificateTimestamp.deserialize(b"\x01" + data[1:])
    with pytest.raises(UsageError, match="log_id"):
        SignedCertificateTimestamp(0, b"\x01" * 31, 9, b"", SIG)


def _tls_list(*serialized: bytes) -> bytes:
    """A SignedCertificateTimestampList around already-serialized SCTs."""
    body = b"".join(len(item).to_bytes(2, "big") + item for item in serialized)
    return len(body).to_bytes(2, "big") + body


def test_sct_list_strictness() -> None:
    one = SignedCertificateTimestamp(0, b"\x01" * 32, 9, b"", SIG).serialize()
    assert encode_sct_list([SignedCertificateTimestamp.deserialize(one)]) == _tls_list(one)
    with pytest.raises(InputError, match="trailing"):
        parse_sct_list(_tls_list(one) + b"\x00")
    with pytest.raises(InputError, match="outside <1"):
        parse_sct_list(b"\x00\x00")
    with pytest.raises(InputError, match="outside <1"):
        parse_sct_list(_tls_list(b""))
    with pytest.raises(InputError, match="SignedCertificateTimestamp has 1 trailing"):
        parse_sct_list(_tls_list(one + b"\x00"))
    with pytest.raises(UsageError, match="at least one"):
        encode_sct_list([])
    # RFC 6962 §3.3: SCTs of unknown versions are skipped, not fatal.
    assert [s.serialize() for s in parse_sct_list(_tls_list(b"\x01" + b"\x00" * 10, one))] == [one]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sct_version": 1}, "sct_version 1 is not v1"),
        ({"sct_version": False}, "is not v1"),
        ({"id": base64.b64encode(b"\x00" * 31).decode()}, "31 bytes, not 32"),
        ({"id": "not base64!"}, "id is not valid base64"),
        ({"timestamp": -1}, "timestamp must be an integer"),
        ({"timestamp": 1.5}, "timestamp must be an integer"),
        ({"signature": base64.b64encode(b"\x04\x03\x00\x05ab").decode()}, "truncated"),
    ],
)
def test_sct_json_refusals(change: dict[str, object], reason: str) -> None:
    obj = SignedCertificateTimestamp(0, b"\x01" * 32, 9, b"", SIG).to_json()
    obj.update(change)
    with pytest.raises(InputError) as err:
        SignedCertificateTimestamp.from_json(obj)
    assert reason in str(err.value)


def test_sct_json_needs_every_field() -> None:
    obj = SignedCertificateTimestamp(0, b"\x01" * 32, 9, b"", SIG).to_json()
    del obj["extensions"]
    with pytest.raises(InputError, match="SCT lacks extensions"):
        SignedCertificateTimestamp.from_json(obj)
    with pytest.raises(InputError, match="JSON object"):
        SignedCertificateTimestamp.from_json([])
    with pytest.raises(InputError, match="does not parse"):
        load_sct(b"{not json")


def test_sct_file_json_is_strict() -> None:
    """An SCT file goes through the strict JSON decoder: no repeated keys, no NaN."""
    text = json.dumps(SignedCertificateTimestamp(0, b"\x01" * 32, 9, b"", SIG).to_json())
    with pytest.raises(InputError, match="duplicate key 'timestamp'"):
        load_sct((text[:-1] + ', "timestamp": 10}').encode())
    with pytest.raises(InputError, match="NaN is not JSON"):
        load_sct(text.replace('"timestamp": 9', '"timestamp": NaN').encode())


def test_sign_and_verify(log_key: LogSigningKey) -> None:
    entry = dataclasses.replace(ENTRY, extensions=encode_leaf_index_extension(3))
    sct = sign_sct(log_key, entry)
    assert (sct.log_id, sct.timestamp, sct.extensions) == (
        log_key.public.log_id,
        entry.timestamp,
        entry.extensions,
    )
    verify_sct(sct, log_key.public, entry)
    for tampered in (
        dataclasses.replace(sct, timestamp=sct.timestamp + 1),
        dataclasses.replace(sct, extensions=encode_leaf_index_extension(4)),
    ):
        with pytest.raises(SignatureError) as err:
            verify_sct(tampered, log_key.public, entry)
        assert err.value.evidence["log_id"] == log_key.public.log_id.hex()
    with pytest.raises(SignatureError):
        verify_sct(sct, log_key.public, dataclasses.replace(entry, signed_entry=b"\xde\xae"))


def test_verify_checks_log_id(log_key: LogSigningKey) -> None:
    other = LogSigningKey.generate()
    sct = sign_sct(other, ENTRY)
    with pytest.raises(SignatureError) as err:
        verify_sct(sct, log_key.public, ENTRY)
    assert err.value.evidence == {
        "sct_log_id": other.public.log_id.hex(),
        "key_log_id": log_key.public.log_id.hex(),
    }


def test_embedded_round_trip(pki: DevPki, roots: RootSet, log_key: LogSigningKey) -> None:
    """Precert → SCT → final certificate with the SCT → the embedded SCT verifies."""
    other_log = LogSigningKey.generate()
    for precert_chain in (
        pki.issue_precert(["embedded.example"]),
        pki.issue_precert_via_preca(["preca.example"]),
    ):
        accepted = validate_chain(precert_chain, roots, now_ms=NOW_MS, precert=True)
        ours = sign_sct(log_key, accepted.timestamped_entry(NOW_MS))
        theirs = sign_sct(other_log, accepted.timestamped_entry(NOW_MS + 1))
        final = pki.issue_final(precert_chain[0], encode_sct_list([theirs, ours]))
        assert embedded_scts(final[0]) == [theirs, ours]
        assert verify_chain_scts(final, log_key.public) == [ours]
        assert verify_chain_scts(precert_chain, log_key.public, ours) == [ours]


def test_chain_sct_refusals(pki: DevPki, log_key: LogSigningKey) -> None:
    leaf_chain = pki.issue_leaf(["plain.example"])
    with pytest.raises(InputError, match="no embedded SCTs"):
        verify_chain_scts(leaf_chain, log_key.public)
    with pytest.raises(InputError, match="needs the issuer"):
        verify_chain_scts(leaf_chain[:1], log_key.public)
    precert_chain = pki.issue_precert(["other.example"])
    other_sct = sign_sct(
        LogSigningKey.generate(), TimestampedEntry(1, LogEntryType.X509_ENTRY, leaf_chain[0])
    )
    final = pki.issue_final(precert_chain[0], encode_sct_list([other_sct]))
    with pytest.raises(InputError, match="embeds 1 SCTs, none from log"):
        verify_chain_scts(final, log_key.public)
    x509_sct = sign_sct(log_key, TimestampedEntry(NOW_MS, LogEntryType.X509_ENTRY, leaf_chain[0]))
    assert verify_chain_scts(leaf_chain, log_key.public, x509_sct) == [x509_sct]
    with pytest.raises(SignatureError):  # an x509 SCT is not valid for another certificate
        verify_chain_scts(final, log_key.public, x509_sct)
    with pytest.raises(InputError, match=r"not a DER X\.509"):
        embedded_scts(b"\x30\x03\x02\x01\x01")
