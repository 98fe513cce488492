"""Parsing certificates and checking one link of a chain, with `cryptography`.

Every refusal is an `InputError` (HTTP 400) whose one-line reason names the certificate's
position in the submitted chain (0 is the leaf). `RootSet` is the log's accepted roots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ctlog.errors import InputError, UsageError
from ctlog.leaf import MAX_ASN1_CERT_BYTES
from ctlog.x509._pem import pem_to_ders
from ctlog.x509._tbs import POISON_OID, PRECERT_SIGNING_EKU_OID, spki_der

MAX_CHAIN_LENGTH = 10  # Web PKI chains are 2-5 deep; each extra link costs a signature check
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
POISON = x509.ObjectIdentifier(POISON_OID)
PRECERT_SIGNING_EKU = x509.ObjectIdentifier(PRECERT_SIGNING_EKU_OID)


def parse_certificate(
    der: bytes, position: int = 0, label: str = "certificate"
) -> x509.Certificate:
    """One DER certificate; anything else is an `InputError` naming its position."""
    if not 1 <= len(der) <= MAX_ASN1_CERT_BYTES:
        raise InputError(f"{label} {position} is {len(der)} bytes, outside 1..2^24-1")
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise InputError(f"{label} {position} is not a DER X.509 certificate: {exc}") from None


def parse_chain(ders: Sequence[bytes]) -> list[x509.Certificate]:
    """A submitted chain, leaf first: 1..MAX_CHAIN_LENGTH DER certificates."""
    if not ders:
        raise InputError("the certificate chain is empty")
    if len(ders) > MAX_CHAIN_LENGTH:
        raise InputError(f"the chain has {len(ders)} certificates, more than {MAX_CHAIN_LENGTH}")
    return [parse_certificate(der, i) for i, der in enumerate(ders)]


def ms_from_datetime(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, as CT timestamps count them (RFC 6962 §3.2)."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def iso_from_ms(ms: int) -> str:
    return (EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _extensions(cert: x509.Certificate, position: int) -> x509.Extensions:
    try:
        return cert.extensions
    except ValueError as exc:  # duplicate or malformed extensions (RFC 5280 §4.2)
        raise InputError(f"certificate {position} has invalid extensions: {exc}") from None


def has_poison(cert: x509.Certificate, position: int) -> bool:
    """RFC 6962 §3.1: the precertificate poison, which must be marked critical."""
    try:
        ext = _extensions(cert, position).get_extension_for_oid(POISON)
    except x509.ExtensionNotFound:
        return False
    if not ext.critical:
        raise InputError(f"certificate {position} has a CT poison extension not marked critical")
    return True


def is_ca(cert: x509.Certificate, position: int) -> bool:
    try:
        constraints = _extensions(cert, position).get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def is_precert_signing_cert(cert: x509.Certificate, position: int) -> bool:
    """RFC 6962 §3.1: a CA certificate carrying the Precertificate Signing EKU."""
    try:
        usage = _extensions(cert, position).get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return False
    return PRECERT_SIGNING_EKU in usage.value


def key_hash(cert_der: bytes) -> bytes:
    """RFC 6962 §3.2 issuer_key_hash: SHA-256 of the DER SubjectPublicKeyInfo as encoded."""
    return hashlib.sha256(spki_der(cert_der)).digest()


def check_issued_by(cert: x509.Certificate, issuer: x509.Certificate, position: int) -> None:
    """Certificate `position` names `issuer` as its issuer and carries its valid signature."""
    if cert.issuer != issuer.subject:
        raise InputError(
            f"certificate {position}'s issuer ({cert.issuer.rfc4514_string()}) is not the "
            f"subject of the next certificate ({issuer.subject.rfc4514_string()})"
        )
    try:
        try:
            cert.verify_directly_issued_by(issuer)
        except ValueError:
            _verify_legacy_rsa_sha1(cert, issuer, position)
    except InvalidSignature:
        raise InputError(
            f"certificate {position}'s signature does not verify under its issuer's key"
        ) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"certificate {position}'s signature cannot be checked: {exc}") from None


def _verify_legacy_rsa_sha1(
    cert: x509.Certificate, issuer: x509.Certificate, position: int
) -> None:
    """sha1WithRSAEncryption, which `verify_directly_issued_by` refuses but CT still logs."""
    key = issuer.public_key()
    hash_algorithm = cert.signature_hash_algorithm
    if not (
        isinstance(key, rsa.RSAPublicKey)
        and isinstance(cert.signature_algorithm_parameters, padding.PKCS1v15)
        and isinstance(hash_algorithm, hashes.SHA1)
    ):
        raise InputError(
            f"certificate {position} uses an unsupported signature algorithm "
            f"({cert.signature_algorithm_oid.dotted_string})"
        )
    key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hash_algorithm)


class RootSet:
    """The accepted roots of a log: looked up by DER, by subject, or by key hash."""

    __slots__ = ("_by_der", "_by_key", "_by_subject", "_ders")

    def __init__(self, ders: Iterable[bytes]) -> None:
        self._ders: list[bytes] = []
        self._by_der: dict[bytes, x509.Certificate] = {}
        self._by_subject: dict[x509.Name, list[bytes]] = {}
        self._by_key: dict[bytes, bytes] = {}
        for der in ders:
            if der in self._by_der:
                continue
            cert = parse_certificate(der, len(self._ders), "root")
            self._ders.append(der)
            self._by_der[der] = cert
            self._by_subject.setdefault(cert.subject, []).append(der)
            self._by_key.setdefault(key_hash(der), der)
        if not self._ders:
            raise UsageError("a log needs at least one accepted root")

    @classmethod
    def from_ders(cls, ders: Iterable[bytes]) -> RootSet:
        return cls(ders)

    @classmethod
    def from_pem(cls, pem: bytes) -> RootSet:
        return cls(pem_to_ders(pem))

    def __len__(self) -> int:
        return len(self._ders)

    def __contains__(self, der: object) -> bool:
        return der in self._by_der

    def __repr__(self) -> str:
        return f"<RootSet of {len(self._ders)} roots>"

    def ders(self) -> list[bytes]:
        """The roots in load order, for RFC 6962 §4.7 get-roots."""
        return list(self._ders)

    def certificate(self, der: bytes) -> x509.Certificate:
        return self._by_der[der]

    def by_subject(self, name: x509.Name) -> list[bytes]:
        return list(self._by_subject.get(name, ()))

    def by_key_hash(self, spki_sha256: bytes) -> bytes | None:
        return self._by_key.get(spki_sha256)


__all__ = [
    "MAX_CHAIN_LENGTH",
    "RootSet",
    "check_issued_by",
    "has_poison",
    "is_ca",
    "is_precert_signing_cert",
    "iso_from_ms",
    "key_hash",
    "ms_from_datetime",
    "parse_certificate",
    "parse_chain",
]
