"""A development PKI: a root, an intermediate, and the certificates a CT log is fed.

For tests, benchmarks and `make devnet` only: keys are ECDSA P-256 (fast to make and sign
with) and private keys are stored unencrypted. Time is an input (`now`); keys come from the
operating system's randomness through `cryptography`. Every chain is returned as DER, leaf
first, ending at the intermediate (the root is what the log is configured to accept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ctlog.errors import UsageError
from ctlog.x509 import PRECERT_SIGNING_EKU_OID, SCT_LIST_OID
from ctlog.x509._der import OCTET_STRING, encode_tlv
from ctlog.x509.pemfile import read_pem_chain, write_pem_chain

CA_VALIDITY = timedelta(days=3650)  # dev CAs outlive any devnet
LEAF_VALIDITY = timedelta(days=90)  # the common Web PKI leaf lifetime
BACKDATE = timedelta(hours=1)  # leaves are valid a little before `now`, as CAs issue them
ROOT_SERIAL = 1  # RFC 5280 §4.1.2.2: serials are positive and unique per issuer
PRECA_SERIAL = 3  # the intermediate issues the PreCA; its leaves count up from FIRST_SERIAL
FIRST_SERIAL = 1000
SIGNATURE_HASH = hashes.SHA256()
KEY_FILES = ("root", "intermediate", "subscriber")


@dataclass(frozen=True, slots=True)
class Issuer:
    """A CA's key with its certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "opentrust dev"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: Issuer | None,
    now: datetime,
    *,
    serial: int,
    eku: bool = False,
) -> Issuer:
    """A CA certificate; self-signed when `issuer` is None, a PreCA when `eku`."""
    signer_key = key if issuer is None else issuer.key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name) if issuer is None else issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), False
        )
    )
    if eku:  # RFC 6962 §3.1: Precertificate Signing Certificate
        usage = x509.ExtendedKeyUsage([x509.ObjectIdentifier(PRECERT_SIGNING_EKU_OID)])
        builder = builder.add_extension(usage, critical=True)
    return Issuer(key, builder.sign(signer_key, SIGNATURE_HASH))


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _read_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UsageError(f"{path} is not an ECDSA key")
    return key


class DevPki:
    """Root → intermediate, plus a Precertificate Signing Certificate made on first use."""

    __slots__ = ("_preca", "_serial", "intermediate", "now", "root", "subscriber_key")

    def __init__(
        self,
        now: datetime,
        root: Issuer,
        intermediate: Issuer,
        subscriber_key: ec.EllipticCurvePrivateKey,
    ) -> None:
        if now.tzinfo is None:
            raise UsageError("DevPki needs a timezone-aware `now`")
        self.now = now
        self.root = root
        self.intermediate = intermediate
        self.subscriber_key = subscriber_key
        self._preca: Issuer | None = None
        self._serial = FIRST_SERIAL

    @classmethod
    def create(cls, now: datetime, *, name: str = "opentrust dev") -> DevPki:
        """A fresh root and intermediate valid from a day before `now` for ten years."""
        if now.tzinfo is None:
            raise UsageError("DevPki needs a timezone-aware `now`")
        root = _ca(f"{name} root", _new_key(), None, now, serial=ROOT_SERIAL)
        intermediate = _ca(f"{name} intermediate", _new_key(), root, now, serial=ROOT_SERIAL + 1)
        return cls(now, root, intermediate, _new_key())

    @property
    def root_der(self) -> bytes:
        return self.root.der

    @property
    def intermediate_der(self) -> bytes:
        return self.intermediate.der

    @property
    def preca(self) -> Issuer:
        """The Precertificate Signing Certificate, issued by the intermediate."""
        if self._preca is None:
            self._preca = _ca(
                "precert signing",
                _new_key(),
                self.intermediate,
                self.now,
                serial=PRECA_SERIAL,
                eku=True,
            )
        return self._preca

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _issue(
        self,
        sans: Sequence[str],
        issuer: Issuer,
        not_before: datetime | None,
        not_after: datetime | None,
        *,
        poison: bool,
    ) -> bytes:
        """A leaf for `sans` signed by `issuer`, with the critical CT poison when `poison`."""
        if not sans:
            raise UsageError("a leaf certificate needs at least one DNS name")
        start = self.now - BACKDATE if not_before is None else not_before
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(sans[0]))
            .issuer_name(issuer.cert.subject)
            .public_key(self.subscriber_key.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(start)
            .not_valid_after(start + LEAF_VALIDITY if not_after is None else not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
            )
        )
        if poison:  # RFC 6962 §3.1
            builder = builder.add_extension(x509.PrecertPoison(), critical=True)
        return builder.sign(issuer.key, SIGNATURE_HASH).public_bytes(serialization.Encoding.DER)

    def issue_leaf(
        self,
        sans: Sequence[str],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> list[bytes]:
        """A certificate for add-chain: [leaf, intermediate]."""
        leaf = self._issue(sans, self.intermediate, not_before, not_after, poison=False)
        return [leaf, self.intermediate_der]

    def issue_precert(
        self,
        sans: Sequence[str],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> list[bytes]:
        """A precertificate for add-pre-chain: [precert, intermediate]."""
        precert = self._issue(sans, self.intermediate, not_before, not_after, poison=True)
        return [precert, self.intermediate_der]

    def issue_precert_via_preca(
        self,
        sans: Sequence[str],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> list[bytes]:
        """A precertificate issued by the PreCA (RFC 6962 §3.1): [precert, preca, intermediate]."""
        precert = self._issue(sans, self.preca, not_before, not_after, poison=True)
        return [precert, self.preca.der, self.intermediate_der]

    def issue_final(self, precert_der: bytes, sct_list: bytes) -> list[bytes]:
        """The certificate a precertificate promised, with `sct_list` embedded (RFC 6962 §3.3).

        The extensions keep their order; the poison's place takes the SCT list extension, and
        the issuer is the intermediate even when the PreCA signed the precertificate.
        """
        precert = x509.load_der_x509_certificate(precert_der)
        builder = (
            x509.CertificateBuilder()
            .subject_name(precert.subject)
            .issuer_name(self.intermediate.cert.subject)
            .public_key(precert.public_key())
            .serial_number(precert.serial_number)
            .not_valid_before(precert.not_valid_before_utc)
            .not_valid_after(precert.not_valid_after_utc)
        )
        sct_extension = x509.UnrecognizedExtension(
            x509.ObjectIdentifier(SCT_LIST_OID), encode_tlv(OCTET_STRING, sct_list)
        )
        issuer_key = self.intermediate.key.public_key()
        for ext in precert.extensions:
            if isinstance(ext.value, x509.PrecertPoison):
                builder = builder.add_extension(sct_extension, critical=False)
            elif isinstance(ext.value, x509.AuthorityKeyIdentifier):
                aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key)
                builder = builder.add_extension(aki, critical=ext.critical)
            else:
                builder = builder.add_extension(ext.value, critical=ext.critical)
        final = builder.sign(self.intermediate.key, SIGNATURE_HASH)
        return [final.public_bytes(serialization.Encoding.DER), self.intermediate_der]

    def save(self, directory: str | Path) -> None:
        """Write the CA certificates and all keys (unencrypted: dev only) to `directory`."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        write_pem_chain(folder / "root.pem", [self.root_der])
        write_pem_chain(folder / "intermediate.pem", [self.intermediate_der])
        keys = (self.root.key, self.intermediate.key, self.subscriber_key)
        for stem, key in zip(KEY_FILES, keys, strict=True):
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            (folder / f"{stem}-key.pem").write_bytes(pem)

    @classmethod
    def load(cls, directory: str | Path, now: datetime) -> DevPki:
        """A PKI written by `save`."""
        folder = Path(directory)
        keys = [_read_key(folder / f"{stem}-key.pem") for stem in KEY_FILES]
        root_cert, inter_cert = (
            x509.load_der_x509_certificate(read_pem_chain(folder / f"{stem}.pem")[0])
            for stem in KEY_FILES[:2]
        )
        return cls(now, Issuer(keys[0], root_cert), Issuer(keys[1], inter_cert), keys[2])


__all__ = [
    "DevPki",
    "Issuer",
    "read_pem_chain",
    "write_pem_chain",
]
