from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import coincurve
import pytest

from btcnode.consensus.block import Block
from tests.btcnode.rpc.harness import Harness, serve
from tests.btcnode.scenarios.helpers import key, mature_node


@dataclass
class Funded:
    rpc: Harness
    owner: coincurve.PrivateKey
    blocks: list[Block]


@pytest.fixture
def rpc() -> Iterator[Harness]:
    yield from serve()


@pytest.fixture
def funded() -> Iterator[Funded]:
    """A server over a node with 101 blocks paying `owner`'s P2WPKH: the first coinbase is
    spendable."""
    owner = key("owner")
    node, blocks = mature_node(owner)
    for harness in serve(node):
        yield Funded(harness, owner, blocks)
