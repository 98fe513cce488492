"""Fixtures shared by the mempool tests: a fake chain, a wallet and an empty pool."""

from __future__ import annotations

import pytest

from btcnode.mempool import Mempool
from tests.btcnode.mempool.helpers import FakeChain, Wallet


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
def wallet() -> Wallet:
    return Wallet()


@pytest.fixture
def pool() -> Mempool:
    return Mempool()
