"""A submission on its way into the log, and what the log answers once it is in.

`PreparedEntry` is what a replica builds from a validated chain: the TimestampedEntry parts
(RFC 6962 §3.4) minus the extensions, the submitted precertificate, and the issuer chain. The
leaf index is not part of it: the state machine assigns it when the entry is sequenced and
puts it in the leaf's extensions (static-ct-api `leaf_index`), so the Merkle leaf and the SCT
carry the same extensions. `identity` is the dedup key: SHA-256 of the entry type and the
signed entry, so the same certificate (or precertificate TBS under the same issuer key) maps
to one log entry whatever chain or timestamp it came with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ctlog.errors import UsageError
from ctlog.leaf import (
    LogEntryType,
    PreCert,
    TileLeaf,
    TimestampedEntry,
    chain_fingerprints,
    encode_leaf_index_extension,
    encode_signed_entry,
)
from ctlog.tls import uint
from ctlog.x509 import ValidatedChain

MAX_CHAIN_ISSUERS = 16  # issuers kept per entry; real chains have 1 to 4, paths loop beyond
MAX_CERT_BYTES = 192 * 1024  # one DER certificate; the add-chain body bound (256 KiB of base64)


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """A validated submission, timestamped by the replica that accepted it."""

    timestamp: int
    entry_type: LogEntryType
    signed_entry: bytes | PreCert
    pre_certificate: bytes
    issuers: tuple[bytes, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "issuers", tuple(self.issuers))
        if len(self.issuers) > MAX_CHAIN_ISSUERS:
            raise UsageError(f"at most {MAX_CHAIN_ISSUERS} issuers, got {len(self.issuers)}")
        body = self.signed_entry
        signed = body.tbs_certificate if isinstance(body, PreCert) else body
        if any(len(der) > MAX_CERT_BYTES for der in (*self.issuers, self.pre_certificate, signed)):
            raise UsageError(f"certificates are at most {MAX_CERT_BYTES} bytes")
        if not all(self.issuers):
            raise UsageError("an issuer certificate cannot be empty")
        # TimestampedEntry checks the type, the timestamp and the signed entry.
        entry = TimestampedEntry(self.timestamp, self.entry_type, self.signed_entry)
        object.__setattr__(self, "entry_type", entry.entry_type)
        if (entry.entry_type is LogEntryType.PRECERT_ENTRY) != bool(self.pre_certificate):
            raise UsageError("precert entries, and only they, carry the precertificate")

    def timestamped_entry(self, leaf_index: int) -> TimestampedEntry:
        """The entry as logged at `leaf_index` (static-ct-api: extensions hold the index)."""
        return TimestampedEntry(
            self.timestamp,
            self.entry_type,
            self.signed_entry,
            encode_leaf_index_extension(leaf_index),
        )

    @classmethod
    def from_chain(cls, chain: ValidatedChain, timestamp: int) -> PreparedEntry:
        """The entry for an accepted chain, stamped `timestamp` (ms) by the accepting replica."""
        precert = chain.entry_type is LogEntryType.PRECERT_ENTRY
        pre_certificate = chain.leaf_der if precert else b""
        return cls(
            timestamp, chain.entry_type, chain.signed_entry, pre_certificate, chain.issuer_ders
        )

    def logged_entry(self, logged: LoggedEntry) -> TimestampedEntry:
        """The entry as it is in the log: the logged timestamp and leaf index (for the SCT).

        For a duplicate these are the first submission's, whose signed entry is the same.
        """
        return TimestampedEntry(
            logged.timestamp,
            self.entry_type,
            self.signed_entry,
            encode_leaf_index_extension(logged.leaf_index),
        )

    def tile_leaf(self, leaf_index: int, fingerprints: Sequence[bytes] | None = None) -> TileLeaf:
        """The static-ct-api data tile entry: what the log stores for this entry.

        `fingerprints` may pass the issuers' SHA-256 hashes when the caller has them.
        """
        if fingerprints is None:
            fingerprints = chain_fingerprints(self.issuers)
        entry = self.timestamped_entry(leaf_index)
        return TileLeaf(entry, self.pre_certificate, tuple(fingerprints))

    @property
    def identity(self) -> bytes:
        return entry_identity(self.entry_type, self.signed_entry)

    @property
    def byte_size(self) -> int:
        """Roughly what the entry costs in a Raft batch (for batch size bounds)."""
        body = self.signed_entry
        size = len(body) if isinstance(body, bytes) else 32 + len(body.tbs_certificate)
        return size + len(self.pre_certificate) + sum(len(der) for der in self.issuers)


def entry_identity(entry_type: LogEntryType, signed_entry: bytes | PreCert) -> bytes:
    """The dedup key: SHA-256(entry_type || signed_entry), timestamp and extensions left out.

    `signed_entry` is encoded as in RFC 6962 §3.4 (a length-prefixed certificate, or a PreCert).
    """
    return hashlib.sha256(uint(entry_type, 2) + encode_signed_entry(signed_entry)).digest()


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """Where an entry is in the log: its leaf index and the timestamp it was logged with.

    `duplicate` says the submission matched an entry logged before (its own timestamp lost).
    """

    leaf_index: int
    timestamp: int
    duplicate: bool = False


__all__ = [
    "MAX_CERT_BYTES",
    "MAX_CHAIN_ISSUERS",
    "LoggedEntry",
    "PreparedEntry",
    "entry_identity",
]
