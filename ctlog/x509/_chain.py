"""Chain validation for add-chain and add-pre-chain (RFC 6962 §3.1, §4.1, §4.2).

`validate_chain` is pure: the current time and the shard window are arguments. It accepts a
chain when each certificate is signed by the next, every issuer is a CA, the chain ends at or
directly under an accepted root, the leaf is valid now and inside the window, and the leaf's
poison matches the endpoint. The result, `ValidatedChain`, builds the log entry.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from ctlog.errors import InputError, UsageError
from ctlog.leaf import (
    LogEntryType,
    PreCert,
    TileLeaf,
    TimestampedEntry,
    chain_fingerprints,
    encode_extra_data,
)
from ctlog.x509._certs import (
    RootSet,
    check_issued_by,
    has_poison,
    is_ca,
    is_precert_signing_cert,
    iso_from_ms,
    key_hash,
    ms_from_datetime,
    parse_certificate,
    parse_chain,
)
from ctlog.x509._tbs import precert_tbs, tbs_without_sct_list

MAX_VERIFIED_LINKS = 4096  # issuer links remembered; a log sees few distinct intermediates


class VerifiedLinks:
    """A bounded memo of issuer-to-issuer signature checks that passed.

    A submitted leaf is new every time, but its intermediate and root are the same thousands
    of times; checking the intermediate's signature once per (certificate, issuer) pair of
    exact DER bytes is enough. Leaf links are never remembered. Oldest pairs are evicted
    first. The owner (one per validating process) passes it to `validate_chain`.
    """

    __slots__ = ("_links", "_max_links")

    def __init__(self, max_links: int = MAX_VERIFIED_LINKS) -> None:
        if max_links < 1:
            raise UsageError("VerifiedLinks needs room for at least one link")
        self._links: OrderedDict[tuple[bytes, bytes], None] = OrderedDict()
        self._max_links = max_links

    def __len__(self) -> int:
        return len(self._links)

    def check(
        self,
        cert: x509.Certificate,
        issuer: x509.Certificate,
        position: int,
        pair: tuple[bytes, bytes],
    ) -> None:
        """`check_issued_by`, skipped when this exact pair already passed."""
        if pair in self._links:
            self._links.move_to_end(pair)
            return
        check_issued_by(cert, issuer, position)
        self._links[pair] = None
        if len(self._links) > self._max_links:
            self._links.popitem(last=False)


def _check_link(
    certs: Sequence[x509.Certificate],
    ders: Sequence[bytes],
    position: int,
    issuer: x509.Certificate,
    issuer_der: bytes,
    links: VerifiedLinks | None,
) -> None:
    if links is None or position == 0:
        check_issued_by(certs[position], issuer, position)
    else:
        links.check(certs[position], issuer, position, (ders[position], issuer_der))


@dataclass(frozen=True, slots=True)
class ValidatedChain:
    """An accepted chain, leaf first and accepted root last, and the entry it yields."""

    ders: tuple[bytes, ...]
    entry_type: LogEntryType
    signed_entry: bytes | PreCert

    @property
    def leaf_der(self) -> bytes:
        return self.ders[0]

    @property
    def issuer_ders(self) -> tuple[bytes, ...]:
        """RFC 6962 §3.1 certificate_chain / precertificate_chain: everything after the leaf."""
        return self.ders[1:]

    def timestamped_entry(self, timestamp_ms: int, extensions: bytes = b"") -> TimestampedEntry:
        return TimestampedEntry(timestamp_ms, self.entry_type, self.signed_entry, extensions)

    def extra_data(self) -> bytes:
        """RFC 6962 §4.6 get-entries extra_data for this chain."""
        if self.entry_type is LogEntryType.X509_ENTRY:
            return encode_extra_data(self.entry_type, self.issuer_ders)
        return encode_extra_data(self.entry_type, self.ders)

    def tile_leaf(self, entry: TimestampedEntry) -> TileLeaf:
        """static-ct-api TileLeaf for `entry` (built by `timestamped_entry`)."""
        pre_certificate = self.leaf_der if self.entry_type is LogEntryType.PRECERT_ENTRY else b""
        return TileLeaf(entry, pre_certificate, chain_fingerprints(self.issuer_ders))


def validate_chain(
    chain_ders: Sequence[bytes],
    roots: RootSet,
    *,
    now_ms: int,
    precert: bool,
    not_after_start_ms: int | None = None,
    not_after_end_ms: int | None = None,
    allow_expired: bool = False,
    links: VerifiedLinks | None = None,
) -> ValidatedChain:
    """Accept or refuse a submitted chain; every refusal is `InputError` (HTTP 400).

    precert=False is add-chain (the leaf must not carry the poison); precert=True is
    add-pre-chain (it must). The optional [not_after_start_ms, not_after_end_ms) window
    shards logs by expiry. `links`, when given, remembers issuer-to-issuer checks.
    """
    certs = parse_chain(chain_ders)
    _check_leaf_kind(certs[0], precert=precert)
    if not allow_expired:
        _check_valid_now(certs[0], now_ms)
    _check_window(certs[0], not_after_start_ms, not_after_end_ms)
    _check_links(certs, chain_ders, roots, precert=precert, links=links)
    ders, certs = _anchor(certs, tuple(chain_ders), roots, links)
    entry_type, signed_entry = _signed_entry(ders, certs, precert=precert)
    return ValidatedChain(ders, entry_type, signed_entry)


def _check_leaf_kind(leaf: x509.Certificate, *, precert: bool) -> None:
    """RFC 6962 §4.1: add-chain takes certificates; §4.2: add-pre-chain takes precertificates."""
    poisoned = has_poison(leaf, 0)
    if poisoned and not precert:
        raise InputError(
            "certificate 0 is a precertificate (critical CT poison extension); "
            "submit it to add-pre-chain"
        )
    if precert and not poisoned:
        raise InputError(
            "certificate 0 lacks the critical CT poison extension add-pre-chain requires"
        )


def _check_valid_now(leaf: x509.Certificate, now_ms: int) -> None:
    not_before = ms_from_datetime(leaf.not_valid_before_utc)
    not_after = ms_from_datetime(leaf.not_valid_after_utc)
    if now_ms < not_before:
        raise InputError(f"certificate 0 is not valid before {iso_from_ms(not_before)}")
    if now_ms > not_after:
        raise InputError(f"certificate 0 expired at {iso_from_ms(not_after)}")


def _check_window(leaf: x509.Certificate, start_ms: int | None, end_ms: int | None) -> None:
    """A temporally sharded log takes only leaves expiring in [start, end)."""
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise UsageError("the notAfter window must have start < end")
    not_after = ms_from_datetime(leaf.not_valid_after_utc)
    if (start_ms is not None and not_after < start_ms) or (
        end_ms is not None and not_after >= end_ms
    ):
        window = f"[{_iso_or(start_ms, '-inf')}, {_iso_or(end_ms, '+inf')})"
        raise InputError(
            f"certificate 0 expires at {iso_from_ms(not_after)}, outside this log's "
            f"notAfter window {window}"
        )


def _iso_or(ms: int | None, default: str) -> str:
    return default if ms is None else iso_from_ms(ms)


def _check_links(
    certs: list[x509.Certificate],
    ders: Sequence[bytes],
    roots: RootSet,
    *,
    precert: bool,
    links: VerifiedLinks | None,
) -> None:
    """Each certificate is signed by the next; each issuer is a CA; PreCAs only issue precerts."""
    for i in range(1, len(certs)):
        issuer = certs[i]
        _check_link(certs, ders, i - 1, issuer, ders[i], links)
        if ders[i] not in roots and not is_ca(issuer, i):
            raise InputError(
                f"certificate {i} is not a CA (BasicConstraints cA is not true) "
                f"but issued certificate {i - 1}"
            )
        if is_precert_signing_cert(issuer, i) and not (precert and i == 1):
            raise InputError(
                f"certificate {i} is a precertificate signing certificate; it may only "
                "directly issue the precertificate of an add-pre-chain submission"
            )


def _anchor(
    certs: list[x509.Certificate],
    ders: tuple[bytes, ...],
    roots: RootSet,
    links: VerifiedLinks | None,
) -> tuple[tuple[bytes, ...], list[x509.Certificate]]:
    """RFC 6962 §4.1: the chain ends at an accepted root, or its root is appended (to both
    the DER and the parsed certificates)."""
    if ders[-1] in roots:
        return ders, certs
    last = len(certs) - 1
    candidates = roots.by_subject(certs[last].issuer)
    for root_der in candidates:
        root = roots.certificate(root_der)
        try:
            _check_link(certs, ders, last, root, root_der, links)
        except InputError:
            continue
        return (*ders, root_der), [*certs, root]
    detail = "no accepted root has that subject" if not candidates else "its signature fails"
    raise InputError(
        f"certificate {last} does not chain to an accepted root: its issuer is "
        f"{certs[last].issuer.rfc4514_string()} and {detail}"
    )


def _signed_entry(
    ders: Sequence[bytes], certs: Sequence[x509.Certificate], *, precert: bool
) -> tuple[LogEntryType, bytes | PreCert]:
    """RFC 6962 §3.2: the leaf DER, or the PreCert of the precertificate and its issuer.

    `certs` are `ders` parsed, so the issuer is not parsed again.
    """
    if not precert:
        return LogEntryType.X509_ENTRY, ders[0]
    if len(ders) < 2:
        raise InputError("a precertificate needs its issuer in the chain")
    if not is_precert_signing_cert(certs[1], 1):
        return LogEntryType.PRECERT_ENTRY, PreCert(key_hash(ders[1]), precert_tbs(ders[0]))
    if len(ders) < 3:  # RFC 6962 §3.1: the signing certificate's issuer is the final issuer
        raise InputError(
            "certificate 1 is a precertificate signing certificate and its issuer is missing"
        )
    tbs = precert_tbs(ders[0], signing_cert_der=ders[1])
    return LogEntryType.PRECERT_ENTRY, PreCert(key_hash(ders[2]), tbs)


def entry_for_chain(chain_ders: Sequence[bytes]) -> tuple[LogEntryType, bytes | PreCert]:
    """The signed entry of a chain without checking it against roots (for SCT verification)."""
    certs = parse_chain(chain_ders)
    return _signed_entry(chain_ders, certs, precert=has_poison(certs[0], 0))


def precert_entry_from_final(
    cert_der: bytes, issuer_der: bytes, timestamp: int, extensions: bytes = b""
) -> TimestampedEntry:
    """RFC 6962 §3.3: the precert entry a final certificate's embedded SCTs were issued for."""
    parse_certificate(cert_der, 0)
    parse_certificate(issuer_der, 1)
    pre = PreCert(key_hash(issuer_der), tbs_without_sct_list(cert_der))
    return TimestampedEntry(timestamp, LogEntryType.PRECERT_ENTRY, pre, extensions)


__all__ = [
    "MAX_VERIFIED_LINKS",
    "ValidatedChain",
    "VerifiedLinks",
    "entry_for_chain",
    "precert_entry_from_final",
    "validate_chain",
]
