"""validate_chain: what add-chain and add-pre-chain accept, and every refusal's reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from ctlog.devcerts import DevPki
from ctlog.errors import InputError, UsageError
from ctlog.leaf import LogEntryType, PreCert, decode_extra_data, parse_data_tile
from ctlog.x509 import (
    MAX_CHAIN_LENGTH,
    RootSet,
    VerifiedLinks,
    key_hash,
    ms_from_datetime,
    parse_chain,
    precert_tbs,
    validate_chain,
)
from tests.ctlog.wire.helpers import NOW, NOW_MS, custom_cert, flip_last_byte


def refusal(
    chain: Sequence[bytes], roots: RootSet, *, precert: bool = False, **kwargs: object
) -> InputError:
    with pytest.raises(InputError) as err:
        validate_chain(chain, roots, now_ms=NOW_MS, precert=precert, **kwargs)  # type: ignore[arg-type]
    assert err.value.http_status == 400
    assert "\n" not in str(err.value)
    return err.value


def test_certificate_chain(pki: DevPki, roots: RootSet) -> None:
    chain = pki.issue_leaf(["www.example", "example"])
    accepted = validate_chain(chain, roots, now_ms=NOW_MS, precert=False)
    assert accepted.ders == (*chain, pki.root_der)  # the root is appended
    assert accepted.entry_type is LogEntryType.X509_ENTRY
    assert accepted.timestamped_entry(7).signed_entry == chain[0]
    assert decode_extra_data(LogEntryType.X509_ENTRY, accepted.extra_data()) == [
        pki.intermediate_der,
        pki.root_der,
    ]
    # Submitting the root too gives the same result.
    with_root = validate_chain([*chain, pki.root_der], roots, now_ms=NOW_MS, precert=False)
    assert with_root == accepted


def test_precertificate_chain(pki: DevPki, roots: RootSet) -> None:
    chain = pki.issue_precert(["pre.example"])
    accepted = validate_chain(chain, roots, now_ms=NOW_MS, precert=True)
    entry = accepted.timestamped_entry(9)
    assert entry.signed_entry == PreCert(key_hash(pki.intermediate_der), precert_tbs(chain[0]))
    assert decode_extra_data(LogEntryType.PRECERT_ENTRY, accepted.extra_data()) == list(
        accepted.ders
    )
    (tile_leaf,) = parse_data_tile(accepted.tile_leaf(entry).serialize())
    assert tile_leaf.pre_certificate == chain[0]
    assert len(tile_leaf.certificate_chain) == 2


def test_preca_chain_uses_the_final_issuer(pki: DevPki, roots: RootSet) -> None:
    chain = pki.issue_precert_via_preca(["via-preca.example"])
    entry = validate_chain(chain, roots, now_ms=NOW_MS, precert=True).timestamped_entry(1)
    assert isinstance(entry.signed_entry, PreCert)
    assert entry.signed_entry.issuer_key_hash == key_hash(pki.intermediate_der)
    tbs = x509.load_der_x509_certificate(chain[0]).tbs_certificate_bytes
    assert entry.signed_entry.tbs_certificate != precert_tbs(chain[0])
    assert len(entry.signed_entry.tbs_certificate) < len(tbs)


def test_a_root_alone_is_accepted(pki: DevPki, roots: RootSet) -> None:
    accepted = validate_chain([pki.root_der], roots, now_ms=NOW_MS, precert=False)
    assert accepted.ders == (pki.root_der,)


def test_garbage_and_size(pki: DevPki, roots: RootSet) -> None:
    assert str(refusal([], roots)) == "the certificate chain is empty"
    assert "certificate 0 is not a DER X.509 certificate" in str(refusal([b"garbage"], roots))
    bad_second = refusal([pki.issue_leaf(["a.example"])[0], b"\x30\x00"], roots)
    assert "certificate 1 is not a DER X.509" in str(bad_second)
    assert "certificate 0 is 0 bytes" in str(refusal([b""], roots))
    too_long = refusal([pki.root_der] * (MAX_CHAIN_LENGTH + 1), roots)
    assert f"more than {MAX_CHAIN_LENGTH}" in str(too_long)


def test_unknown_root(pki: DevPki, roots: RootSet) -> None:
    stranger = DevPki.create(NOW, name="stranger")
    err = refusal(stranger.issue_leaf(["x.example"]), roots)
    assert "certificate 1 does not chain to an accepted root" in str(err)
    assert "stranger root" in str(err) and "no accepted root has that subject" in str(err)
    # A self-signed root that is not accepted fails the same way.
    assert "certificate 0 does not chain" in str(refusal([stranger.root_der], roots))


def test_root_with_the_right_name_but_another_key(pki: DevPki) -> None:
    """An impostor root with the accepted root's subject: the signature decides."""
    impostor = DevPki.create(NOW)  # same default names, different keys
    err = refusal(pki.issue_leaf(["a.example"]), RootSet.from_ders([impostor.root_der]))
    assert "certificate 1 does not chain to an accepted root" in str(err)
    assert "its signature fails" in str(err)


def test_broken_signature(pki: DevPki, roots: RootSet) -> None:
    leaf, intermediate = pki.issue_leaf(["a.example"])
    err = refusal([flip_last_byte(leaf), intermediate], roots)
    assert str(err) == "certificate 0's signature does not verify under its issuer's key"


def test_issuer_name_mismatch(pki: DevPki, roots: RootSet) -> None:
    leaf = pki.issue_leaf(["a.example"])[0]
    err = refusal([leaf, pki.root_der], roots)  # the intermediate is skipped
    assert "certificate 0's issuer (" in str(err)
    assert "is not the subject of the next certificate" in str(err)


def test_non_ca_issuer(pki: DevPki, roots: RootSet) -> None:
    leaf, intermediate = pki.issue_leaf(["issuer.example"])
    leaf_subject = x509.load_der_x509_certificate(leaf).subject
    child = custom_cert(
        subject="child.example",
        issuer_name=leaf_subject,
        issuer_key=pki.subscriber_key,
        key=ec.generate_private_key(ec.SECP256R1()),
    )
    err = refusal([child, leaf, intermediate], roots)
    assert str(err) == (
        "certificate 1 is not a CA (BasicConstraints cA is not true) but issued certificate 0"
    )


def test_expired_and_not_yet_valid(pki: DevPki, roots: RootSet) -> None:
    expired = pki.issue_leaf(
        ["old.example"], not_before=NOW - timedelta(days=100), not_after=NOW - timedelta(days=1)
    )
    err = refusal(expired, roots)
    expiry = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert str(err) == f"certificate 0 expired at {expiry}"
    validate_chain(expired, roots, now_ms=NOW_MS, precert=False, allow_expired=True)
    future = pki.issue_leaf(["new.example"], not_before=NOW + timedelta(days=1))
    assert "certificate 0 is not valid before" in str(refusal(future, roots))


def test_poison_decides_the_endpoint(pki: DevPki, roots: RootSet) -> None:
    precert = pki.issue_precert(["pre.example"])
    err = refusal(precert, roots, precert=False)
    assert "certificate 0 is a precertificate" in str(err) and "add-pre-chain" in str(err)
    err = refusal(pki.issue_leaf(["cert.example"]), roots, precert=True)
    assert str(err) == "certificate 0 lacks the critical CT poison extension add-pre-chain requires"


def test_poison_must_be_critical(pki: DevPki, roots: RootSet) -> None:
    leaf = custom_cert(
        subject="soft-poison.example",
        issuer_name=pki.intermediate.cert.subject,
        issuer_key=pki.intermediate.key,
        key=pki.subscriber_key,
        extensions=[(x509.PrecertPoison(), False)],
    )
    err = refusal([leaf, pki.intermediate_der], roots, precert=True)
    assert str(err) == "certificate 0 has a CT poison extension not marked critical"


def test_preca_may_only_issue_precerts(pki: DevPki, roots: RootSet) -> None:
    leaf = custom_cert(
        subject="by-preca.example",
        issuer_name=pki.preca.cert.subject,
        issuer_key=pki.preca.key,
        key=pki.subscriber_key,
    )
    err = refusal([leaf, pki.preca.der, pki.intermediate_der], roots)
    assert "certificate 1 is a precertificate signing certificate" in str(err)


def test_shard_window(pki: DevPki, roots: RootSet) -> None:
    chain = pki.issue_leaf(["shard.example"])
    not_after = ms_from_datetime(x509.load_der_x509_certificate(chain[0]).not_valid_after_utc)
    inside = {"not_after_start_ms": not_after, "not_after_end_ms": not_after + 1}
    validate_chain(chain, roots, now_ms=NOW_MS, precert=False, **inside)  # type: ignore[arg-type]
    err = refusal(chain, roots, not_after_start_ms=not_after + 1)
    assert "outside this log's notAfter window [" in str(err) and "+inf)" in str(err)
    err = refusal(chain, roots, not_after_end_ms=not_after)  # the end is exclusive
    assert "window [-inf, " in str(err)
    with pytest.raises(UsageError, match="start < end"):
        validate_chain(
            chain, roots, now_ms=NOW_MS, precert=False, not_after_start_ms=5, not_after_end_ms=5
        )


def test_root_set(pki: DevPki) -> None:
    roots = RootSet.from_ders([pki.root_der, pki.root_der, pki.intermediate_der])
    assert roots.ders() == [pki.root_der, pki.intermediate_der]  # duplicates dropped
    assert len(roots) == 2 and pki.root_der in roots
    assert roots.by_subject(pki.root.cert.subject) == [pki.root_der]
    assert roots.by_key_hash(key_hash(pki.intermediate_der)) == pki.intermediate_der
    assert roots.by_key_hash(b"\x00" * 32) is None
    with pytest.raises(UsageError, match="at least one accepted root"):
        RootSet.from_ders([])
    with pytest.raises(InputError) as err:
        RootSet.from_ders([b"junk"])
    assert str(err.value).startswith("root 0 is not a DER X.509 certificate")


def test_parse_chain_keeps_order(pki: DevPki) -> None:
    chain = pki.issue_leaf(["order.example"])
    parsed = parse_chain(chain)
    assert [c.subject for c in parsed] == [
        x509.load_der_x509_certificate(der).subject for der in chain
    ]


def test_verified_links_skip_only_the_exact_issuer_pair(
    pki: DevPki, roots: RootSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memo saves re-checking intermediate -> root; leaves and new pairs are always checked."""
    import ctlog.x509._chain as chain_module

    checked: list[int] = []
    real_check = chain_module.check_issued_by

    def counting(cert: x509.Certificate, issuer: x509.Certificate, position: int) -> None:
        checked.append(position)
        real_check(cert, issuer, position)

    monkeypatch.setattr(chain_module, "check_issued_by", counting)
    links = VerifiedLinks(max_links=1)
    for name in ("a.example", "b.example"):
        validate_chain(pki.issue_leaf([name]), roots, now_ms=NOW_MS, precert=False, links=links)
    assert checked == [0, 1, 0]  # the second chain re-checks its leaf, not the intermediate
    assert len(links) == 1
    leaf, intermediate = pki.issue_leaf(["c.example"])
    with pytest.raises(InputError, match="certificate 0's signature does not verify"):
        validate_chain(
            [flip_last_byte(leaf), intermediate], roots, now_ms=NOW_MS, precert=False, links=links
        )
    impostor = DevPki.create(NOW)
    err = refusal(impostor.issue_leaf(["d.example"]), roots, links=links)
    assert "does not chain to an accepted root" in str(err)  # a new pair is checked, and fails
    assert len(links) == 1
    with pytest.raises(UsageError):
        VerifiedLinks(max_links=0)
