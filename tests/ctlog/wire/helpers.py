"""Shared pieces of the wire tests: a fixed clock, the dev PKI, and odd certificates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ctlog.x509 import ms_from_datetime

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW_MS = ms_from_datetime(NOW)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def custom_cert(
    *,
    subject: str,
    issuer_name: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    not_before: datetime = NOW - timedelta(days=1),
    not_after: datetime = NOW + timedelta(days=30),
    serial: int = 4242,
) -> bytes:
    """A certificate with exactly the given extensions, for the refusals a CA would not make."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return der(builder.sign(issuer_key, hashes.SHA256()))


def flip_last_byte(data: bytes) -> bytes:
    """A certificate whose signature no longer verifies (the last byte is in the signature)."""
    return data[:-1] + bytes([data[-1] ^ 0x01])
