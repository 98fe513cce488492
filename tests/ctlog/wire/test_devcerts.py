"""The dev PKI: its chains validate, its files reload, and it refuses naive clocks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from cryptography import x509

from ctlog.devcerts import DevPki
from ctlog.errors import UsageError
from ctlog.keys import LogSigningKey
from ctlog.leaf import MerkleTreeLeaf
from ctlog.sct import sign_sct, verify_sct
from ctlog.x509 import RootSet, validate_chain
from tests.ctlog.wire.helpers import NOW, NOW_MS


def test_every_kind_of_chain_validates_and_signs(
    pki: DevPki, roots: RootSet, log_key: LogSigningKey
) -> None:
    kinds = [
        (pki.issue_leaf(["a.example"]), False),
        (pki.issue_precert(["b.example"]), True),
        (pki.issue_precert_via_preca(["c.example"]), True),
    ]
    hashes = set()
    for chain, precert in kinds:
        entry = validate_chain(chain, roots, now_ms=NOW_MS, precert=precert).timestamped_entry(
            NOW_MS
        )
        sct = sign_sct(log_key, entry)
        verify_sct(sct, log_key.public, entry)
        hashes.add(MerkleTreeLeaf(entry).leaf_hash())
    assert len(hashes) == 3


def test_leaves_are_distinct_and_carry_their_names(pki: DevPki) -> None:
    first = x509.load_der_x509_certificate(pki.issue_leaf(["same.example", "alt.example"])[0])
    second = x509.load_der_x509_certificate(pki.issue_leaf(["same.example"])[0])
    assert first.serial_number != second.serial_number
    names = first.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["same.example", "alt.example"]
    with pytest.raises(UsageError, match="at least one DNS name"):
        pki.issue_leaf([])


def test_save_and_load(pki: DevPki, tmp_path: Path) -> None:
    pki.save(tmp_path)
    again = DevPki.load(tmp_path, NOW)
    assert again.root_der == pki.root_der and again.intermediate_der == pki.intermediate_der
    chain = again.issue_leaf(["reloaded.example"])
    validate_chain(chain, RootSet.from_ders([pki.root_der]), now_ms=NOW_MS, precert=False)
    with pytest.raises(UsageError, match="cannot read"):
        DevPki.load(tmp_path / "missing", NOW)


def test_naive_time_is_refused() -> None:
    with pytest.raises(UsageError, match="timezone-aware"):
        DevPki.create(datetime(2026, 1, 1))
