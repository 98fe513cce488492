"""Shared builders for the log tests: prepared entries without real certificates."""

from __future__ import annotations

from ctlog.leaf import LogEntryType, PreCert
from ctlog.log.entry import PreparedEntry

ISSUER = b"\x30issuer-certificate"
ROOT = b"\x30root-certificate"


def x509_entry(n: int, timestamp: int = 1_000, issuers: tuple[bytes, ...] = (ISSUER, ROOT)):
    """An x509 entry whose 'certificate' is unique per `n` (the state machine never parses it)."""
    return PreparedEntry(timestamp, LogEntryType.X509_ENTRY, b"\x30cert-%d" % n, b"", issuers)


def precert_entry(n: int, timestamp: int = 1_000) -> PreparedEntry:
    pre = PreCert(b"k" * 32, b"\x30tbs-%d" % n)
    return PreparedEntry(
        timestamp, LogEntryType.PRECERT_ENTRY, pre, b"\x30precert-%d" % n, (ISSUER, ROOT)
    )


__all__ = ["ISSUER", "ROOT", "precert_entry", "x509_entry"]
