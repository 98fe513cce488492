"""The Google CT test log (../shared/vectors/ct/testlog): leaf hashes and SCTs, byte for byte.

Cases are numbered as in expected.json, from 1. The certificates expired in 2022, so chains
are validated at the SCT's own timestamp.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ctlog.errors import InputError, SignatureError
from ctlog.keys import LogPublicKey
from ctlog.leaf import LogEntryType, MerkleTreeLeaf, PreCert
from ctlog.sct import (
    SignedCertificateTimestamp,
    embedded_scts,
    verify_chain_scts,
    verify_sct,
)
from ctlog.x509 import (
    RootSet,
    ValidatedChain,
    key_hash,
    pem_to_ders,
    precert_entry_from_final,
    precert_tbs,
    spki_der,
    tbs_without_sct_list,
    validate_chain,
)
from tests.vectors import load_json, read_bytes

# ca-cert.pem has serial number 0, which cryptography accepts with a deprecation warning.
pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number")

EXPECTED = load_json("ct", "testlog", "expected.json")
CASES: list[dict[str, Any]] = EXPECTED["cases"]


def cert(name: str) -> bytes:
    (der,) = pem_to_ders(read_bytes("ct", "testlog", name))
    return der


def chain(case: dict[str, Any]) -> list[bytes]:
    return [cert(name) for name in case["chain"]]


def proof(name: str) -> SignedCertificateTimestamp:
    return SignedCertificateTimestamp.deserialize(read_bytes("ct", "testlog", name))


@pytest.fixture(scope="module")
def key() -> LogPublicKey:
    return LogPublicKey.from_pem(read_bytes("ct", "testlog", "ct-server-key-public.pem"))


@pytest.fixture(scope="module")
def roots() -> RootSet:
    return RootSet.from_ders([cert("ca-cert.pem")])


def validated(case: dict[str, Any], roots: RootSet, timestamp: int) -> ValidatedChain:
    precert = case.get("entry_type") == "precert_entry" or case["sct"].endswith("pre-cert.proof")
    return validate_chain(chain(case), roots, now_ms=timestamp, precert=precert)


def test_log_id_is_the_key_hash(key: LogPublicKey) -> None:
    assert key.log_id.hex() == EXPECTED["log_id_hex"]


HASHED = [c for c in CASES if "merkle_leaf_hash_b64" in c]


@pytest.mark.parametrize("case", HASHED, ids=[c["sct"] for c in HASHED])
def test_leaf_hash_and_sct(case: dict[str, Any], key: LogPublicKey, roots: RootSet) -> None:
    """Cases 1 and 3: our MerkleTreeLeaf hashes as the reference log's, and the SCT verifies."""
    sct = proof(case["sct"])
    assert sct.timestamp == case["sct_timestamp"]
    assert sct.log_id.hex() == EXPECTED["log_id_hex"]
    chain_ok = validated(case, roots, sct.timestamp)
    assert chain_ok.entry_type is LogEntryType[case["entry_type"].upper()]
    entry = chain_ok.timestamped_entry(sct.timestamp)
    leaf = MerkleTreeLeaf(entry)
    assert base64.b64encode(leaf.leaf_hash()).decode() == case["merkle_leaf_hash_b64"]
    assert MerkleTreeLeaf.deserialize(leaf.serialize()) == leaf
    verify_sct(sct, key, entry)
    assert sct.serialize() == read_bytes("ct", "testlog", case["sct"])


def test_precert_entry_fields(roots: RootSet) -> None:
    """Case 3: issuer_key_hash is of ca-cert's SPKI; the TBS is the precert's minus the poison."""
    case = CASES[2]
    entry = validated(case, roots, case["sct_timestamp"]).timestamped_entry(0)
    assert isinstance(entry.signed_entry, PreCert)
    ca = x509.load_der_x509_certificate(cert("ca-cert.pem"))
    assert spki_der(cert("ca-cert.pem")) == ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert entry.signed_entry.issuer_key_hash == key_hash(cert("ca-cert.pem"))
    tbs = x509.load_der_x509_certificate(cert("test-embedded-pre-cert.pem")).tbs_certificate_bytes
    assert len(entry.signed_entry.tbs_certificate) < len(tbs)
    assert b"\x06\x0a\x2b\x06\x01\x04\x01\xd6\x79\x02\x04\x03" in tbs  # the poison's OID
    assert b"\x2b\x06\x01\x04\x01\xd6\x79\x02\x04\x03" not in entry.signed_entry.tbs_certificate


def test_replaced_timestamp_fails(key: LogPublicKey, roots: RootSet) -> None:
    """Case 2: the same SCT with another timestamp does not verify."""
    case = CASES[1]
    assert case["expect"] == "signature invalid"
    sct = dataclasses.replace(proof("test-cert.proof"), timestamp=1234567)
    entry = validate_chain(
        chain(case), roots, now_ms=sct.timestamp, precert=False, allow_expired=True
    )
    with pytest.raises(SignatureError) as err:
        verify_sct(sct, key, entry.timestamped_entry(sct.timestamp))
    assert err.value.evidence["log_id"] == EXPECTED["log_id_hex"]
    assert "signed_data" in err.value.evidence


def test_embedded_sct_verifies(key: LogPublicKey) -> None:
    """Case 4: the final certificate's embedded SCT is the precertificate's SCT."""
    final, issuer = chain(CASES[3])
    (sct,) = embedded_scts(final)
    assert sct == proof("test-embedded-pre-cert.proof")
    verify_sct(sct, key, precert_entry_from_final(final, issuer, sct.timestamp))
    assert verify_chain_scts([final, issuer], key) == [sct]


def test_final_tbs_matches_cryptography_and_the_precert() -> None:
    """RFC 6962 §3.3: the TBS without the SCT list equals the precert TBS without poison."""
    final = cert("test-embedded-cert.pem")
    reference = x509.load_der_x509_certificate(final).tbs_precertificate_bytes
    assert tbs_without_sct_list(final) == reference
    assert precert_tbs(cert("test-embedded-pre-cert.pem")) == reference


def test_invalid_embedded_sct_fails(key: LogPublicKey) -> None:
    """Case 5: an embedded SCT that the log did not sign for this certificate."""
    final, issuer = chain(CASES[4])
    with pytest.raises(SignatureError) as err:
        verify_chain_scts([final, issuer], key)
    assert err.value.evidence["log_id"] == EXPECTED["log_id_hex"]


def test_precert_signing_certificate(key: LogPublicKey, roots: RootSet) -> None:
    """Case 6: a PreCA-issued precertificate; issuer and AKI become ca-cert's (RFC 6962 §3.2)."""
    case = CASES[5]
    sct = proof(case["sct"])
    chain_ok = validated(case, roots, sct.timestamp)
    assert len(chain_ok.ders) == 3
    entry = chain_ok.timestamped_entry(sct.timestamp)
    assert isinstance(entry.signed_entry, PreCert)
    assert entry.signed_entry.issuer_key_hash == key_hash(cert("ca-cert.pem"))
    verify_sct(sct, key, entry)
    # The rewritten TBS is exactly the final certificate's TBS without its SCT list.
    final = cert("test-embedded-with-preca-cert.pem")
    assert entry.signed_entry.tbs_certificate == tbs_without_sct_list(final)
    assert verify_chain_scts([final, cert("ca-cert.pem")], key) == embedded_scts(final)
    assert verify_chain_scts(chain(case), key, sct) == [sct]


def test_preca_without_its_issuer_is_refused() -> None:
    """The PreCA's issuer decides issuer_key_hash; without it the entry cannot be built."""
    only_preca = RootSet.from_ders([cert("ca-pre-cert.pem")])
    pre = [cert("test-embedded-with-preca-pre-cert.pem"), cert("ca-pre-cert.pem")]
    with pytest.raises(InputError) as err:
        validate_chain(pre, only_preca, now_ms=1365181456475, precert=True)
    assert "certificate 1 is a precertificate signing certificate" in str(err.value)
    assert err.value.http_status == 400


def test_testlog_chains_are_expired_now(roots: RootSet) -> None:
    now_ms = 1_770_000_000_000  # 2026
    with pytest.raises(InputError) as err:
        validate_chain(chain(CASES[0]), roots, now_ms=now_ms, precert=False)
    assert str(err.value) == "certificate 0 expired at 2022-06-01T00:00:00Z"
    ok = validate_chain(chain(CASES[0]), roots, now_ms=now_ms, precert=False, allow_expired=True)
    assert ok.ders == tuple(chain(CASES[0]))
