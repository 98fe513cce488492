"""Fixtures of the wire tests: one dev PKI and one log key per session (ECDSA, fast)."""

from __future__ import annotations

import pytest

from ctlog.devcerts import DevPki
from ctlog.keys import LogSigningKey
from ctlog.x509 import RootSet
from tests.ctlog.wire.helpers import NOW


@pytest.fixture(scope="session")
def pki() -> DevPki:
    return DevPki.create(NOW)


@pytest.fixture(scope="session")
def roots(pki: DevPki) -> RootSet:
    return RootSet.from_ders([pki.root_der])


@pytest.fixture(scope="session")
def log_key() -> LogSigningKey:
    return LogSigningKey.generate()
