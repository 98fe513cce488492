"""The DER walker, TBS surgery and PEM bundles: strict inputs, exact outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from ctlog.devcerts import DevPki
from ctlog.errors import InputError, UsageError
from ctlog.keys import LogSigningKey
from ctlog.leaf import LogEntryType, TimestampedEntry
from ctlog.sct import encode_sct_list, sign_sct
from ctlog.x509 import (
    POISON_OID,
    PRECERT_SIGNING_EKU_OID,
    SCT_LIST_OID,
    ders_to_pem,
    entry_for_chain,
    extension_value,
    pem_to_ders,
    precert_tbs,
    tbs_without_sct_list,
)
from ctlog.x509._der import children, encode_oid, encode_tlv, parse_one, read_tlv
from ctlog.x509.pemfile import load_roots, read_pem_chain, write_pem_chain
from tests.ctlog.wire.helpers import NOW_MS, custom_cert


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("", "truncated before its tag"),
        ("30", "truncated before its length"),
        ("3080", "indefinite or too long"),
        ("3084000000010000", "indefinite or too long"),
        ("308105" + "00" * 5, "not minimally encoded"),
        ("30820005" + "00" * 5, "not minimally encoded"),
        ("3082", "length is truncated"),
        ("3005" + "00" * 4, "runs 1 bytes past its end"),
        ("1f0100", "high-tag-number"),
    ],
)
def test_der_refusals(data: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        read_tlv(bytes.fromhex(data))
    assert reason in str(err.value)


@given(st.binary(max_size=300), st.sampled_from([0x04, 0x30, 0xA3]))
def test_der_round_trip(value: bytes, tag: int) -> None:
    encoded = encode_tlv(tag, value)
    tlv = parse_one(encoded, tag, "test")
    assert (tlv.tag, tlv.value, tlv.raw) == (tag, value, encoded)


def test_der_structure_checks() -> None:
    with pytest.raises(InputError, match="2 trailing bytes"):
        parse_one(bytes.fromhex("04000000"), 0x04, "value")
    with pytest.raises(InputError, match="expected DER tag 0x30, found 0x04"):
        parse_one(bytes.fromhex("0400"), 0x30, "value")
    assert [c.value for c in children(bytes.fromhex("0401aa0400"))] == [b"\xaa", b""]
    with pytest.raises(UsageError):
        encode_tlv(0x04, b"\x00" * (1 << 24))


def test_oid_encoding() -> None:
    assert encode_oid("1.3.6.1.4.1.11129.2.4.3").hex() == "2b06010401d679020403"
    assert encode_oid("2.5.29.35").hex() == "551d23"
    with pytest.raises(UsageError):
        encode_oid("1.40")


def test_tbs_surgery_matches_cryptography(pki: DevPki) -> None:
    """Removing the SCT list equals cryptography's tbs_precertificate_bytes."""
    precert = pki.issue_precert(["tbs.example"])
    sct = sign_sct(LogSigningKey.generate(), entry_for_chain_entry(precert))
    final = pki.issue_final(precert[0], encode_sct_list([sct]))[0]
    reference = x509.load_der_x509_certificate(final).tbs_precertificate_bytes
    assert tbs_without_sct_list(final) == reference == precert_tbs(precert[0])
    assert extension_value(precert[0], POISON_OID) == b"\x05\x00"  # ASN.1 NULL
    assert extension_value(precert[0], SCT_LIST_OID) is None
    with pytest.raises(InputError, match="exactly once"):
        tbs_without_sct_list(precert[0])
    with pytest.raises(InputError, match="exactly once"):
        precert_tbs(final)


def entry_for_chain_entry(chain: list[bytes]) -> TimestampedEntry:
    entry_type, signed_entry = entry_for_chain(chain)
    assert entry_type is LogEntryType.PRECERT_ENTRY
    return TimestampedEntry(NOW_MS, entry_type, signed_entry)


def test_pem_round_trip(pki: DevPki, tmp_path: Path) -> None:
    chain = pki.issue_leaf(["pem.example"])
    text = ders_to_pem(chain)
    assert all(len(line) <= 64 for line in text.decode().splitlines())
    assert pem_to_ders(b"# a comment\n" + text + b"trailing words\n") == chain
    write_pem_chain(tmp_path / "chain.pem", chain)
    assert read_pem_chain(tmp_path / "chain.pem") == chain
    write_pem_chain(tmp_path / "roots.pem", [pki.root_der])
    assert load_roots(tmp_path / "roots.pem").ders() == [pki.root_der]


@pytest.mark.parametrize(
    ("pem", "reason"),
    [
        (b"", "no PEM CERTIFICATE blocks"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PRIVATE KEY block"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n", "not terminated"),
        (b"-----END CERTIFICATE-----\n", "END without a matching BEGIN"),
        (b"-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----\n", "not valid base64"),
        (b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "is empty"),
        (
            b"-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n",
            "BEGIN inside an open",
        ),
        ("\u00e9".encode(), "not ASCII"),
    ],
)
def test_pem_refusals(pem: bytes, reason: str) -> None:
    with pytest.raises(InputError) as err:
        pem_to_ders(pem)
    assert reason in str(err.value)


def test_pem_file_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        read_pem_chain(tmp_path / "missing.pem")
    (tmp_path / "bad.pem").write_bytes(b"nothing here")
    with pytest.raises(InputError) as err:
        read_pem_chain(tmp_path / "bad.pem")
    assert str(err.value) == f"{tmp_path / 'bad.pem'}: no PEM CERTIFICATE blocks found"


def _as_certificate(tbs: bytes, template_der: bytes) -> x509.Certificate:
    """`tbs` wrapped with the template's signature fields, so `cryptography` can read it."""
    _, algorithm, signature = children(parse_one(template_der, 0x30, "certificate").value)
    return x509.load_der_x509_certificate(encode_tlv(0x30, tbs + algorithm.raw + signature.raw))


def _ca_with(pki: DevPki, *, aki: bool) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (x509.ExtendedKeyUsage([x509.ObjectIdentifier(PRECERT_SIGNING_EKU_OID)]), True),
    ]
    if aki:
        issuer_public = pki.intermediate.key.public_key()
        extensions.append(
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), False)
        )
    preca = custom_cert(
        subject="test preca",
        issuer_name=pki.intermediate.cert.subject,
        issuer_key=pki.intermediate.key,
        key=key,
        extensions=extensions,
    )
    return preca, key


def _precert_by(preca: bytes, key: ec.EllipticCurvePrivateKey, *, aki: bool) -> bytes:
    extensions: list[tuple[x509.ExtensionType, bool]] = []
    if aki:
        extensions.append(
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), True)
        )
    extensions.append((x509.PrecertPoison(), True))
    return custom_cert(
        subject="rewritten.example",
        issuer_name=x509.load_der_x509_certificate(preca).subject,
        issuer_key=key,
        key=key,
        extensions=extensions,
    )


def test_preca_aki_is_replaced_in_place(pki: DevPki) -> None:
    preca, key = _ca_with(pki, aki=True)
    precert = _precert_by(preca, key, aki=True)
    rewritten = _as_certificate(precert_tbs(precert, preca), precert)
    assert rewritten.issuer == pki.intermediate.cert.subject
    (aki,) = rewritten.extensions  # the poison is gone, the AKI kept its critical flag
    expected = x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.intermediate.key.public_key())
    assert (aki.value, aki.critical) == (expected, True)


def test_preca_aki_is_appended_or_removed(pki: DevPki) -> None:
    preca, key = _ca_with(pki, aki=True)
    appended = _as_certificate(precert_tbs(_precert_by(preca, key, aki=False), preca), preca)
    (aki,) = appended.extensions
    assert isinstance(aki.value, x509.AuthorityKeyIdentifier) and not aki.critical
    bare_preca, bare_key = _ca_with(pki, aki=False)
    precert = _precert_by(bare_preca, bare_key, aki=True)
    removed = precert_tbs(precert, bare_preca)
    assert [f.tag for f in children(parse_one(removed, 0x30, "tbs").value)][-1] != 0xA3
    assert _as_certificate(removed, precert).issuer == pki.intermediate.cert.subject


def test_poison_only_precert_drops_the_extensions_field(pki: DevPki) -> None:
    """RFC 5280 §4.1: extensions is SIZE (1..MAX), so an emptied list is left out."""
    precert = _precert_by(pki.intermediate_der, pki.intermediate.key, aki=False)
    tbs = precert_tbs(precert)
    original = children(parse_one(precert, 0x30, "cert").value)[0]
    fields = children(parse_one(tbs, 0x30, "tbs").value)
    assert [f.raw for f in fields] == [f.raw for f in children(original.value)][:-1]
    assert len(_as_certificate(tbs, precert).extensions) == 0
