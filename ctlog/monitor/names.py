"""The DNS names a logged certificate speaks for, and the patterns a monitor watches.

`certificate_names` reads a Certificate or a bare TBSCertificate (a precert entry logs only
its TBS, RFC 6962 §3.2) with the strict DER walker of `ctlog.x509`: every dNSName of the
subjectAltName extension (RFC 5280 §4.2.1.6) and every subject commonName (RFC 5280
§4.1.2.6), lower-cased, a final dot dropped, duplicates removed, in certificate order.

`NamePattern` is one watched name. Three forms (documented in docs/ctlog/monitor.md):
- `www.example.com` matches that name, and a wildcard certificate name that covers it
  (`*.example.com`, RFC 6125 §6.4.3: the `*` stands for exactly one whole label);
- `*.example.com` matches names exactly one label below example.com, including a
  certificate's own `*.example.com`, but neither example.com nor a.b.example.com;
- `.example.com` matches example.com and every name below it, at any depth.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.x509._der import (
    CONTEXT_0,
    CONTEXT_3,
    OCTET_STRING,
    OID,
    SEQUENCE,
    Tlv,
    children,
    encode_oid,
    parse_one,
)

MAX_NAME_CHARS = 253  # RFC 1035 §2.3.4: a domain name is at most 253 characters as text
MAX_LABEL_CHARS = 63  # RFC 1035 §2.3.4: a label is at most 63 octets
MAX_PATTERNS = 1000  # a watch list longer than this belongs in a database, not a flag
MAX_NAMES_PER_CERT = 10_000  # far above real certificates (CAs cap SANs near 100-1000)

SUBJECT_INDEX = 4  # RFC 5280 §4.1: serial, signature, issuer, validity, subject (after version)
CN_OID = encode_oid("2.5.4.3")  # RFC 5280 Appendix A: id-at-commonName
SAN_OID = encode_oid("2.5.29.17")  # RFC 5280 §4.2.1.6: id-ce-subjectAltName
DNS_NAME_TAG = 0x82  # RFC 5280 §4.2.1.6: dNSName [2] IA5String, implicitly tagged
SET = 0x31  # X.690: SET OF, as in RelativeDistinguishedName
_STRING_CODECS = {  # X.680 string types a commonName may use, and how to read their bytes
    0x0C: "utf-8",  # UTF8String
    0x13: "latin-1",  # PrintableString
    0x14: "latin-1",  # TeletexString (read as Latin-1, as most libraries do)
    0x16: "latin-1",  # IA5String
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def normalize_name(name: str) -> str:
    """Lower case, one trailing dot dropped: how names are compared (RFC 4343 §3)."""
    return name.lower().removesuffix(".")


def _tbs_fields(der: bytes, is_tbs: bool) -> list[Tlv]:
    top = parse_one(der, SEQUENCE, "TBSCertificate" if is_tbs else "certificate")
    if not is_tbs:
        parts = children(top.value)
        if len(parts) != 3 or parts[0].tag != SEQUENCE:
            raise InputError("certificate is not tbsCertificate, algorithm, signature")
        top = parts[0]
    fields = children(top.value)
    offset = 1 if fields and fields[0].tag == CONTEXT_0 else 0
    if len(fields) < offset + SUBJECT_INDEX + 2:
        raise InputError("TBSCertificate lacks mandatory fields")
    return fields[offset + SUBJECT_INDEX :]


def _decode_string(tag: int, value: bytes) -> str | None:
    codec = _STRING_CODECS.get(tag)
    if codec is None:
        return None
    try:
        return value.decode(codec)
    except UnicodeDecodeError:
        return None


def _common_names(subject_value: bytes) -> list[str]:
    names = []
    for rdn in children(subject_value):
        if rdn.tag != SET:
            raise InputError("subject RelativeDistinguishedName is not a SET")
        for attribute in children(rdn.value):
            parts = children(attribute.value) if attribute.tag == SEQUENCE else []
            if len(parts) != 2 or parts[0].tag != OID:
                raise InputError("subject AttributeTypeAndValue is malformed")
            if parts[0].value == CN_OID:
                text = _decode_string(parts[1].tag, parts[1].value)
                if text is not None:
                    names.append(text)
    return names


def _san_dns_names(extensions_wrapper: bytes) -> list[str]:
    names = []
    for extension in children(parse_one(extensions_wrapper, SEQUENCE, "extensions").value):
        parts = children(extension.value) if extension.tag == SEQUENCE else []
        if len(parts) not in (2, 3) or parts[0].tag != OID or parts[-1].tag != OCTET_STRING:
            raise InputError("certificate has a malformed Extension")
        if parts[0].value != SAN_OID:
            continue
        general_names = parse_one(parts[-1].value, SEQUENCE, "subjectAltName")
        for general_name in children(general_names.value):
            if general_name.tag == DNS_NAME_TAG:
                names.append(general_name.value.decode("latin-1"))
    return names


def certificate_names(der: bytes, *, is_tbs: bool = False) -> tuple[str, ...]:
    """Every DNS SAN and subject CN of a DER Certificate (or TBSCertificate if `is_tbs`).

    Raises `InputError` when the DER is malformed.
    """
    fields = _tbs_fields(der, is_tbs)
    subject = fields[0]
    if subject.tag != SEQUENCE:
        raise InputError("certificate subject is not a Name")
    found = _common_names(subject.value)
    for field in fields[2:]:
        if field.tag == CONTEXT_3:
            found.extend(_san_dns_names(field.value))
    if len(found) > MAX_NAMES_PER_CERT:
        raise InputError(f"certificate carries more than {MAX_NAMES_PER_CERT} names")
    return tuple(dict.fromkeys(normalize_name(name) for name in found if name))


class PatternKind(enum.Enum):
    EXACT = "exact"  # www.example.com
    ONE_LABEL = "one-label"  # *.example.com
    SUBTREE = "subtree"  # .example.com


@dataclass(frozen=True, slots=True)
class NamePattern:
    """One watched name: `kind` of match and the `domain` it is anchored at."""

    kind: PatternKind
    domain: str

    def __post_init__(self) -> None:
        _check_domain(self.domain)

    @classmethod
    def parse(cls, text: str) -> NamePattern:
        """`www.example.com`, `*.example.com` or `.example.com`; `UsageError` otherwise."""
        if not isinstance(text, str) or not text.isascii():
            raise UsageError(f"pattern {text!r} must be ASCII (write IDNs in xn-- form)")
        name = normalize_name(text.strip())
        if name.startswith("*."):
            return cls(PatternKind.ONE_LABEL, name[2:])
        if name.startswith("."):
            return cls(PatternKind.SUBTREE, name[1:])
        return cls(PatternKind.EXACT, name)

    def __str__(self) -> str:
        prefix = {PatternKind.EXACT: "", PatternKind.ONE_LABEL: "*.", PatternKind.SUBTREE: "."}
        return prefix[self.kind] + self.domain

    def matches(self, name: str) -> bool:
        """Whether the (normalized) certificate name `name` falls under this pattern."""
        if self.kind is PatternKind.SUBTREE:
            return name == self.domain or name.endswith("." + self.domain)
        if self.kind is PatternKind.ONE_LABEL:
            label, dot, rest = name.partition(".")
            return bool(dot) and bool(label) and rest == self.domain
        if name == self.domain:
            return True
        # RFC 6125 §6.4.3: a certificate's "*.d" covers exactly one whole label before d
        label, dot, rest = self.domain.partition(".")
        return name.startswith("*.") and bool(dot) and name[2:] == rest


def _check_domain(domain: str) -> None:
    if not domain or len(domain) > MAX_NAME_CHARS:
        raise UsageError(f"pattern domain must be 1..{MAX_NAME_CHARS} characters: {domain!r}")
    for label in domain.split("."):
        if len(label) > MAX_LABEL_CHARS or not _LABEL.fullmatch(label):
            raise UsageError(f"pattern {domain!r} has an invalid label {label!r}")


def parse_patterns(texts: Iterable[str]) -> tuple[NamePattern, ...]:
    """Parse a watch list; duplicates collapse, order is kept."""
    patterns = tuple(dict.fromkeys(NamePattern.parse(text) for text in texts))
    if not patterns:
        raise UsageError("give at least one pattern to watch")
    if len(patterns) > MAX_PATTERNS:
        raise UsageError(f"at most {MAX_PATTERNS} patterns")
    return patterns


def matching_names(patterns: Sequence[NamePattern], names: Iterable[str]) -> tuple[str, ...]:
    """The names that at least one pattern matches, in the order given."""
    return tuple(name for name in names if any(p.matches(name) for p in patterns))


__all__ = [
    "MAX_PATTERNS",
    "NamePattern",
    "PatternKind",
    "certificate_names",
    "matching_names",
    "normalize_name",
    "parse_patterns",
]
