"""Log keys: ECDSA P-256 with SHA-256, the algorithm RFC 6962 logs use in practice.

`LogPublicKey` is what verifiers hold; its `log_id` is SHA-256 of the DER
SubjectPublicKeyInfo (RFC 6962 §3.2). `LogSigningKey` holds the private key; its repr never
shows key material.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ctlog.errors import InputError, SignatureError
from ctlog.tls import DigitallySigned, HashAlgorithm, SignatureAlgorithm


@dataclass(frozen=True, slots=True)
class LogPublicKey:
    """A log's public key, identified by its DER SubjectPublicKeyInfo."""

    spki_der: bytes
    _key: ec.EllipticCurvePublicKey = field(repr=False, compare=False)

    @classmethod
    def from_der(cls, spki_der: bytes) -> LogPublicKey:
        try:
            key = serialization.load_der_public_key(spki_der)
        except ValueError as exc:
            raise InputError(f"not a DER SubjectPublicKeyInfo: {exc}") from exc
        return cls._checked(key)

    @classmethod
    def from_pem(cls, pem: bytes) -> LogPublicKey:
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError as exc:
            raise InputError(f"not a PEM public key: {exc}") from exc
        return cls._checked(key)

    @classmethod
    def _checked(cls, key: object) -> LogPublicKey:
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise InputError("log keys must be ECDSA P-256")
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(der, key)

    @property
    def log_id(self) -> bytes:
        """RFC 6962 §3.2: SHA-256 of the DER SubjectPublicKeyInfo."""
        return hashlib.sha256(self.spki_der).digest()

    def to_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify(self, data: bytes, signed: DigitallySigned, what: str) -> None:
        """Raise `SignatureError` unless `signed` is this key's ECDSA/SHA-256 over `data`."""
        if (signed.hash_algorithm, signed.signature_algorithm) != (
            HashAlgorithm.SHA256,
            SignatureAlgorithm.ECDSA,
        ):
            raise SignatureError(
                f"{what} uses algorithms ({signed.hash_algorithm}, "
                f"{signed.signature_algorithm}), not ECDSA with SHA-256",
                evidence={"log_id": self.log_id.hex()},
            )
        try:
            self._key.verify(signed.signature, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise SignatureError(
                f"{what} signature does not verify under log {self.log_id.hex()}",
                evidence={"log_id": self.log_id.hex(), "signed_data": data.hex()},
            ) from None


@dataclass(frozen=True, slots=True)
class LogSigningKey:
    """A log's private key. Never printed: the repr shows only the public log id."""

    _key: ec.EllipticCurvePrivateKey = field(repr=False, compare=False)
    public: LogPublicKey

    @classmethod
    def generate(cls) -> LogSigningKey:
        return cls._wrap(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes) -> LogSigningKey:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise InputError(f"not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise InputError("log keys must be ECDSA P-256")
        return cls._wrap(key)

    @classmethod
    def _wrap(cls, key: ec.EllipticCurvePrivateKey) -> LogSigningKey:
        if key.curve.name != "secp256r1":
            raise InputError("log keys must be ECDSA P-256")
        return cls(key, LogPublicKey._checked(key.public_key()))

    def to_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, data: bytes) -> DigitallySigned:
        signature = self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        return DigitallySigned(HashAlgorithm.SHA256, SignatureAlgorithm.ECDSA, signature)


__all__ = ["LogPublicKey", "LogSigningKey"]
