"""Signed Certificate Timestamps: wire form (RFC 6962 §3.2), lists (§3.3), add-chain JSON (§4.1).

`SignedCertificateTimestamp` serializes to the exact TLS bytes and deserializes strictly.
`sct_signed_data` is the digitally-signed struct a log signs; `sign_sct` and `verify_sct` use
it. An SCT carries its own timestamp and extensions, so verification takes only the entry
type and signed entry from the `TimestampedEntry` it is checked against.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ctlog.errors import InputError, SignatureError, UsageError
from ctlog.keys import LogPublicKey, LogSigningKey
from ctlog.leaf import MAX_EXTENSIONS_BYTES, TimestampedEntry
from ctlog.sth import b64decode_strict, json_uint64
from ctlog.strict_json import strict_loads
from ctlog.tls import MAX_UINT64, DigitallySigned, Reader, opaque, uint
from ctlog.x509 import (
    entry_for_chain,
    parse_certificate,
    precert_entry_from_final,
    sct_list_bytes,
)

SCT_VERSION_V1 = 0  # RFC 6962 §3.2: enum { v1(0), (255) } Version
SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP = 0  # RFC 6962 §3.2: SignatureType certificate_timestamp(0)
LOG_ID_BYTES = 32  # RFC 6962 §3.2: opaque key_id[32]
MAX_SCT_LIST_BYTES = 0xFFFF  # RFC 6962 §3.3: SerializedSCT sct_list<1..2^16-1>
MAX_SERIALIZED_SCT_BYTES = 0xFFFF  # RFC 6962 §3.3: opaque SerializedSCT<1..2^16-1>
JSON_FIELDS = ("sct_version", "id", "timestamp", "extensions", "signature")  # RFC 6962 §4.1
MAX_SCT_JSON_BYTES = 256 * 1024  # an SCT's JSON: base64 of <64 KiB extensions and signature


@dataclass(frozen=True, slots=True)
class SignedCertificateTimestamp:
    """RFC 6962 §3.2 SignedCertificateTimestamp (v1)."""

    version: int
    log_id: bytes
    timestamp: int
    extensions: bytes
    signature: DigitallySigned

    def __post_init__(self) -> None:
        if self.version != SCT_VERSION_V1:
            raise UsageError(f"SCT version {self.version} is not v1")
        if len(self.log_id) != LOG_ID_BYTES:
            raise UsageError(f"log_id must be {LOG_ID_BYTES} bytes")
        if not 0 <= self.timestamp <= MAX_UINT64:
            raise UsageError("timestamp is a uint64 of milliseconds")
        if len(self.extensions) > MAX_EXTENSIONS_BYTES:
            raise UsageError(f"extensions exceed {MAX_EXTENSIONS_BYTES} bytes")

    def serialize(self) -> bytes:
        return (
            uint(self.version, 1)
            + self.log_id
            + uint(self.timestamp, 8)
            + opaque(self.extensions, 2)
            + self.signature.serialize()
        )

    @classmethod
    def read(cls, reader: Reader) -> SignedCertificateTimestamp:
        version = reader.u8()
        if version != SCT_VERSION_V1:
            raise InputError(f"SCT version {version} is not v1")
        log_id = reader.fixed(LOG_ID_BYTES)
        timestamp = reader.u64()
        extensions = reader.opaque(2, MAX_EXTENSIONS_BYTES)
        return cls(version, log_id, timestamp, extensions, DigitallySigned.read(reader))

    @classmethod
    def deserialize(cls, buf: bytes) -> SignedCertificateTimestamp:
        reader = Reader(buf, "SignedCertificateTimestamp")
        value = cls.read(reader)
        reader.finish()
        return value

    def to_json(self) -> dict[str, object]:
        """The RFC 6962 §4.1 add-chain / add-pre-chain response object."""
        return {
            "sct_version": self.version,
            "id": base64.b64encode(self.log_id).decode(),
            "timestamp": self.timestamp,
            "extensions": base64.b64encode(self.extensions).decode(),
            "signature": base64.b64encode(self.signature.serialize()).decode(),
        }

    @classmethod
    def from_json(cls, obj: object) -> SignedCertificateTimestamp:
        """Parse an add-chain response strictly: every field, canonical base64, v1 only."""
        if not isinstance(obj, Mapping):
            raise InputError("an SCT must be a JSON object")
        missing = [name for name in JSON_FIELDS if name not in obj]
        if missing:
            raise InputError(f"SCT lacks {', '.join(missing)}")
        version = obj["sct_version"]
        if isinstance(version, bool) or version != SCT_VERSION_V1:
            raise InputError(f"sct_version {version!r:.20} is not v1 (0)")
        log_id = b64decode_strict(obj["id"], "id")
        if len(log_id) != LOG_ID_BYTES:
            raise InputError(f"SCT id is {len(log_id)} bytes, not {LOG_ID_BYTES}")
        extensions = b64decode_strict(obj["extensions"], "extensions")
        if len(extensions) > MAX_EXTENSIONS_BYTES:
            raise InputError(f"SCT extensions exceed {MAX_EXTENSIONS_BYTES} bytes")
        signature = DigitallySigned.deserialize(b64decode_strict(obj["signature"], "signature"))
        timestamp = json_uint64(obj["timestamp"], "timestamp")
        return cls(SCT_VERSION_V1, log_id, timestamp, extensions, signature)


def sct_signed_data(
    sct_version: int, timestamp: int, entry: TimestampedEntry, extensions: bytes | None = None
) -> bytes:
    """RFC 6962 §3.2 `digitally-signed struct` of an SCT.

    sct_version, signature_type certificate_timestamp, timestamp, entry_type, signed_entry,
    extensions (`entry.extensions` unless given).
    """
    ext = entry.extensions if extensions is None else extensions
    return (
        uint(sct_version, 1)
        + uint(SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP, 1)
        + uint(timestamp, 8)
        + uint(entry.entry_type, 2)
        + entry.signed_entry_bytes()
        + opaque(ext, 2)
    )


def sign_sct(key: LogSigningKey, entry: TimestampedEntry) -> SignedCertificateTimestamp:
    """The log's SCT for `entry`, with the entry's timestamp and extensions."""
    data = sct_signed_data(SCT_VERSION_V1, entry.timestamp, entry)
    return SignedCertificateTimestamp(
        SCT_VERSION_V1, key.public.log_id, entry.timestamp, entry.extensions, key.sign(data)
    )


def verify_sct(sct: SignedCertificateTimestamp, key: LogPublicKey, entry: TimestampedEntry) -> None:
    """Raise `SignatureError` unless the log holding `key` issued `sct` for `entry`'s cert.

    The signed data uses the SCT's own timestamp and extensions with the entry's type and
    signed_entry; the log_id must be `key`'s.
    """
    if sct.log_id != key.log_id:
        raise SignatureError(
            f"SCT is from log {sct.log_id.hex()}, not {key.log_id.hex()}",
            evidence={"sct_log_id": sct.log_id.hex(), "key_log_id": key.log_id.hex()},
        )
    data = sct_signed_data(sct.version, sct.timestamp, entry, sct.extensions)
    key.verify(data, sct.signature, f"SCT of {sct.timestamp}")


def encode_sct_list(scts: Sequence[SignedCertificateTimestamp]) -> bytes:
    """RFC 6962 §3.3 SignedCertificateTimestampList."""
    if not scts:
        raise UsageError("an SCT list holds at least one SCT")
    body = b"".join(opaque(sct.serialize(), 2) for sct in scts)
    if len(body) > MAX_SCT_LIST_BYTES:
        raise UsageError(f"SCT list exceeds {MAX_SCT_LIST_BYTES} bytes")
    return opaque(body, 2)


def parse_sct_list(buf: bytes) -> list[SignedCertificateTimestamp]:
    """RFC 6962 §3.3 SignedCertificateTimestampList, strictly.

    SCTs of a version other than v1 are skipped, as clients must ignore versions they do not
    understand; a v1 SCT that does not parse exactly is an error.
    """
    outer = Reader(buf, "SignedCertificateTimestampList")
    inner = Reader(outer.opaque(2, MAX_SCT_LIST_BYTES, 1), "sct_list")
    outer.finish()
    scts: list[SignedCertificateTimestamp] = []
    while inner.remaining:
        serialized = inner.opaque(2, MAX_SERIALIZED_SCT_BYTES, 1)
        if serialized[0] == SCT_VERSION_V1:
            scts.append(SignedCertificateTimestamp.deserialize(serialized))
    return scts


def embedded_scts(cert_der: bytes) -> list[SignedCertificateTimestamp]:
    """The SCTs in a certificate's extension 1.3.6.1.4.1.11129.2.4.2 (RFC 6962 §3.3)."""
    parse_certificate(cert_der, 0)
    raw = sct_list_bytes(cert_der)
    return [] if raw is None else parse_sct_list(raw)


def load_sct(buf: bytes) -> SignedCertificateTimestamp:
    """An SCT file: the add-chain JSON response or the raw TLS SignedCertificateTimestamp."""
    if buf.lstrip().startswith(b"{"):
        try:
            obj = strict_loads(buf, max_bytes=MAX_SCT_JSON_BYTES, what="input")
        except InputError as exc:
            raise InputError(f"SCT JSON does not parse: {exc}") from None
        return SignedCertificateTimestamp.from_json(obj)
    return SignedCertificateTimestamp.deserialize(buf)


def verify_chain_scts(
    chain_ders: Sequence[bytes],
    key: LogPublicKey,
    sct: SignedCertificateTimestamp | None = None,
) -> list[SignedCertificateTimestamp]:
    """Verify `sct` for the chain's leaf, or else the leaf's embedded SCTs from `key`'s log.

    With `sct`: the entry is x509 for a certificate and precert for a precertificate (its
    issuer must follow it). Without: the leaf's embedded SCTs from this log are checked
    against the precert entry rebuilt with the issuer `chain_ders[1]`. Returns the SCTs
    verified; raises `SignatureError` or `InputError`.
    """
    if sct is not None:
        entry_type, signed_entry = entry_for_chain(chain_ders)
        verify_sct(sct, key, TimestampedEntry(sct.timestamp, entry_type, signed_entry))
        return [sct]
    if len(chain_ders) < 2:
        raise InputError("checking embedded SCTs needs the issuer certificate after the leaf")
    scts = embedded_scts(chain_ders[0])
    if not scts:
        raise InputError("certificate 0 has no embedded SCTs and no SCT was given")
    mine = [s for s in scts if s.log_id == key.log_id]
    if not mine:
        raise InputError(f"certificate 0 embeds {len(scts)} SCTs, none from log {key.log_id.hex()}")
    for embedded in mine:
        entry = precert_entry_from_final(chain_ders[0], chain_ders[1], embedded.timestamp)
        verify_sct(embedded, key, entry)
    return mine


__all__ = [
    "SCT_VERSION_V1",
    "SignedCertificateTimestamp",
    "embedded_scts",
    "encode_sct_list",
    "load_sct",
    "parse_sct_list",
    "sct_signed_data",
    "sign_sct",
    "verify_chain_scts",
    "verify_sct",
]
