"""Which names a logged certificate carries, and which patterns they match."""

from __future__ import annotations

import pytest

from ctlog.errors import InputError, UsageError
from ctlog.leaf import PreCert
from ctlog.monitor.names import (
    NamePattern,
    PatternKind,
    certificate_names,
    matching_names,
    parse_patterns,
)
from ctlog.x509 import entry_for_chain
from tests.ctlog.fakelog import dev_pki


def test_leaf_names_are_cn_then_sans_normalized() -> None:
    pki = dev_pki()
    der = pki.issue_leaf(["WWW.Example.COM.", "api.example.com", "www.example.com"])[0]
    assert certificate_names(der) == ("www.example.com", "api.example.com")


def test_precert_names_come_from_the_tbs() -> None:
    pki = dev_pki()
    _, signed_entry = entry_for_chain(pki.issue_precert(["pre.example.org", "*.example.org"]))
    assert isinstance(signed_entry, PreCert)
    names = certificate_names(signed_entry.tbs_certificate, is_tbs=True)
    assert names == ("pre.example.org", "*.example.org")


@pytest.mark.parametrize(
    ("der", "is_tbs"),
    [(b"", False), (b"\x30\x03\x02\x01\x01", False), (b"\x30\x80", True), (b"\x04\x00", True)],
    ids=["empty", "not-a-cert", "indefinite-length", "wrong-tag"],
)
def test_malformed_der_is_an_input_error(der: bytes, is_tbs: bool) -> None:
    with pytest.raises(InputError):
        certificate_names(der, is_tbs=is_tbs)


def test_a_certificate_is_not_a_tbs() -> None:
    der = dev_pki().issue_leaf(["a.example.com"])[0]
    with pytest.raises(InputError):
        certificate_names(der, is_tbs=True)


CASES = [
    # pattern, certificate name, matches?
    ("www.example.com", "www.example.com", True),
    ("www.example.com", "WWW.example.com.", False),  # names are normalized before matching
    ("www.example.com", "*.example.com", True),  # RFC 6125 §6.4.3: the wildcard covers it
    ("www.example.com", "*.www.example.com", False),
    ("www.example.com", "example.com", False),
    ("*.example.com", "a.example.com", True),
    ("*.example.com", "*.example.com", True),
    ("*.example.com", "a.b.example.com", False),  # one label only
    ("*.example.com", "example.com", False),
    ("*.example.com", "badexample.com", False),
    (".example.com", "example.com", True),
    (".example.com", "a.b.c.example.com", True),
    (".example.com", "*.example.com", True),
    (".example.com", "notexample.com", False),
    (".example.com", "example.com.evil.net", False),
]


@pytest.mark.parametrize(("pattern", "name", "expected"), CASES)
def test_pattern_semantics(pattern: str, name: str, expected: bool) -> None:
    assert NamePattern.parse(pattern).matches(name) is expected


def test_patterns_parse_and_print() -> None:
    assert NamePattern.parse("*.Example.com.") == NamePattern(PatternKind.ONE_LABEL, "example.com")
    assert [str(p) for p in parse_patterns(["a.com", ".b.com", "*.c.com", "a.com"])] == [
        "a.com",
        ".b.com",
        "*.c.com",
    ]


@pytest.mark.parametrize(
    "text",
    ["", "*", "*.", "a.*.com", "**.com", "ex ample.com", "bücher.de", "-a.com", "a" * 64 + ".com"],
)
def test_bad_patterns_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        NamePattern.parse(text)


def test_empty_watch_list_is_refused() -> None:
    with pytest.raises(UsageError, match="at least one"):
        parse_patterns([])


def test_matching_names_keeps_certificate_order() -> None:
    patterns = parse_patterns(["*.example.com", "exact.org"])
    names = ("exact.org", "x.example.com", "x.y.example.com", "other.net")
    assert matching_names(patterns, names) == ("exact.org", "x.example.com")
