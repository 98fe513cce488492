from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.btcnode.rpc.harness import Harness, serve


@pytest.fixture
def rpc() -> Iterator[Harness]:
    yield from serve()
