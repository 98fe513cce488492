"""Log entries on the wire: RFC 6962 §3.4 MerkleTreeLeaf, §4.6 extra_data, static-ct tiles.

Every type is a frozen value that serializes to the exact TLS bytes the log hashes or serves,
and deserializes strictly: each length is bounded by its field's limit and by the bytes left,
and trailing bytes are refused. `MerkleTreeLeaf.leaf_hash()` is the RFC 6962 §2.1 leaf hash.
The C2SP static-ct-api `TileLeaf` and the `leaf_index` SCT extension live here too.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.merkle import hash_leaf
from ctlog.tls import MAX_UINT64, Reader, opaque, uint

MAX_ASN1_CERT_BYTES = (1 << 24) - 1  # RFC 6962 §3.1: opaque ASN.1Cert<1..2^24-1>
MAX_TBS_BYTES = (1 << 24) - 1  # RFC 6962 §3.2: opaque TBSCertificate<1..2^24-1>
MAX_CHAIN_BYTES = (1 << 24) - 1  # RFC 6962 §3.1: ASN.1Cert certificate_chain<0..2^24-1>
MAX_EXTENSIONS_BYTES = (1 << 16) - 1  # RFC 6962 §3.2: opaque CtExtensions<0..2^16-1>
ISSUER_KEY_HASH_BYTES = 32  # RFC 6962 §3.2: opaque issuer_key_hash[32]
MAX_FINGERPRINT_BYTES = (1 << 16) - 1  # static-ct-api: Fingerprint certificate_chain<0..2^16-1>
FINGERPRINT_BYTES = 32  # static-ct-api: opaque Fingerprint[32], SHA-256 of the issuer DER
MAX_TILE_ENTRIES = 256  # static-ct-api: a full data tile holds 256 entries
LEAF_INDEX_EXTENSION = 0  # static-ct-api: enum { leaf_index(0), (255) } ExtensionType
LEAF_INDEX_BYTES = 5  # static-ct-api: uint40 LeafIndex
MAX_LEAF_INDEX = (1 << 40) - 1
VERSION_V1 = 0  # RFC 6962 §3.2: enum { v1(0), (255) } Version
LEAF_TYPE_TIMESTAMPED_ENTRY = 0  # RFC 6962 §3.4: enum { timestamped_entry(0), (255) }


class LogEntryType(enum.IntEnum):
    """RFC 6962 §3.1: enum { x509_entry(0), precert_entry(1), (65535) } LogEntryType."""

    X509_ENTRY = 0
    PRECERT_ENTRY = 1

    def __repr__(self) -> str:
        return f"LogEntryType.{self.name}"

    @classmethod
    def read(cls, reader: Reader) -> LogEntryType:
        value = reader.u16()
        try:
            return cls(value)
        except ValueError:
            raise InputError(f"unknown log entry type {value}") from None


def _check_cert(der: bytes, what: str) -> None:
    if not 1 <= len(der) <= MAX_ASN1_CERT_BYTES:
        raise UsageError(f"{what} must be 1..{MAX_ASN1_CERT_BYTES} bytes, got {len(der)}")


@dataclass(frozen=True, slots=True)
class PreCert:
    """RFC 6962 §3.2: the issuer's key hash and the TBSCertificate without the poison."""

    issuer_key_hash: bytes
    tbs_certificate: bytes

    def __post_init__(self) -> None:
        if len(self.issuer_key_hash) != ISSUER_KEY_HASH_BYTES:
            raise UsageError(f"issuer_key_hash must be {ISSUER_KEY_HASH_BYTES} bytes")
        if not 1 <= len(self.tbs_certificate) <= MAX_TBS_BYTES:
            raise UsageError(f"tbs_certificate must be 1..{MAX_TBS_BYTES} bytes")

    def serialize(self) -> bytes:
        return self.issuer_key_hash + opaque(self.tbs_certificate, 3)

    @classmethod
    def read(cls, reader: Reader) -> PreCert:
        key_hash = reader.fixed(ISSUER_KEY_HASH_BYTES)
        return cls(key_hash, reader.opaque(3, MAX_TBS_BYTES, 1))


def encode_signed_entry(signed_entry: bytes | PreCert) -> bytes:
    """RFC 6962 §3.4 `select (entry_type)`: a length-prefixed ASN.1Cert, or a PreCert."""
    if isinstance(signed_entry, PreCert):
        return signed_entry.serialize()
    return opaque(signed_entry, 3)


@dataclass(frozen=True, slots=True)
class TimestampedEntry:
    """RFC 6962 §3.4 TimestampedEntry. `signed_entry` is the leaf DER for x509 entries."""

    timestamp: int
    entry_type: LogEntryType
    signed_entry: bytes | PreCert
    extensions: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.timestamp <= MAX_UINT64:
            raise UsageError("timestamp is a uint64 of milliseconds")
        try:
            object.__setattr__(self, "entry_type", LogEntryType(self.entry_type))
        except ValueError:
            raise UsageError(f"unknown log entry type {self.entry_type!r}") from None
        if self.entry_type is LogEntryType.X509_ENTRY:
            if not isinstance(self.signed_entry, bytes):
                raise UsageError("an x509 entry's signed_entry is the certificate DER")
            _check_cert(self.signed_entry, "certificate")
        elif not isinstance(self.signed_entry, PreCert):
            raise UsageError("a precert entry's signed_entry is a PreCert")
        if len(self.extensions) > MAX_EXTENSIONS_BYTES:
            raise UsageError(f"extensions exceed {MAX_EXTENSIONS_BYTES} bytes")

    def signed_entry_bytes(self) -> bytes:
        """The `select (entry_type)` body: ASN.1Cert or PreCert, as RFC 6962 §3.4 encodes it."""
        return encode_signed_entry(self.signed_entry)

    def serialize(self) -> bytes:
        return (
            uint(self.timestamp, 8)
            + uint(self.entry_type, 2)
            + self.signed_entry_bytes()
            + opaque(self.extensions, 2)
        )

    @classmethod
    def read(cls, reader: Reader) -> TimestampedEntry:
        timestamp = reader.u64()
        entry_type = LogEntryType.read(reader)
        signed_entry: bytes | PreCert
        if entry_type is LogEntryType.X509_ENTRY:
            signed_entry = reader.opaque(3, MAX_ASN1_CERT_BYTES, 1)
        else:
            signed_entry = PreCert.read(reader)
        extensions = reader.opaque(2, MAX_EXTENSIONS_BYTES)
        return cls(timestamp, entry_type, signed_entry, extensions)

    @classmethod
    def deserialize(cls, buf: bytes) -> TimestampedEntry:
        reader = Reader(buf, "TimestampedEntry")
        value = cls.read(reader)
        reader.finish()
        return value


@dataclass(frozen=True, slots=True)
class MerkleTreeLeaf:
    """RFC 6962 §3.4 MerkleTreeLeaf, version v1 with leaf_type timestamped_entry."""

    timestamped_entry: TimestampedEntry

    def serialize(self) -> bytes:
        return (
            uint(VERSION_V1, 1) + uint(LEAF_TYPE_TIMESTAMPED_ENTRY, 1)
        ) + self.timestamped_entry.serialize()

    @classmethod
    def deserialize(cls, buf: bytes) -> MerkleTreeLeaf:
        reader = Reader(buf, "MerkleTreeLeaf")
        version = reader.u8()
        if version != VERSION_V1:
            raise InputError(f"MerkleTreeLeaf version {version} is not v1")
        leaf_type = reader.u8()
        if leaf_type != LEAF_TYPE_TIMESTAMPED_ENTRY:
            raise InputError(f"MerkleTreeLeaf leaf_type {leaf_type} is not timestamped_entry")
        entry = TimestampedEntry.read(reader)
        reader.finish()
        return cls(entry)

    def leaf_hash(self) -> bytes:
        """RFC 6962 §2.1: SHA-256(0x00 || MerkleTreeLeaf)."""
        return hash_leaf(self.serialize())


def _encode_cert_list(ders: Sequence[bytes]) -> bytes:
    for i, der in enumerate(ders):
        _check_cert(der, f"chain certificate {i}")
    body = b"".join(opaque(der, 3) for der in ders)
    if len(body) > MAX_CHAIN_BYTES:
        raise UsageError(f"certificate chain exceeds {MAX_CHAIN_BYTES} bytes")
    return opaque(body, 3)


def _read_cert_list(reader: Reader, what: str) -> list[bytes]:
    inner = Reader(reader.opaque(3, MAX_CHAIN_BYTES), what)
    ders: list[bytes] = []
    while inner.remaining:
        ders.append(inner.opaque(3, MAX_ASN1_CERT_BYTES, 1))
    return ders


def encode_extra_data(entry_type: LogEntryType, chain: Sequence[bytes]) -> bytes:
    """RFC 6962 §4.6 get-entries `extra_data`.

    x509 entries: `chain` is the certificate_chain (the issuers, leaf excluded).
    precert entries: `chain[0]` is the precertificate, the rest its precertificate_chain
    (the PrecertChainEntry of §3.1).
    """
    if LogEntryType(entry_type) is LogEntryType.X509_ENTRY:
        return _encode_cert_list(chain)
    if not chain:
        raise UsageError("a precert entry's extra_data starts with the precertificate")
    _check_cert(chain[0], "pre_certificate")
    return opaque(chain[0], 3) + _encode_cert_list(chain[1:])


def decode_extra_data(entry_type: LogEntryType, buf: bytes) -> list[bytes]:
    """Inverse of `encode_extra_data`, strict: bounded lengths, no trailing bytes."""
    reader = Reader(buf, "extra_data")
    if LogEntryType(entry_type) is LogEntryType.X509_ENTRY:
        chain = _read_cert_list(reader, "certificate_chain")
    else:
        pre_certificate = reader.opaque(3, MAX_ASN1_CERT_BYTES, 1)
        chain = [pre_certificate, *_read_cert_list(reader, "precertificate_chain")]
    reader.finish()
    return chain


def chain_fingerprints(ders: Sequence[bytes]) -> tuple[bytes, ...]:
    """static-ct-api: the SHA-256 of each issuer's DER, as a TileLeaf lists them."""
    return tuple(hashlib.sha256(der).digest() for der in ders)


@dataclass(frozen=True, slots=True)
class TileLeaf:
    """C2SP static-ct-api data tile entry: the entry, the precertificate, issuer fingerprints.

    `pre_certificate` is empty for x509 entries (`Empty` in the spec) and the submitted
    precertificate DER for precert entries.
    """

    timestamped_entry: TimestampedEntry
    pre_certificate: bytes
    certificate_chain: tuple[bytes, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "certificate_chain", tuple(self.certificate_chain))
        if self.timestamped_entry.entry_type is LogEntryType.PRECERT_ENTRY:
            _check_cert(self.pre_certificate, "pre_certificate")
        elif self.pre_certificate:
            raise UsageError("an x509 TileLeaf carries no pre_certificate")
        if any(len(fp) != FINGERPRINT_BYTES for fp in self.certificate_chain):
            raise UsageError(f"fingerprints are {FINGERPRINT_BYTES} bytes")
        if len(self.certificate_chain) * FINGERPRINT_BYTES > MAX_FINGERPRINT_BYTES:
            raise UsageError("too many fingerprints for certificate_chain<0..2^16-1>")

    def merkle_tree_leaf(self) -> MerkleTreeLeaf:
        return MerkleTreeLeaf(self.timestamped_entry)

    def serialize(self) -> bytes:
        out = self.timestamped_entry.serialize()
        if self.timestamped_entry.entry_type is LogEntryType.PRECERT_ENTRY:
            out += opaque(self.pre_certificate, 3)
        return out + opaque(b"".join(self.certificate_chain), 2)

    @classmethod
    def read(cls, reader: Reader) -> TileLeaf:
        entry = TimestampedEntry.read(reader)
        pre_certificate = b""
        if entry.entry_type is LogEntryType.PRECERT_ENTRY:
            pre_certificate = reader.opaque(3, MAX_ASN1_CERT_BYTES, 1)
        packed = reader.opaque(2, MAX_FINGERPRINT_BYTES)
        if len(packed) % FINGERPRINT_BYTES:
            raise InputError(f"TileLeaf certificate_chain is {len(packed)} bytes, not 32*n")
        fingerprints = tuple(
            packed[i : i + FINGERPRINT_BYTES] for i in range(0, len(packed), FINGERPRINT_BYTES)
        )
        return cls(entry, pre_certificate, fingerprints)

    @classmethod
    def deserialize(cls, buf: bytes) -> TileLeaf:
        reader = Reader(buf, "TileLeaf")
        value = cls.read(reader)
        reader.finish()
        return value


def parse_data_tile(buf: bytes) -> list[TileLeaf]:
    """A static-ct-api data tile: 1..256 concatenated TileLeaf structures, nothing else."""
    reader = Reader(buf, "data tile")
    leaves: list[TileLeaf] = []
    while reader.remaining:
        if len(leaves) == MAX_TILE_ENTRIES:
            raise InputError(f"data tile holds more than {MAX_TILE_ENTRIES} entries")
        leaves.append(TileLeaf.read(reader))
    if not leaves:
        raise InputError("data tile is empty")
    return leaves


def encode_leaf_index_extension(leaf_index: int) -> bytes:
    """static-ct-api CtExtensions holding only `leaf_index` (8 bytes)."""
    if not 0 <= leaf_index <= MAX_LEAF_INDEX:
        raise UsageError(f"leaf_index {leaf_index} does not fit in 40 bits")
    return uint(LEAF_INDEX_EXTENSION, 1) + opaque(uint(leaf_index, LEAF_INDEX_BYTES), 2)


def parse_ct_extensions(extensions: bytes) -> dict[int, bytes]:
    """static-ct-api: CtExtensions as a list of (type, data); duplicates are refused."""
    reader = Reader(extensions, "CtExtensions")
    found: dict[int, bytes] = {}
    while reader.remaining:
        extension_type = reader.u8()
        data = reader.opaque(2, MAX_EXTENSIONS_BYTES)
        if extension_type in found:
            raise InputError(f"CtExtensions repeats extension type {extension_type}")
        found[extension_type] = data
    return found


def decode_leaf_index_extension(extensions: bytes) -> int:
    """The `leaf_index` a static-ct log put in an SCT's or entry's extensions."""
    data = parse_ct_extensions(extensions).get(LEAF_INDEX_EXTENSION)
    if data is None:
        raise InputError("extensions carry no leaf_index (static-ct-api requires one)")
    if len(data) != LEAF_INDEX_BYTES:
        raise InputError(f"leaf_index extension is {len(data)} bytes, not {LEAF_INDEX_BYTES}")
    return int.from_bytes(data, "big")


__all__ = [
    "FINGERPRINT_BYTES",
    "MAX_ASN1_CERT_BYTES",
    "MAX_TILE_ENTRIES",
    "LogEntryType",
    "MerkleTreeLeaf",
    "PreCert",
    "TileLeaf",
    "TimestampedEntry",
    "chain_fingerprints",
    "decode_extra_data",
    "decode_leaf_index_extension",
    "encode_extra_data",
    "encode_leaf_index_extension",
    "encode_signed_entry",
    "parse_ct_extensions",
    "parse_data_tile",
]
