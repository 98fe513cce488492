"""The wallet's view of a node: the JSON-RPC calls it makes, and their failures as wallet
errors that say whose fault it was (node down, node refused, node on another chain).

Hashes cross the RPC boundary as hex in display order (byte-reversed, as Core prints them);
inside the wallet they are bytes in internal order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from btcnode.consensus.errors import ChainError
from btcnode.consensus.hashes import hash256_hex, hash_from_hex
from btcnode.consensus.params import COIN
from btcnode.mempool.feerate import FeeRate
from btcnode.rpc.errors import RpcError, RpcErrorCode
from wallets.errors import WalletError, WalletInputError

__all__ = [
    "DEFAULT_FALLBACK_FEE_RATE",
    "FEE_ESTIMATE_TARGET",
    "NodeClient",
    "NodeRefused",
    "NodeUnavailable",
    "WrongChain",
    "call_node",
    "estimate_fee_rate",
    "from_display_hex",
]

# Core's -fallbackfee before 0.21 (0.0002 BTC/kvB = 20 sat/vB): used when the node has no
# estimate (always on regtest, and on a node that has seen too few blocks).
DEFAULT_FALLBACK_FEE_RATE = FeeRate(20_000)
FEE_ESTIMATE_TARGET = 6  # blocks: Core's bitcoin-cli examples and a common wallet default


class NodeClient(Protocol):
    """What the wallet needs of a node: one JSON-RPC call (`SyncRpcClient` has it)."""

    def call(self, method: str, *params: Any) -> Any: ...


class NodeUnavailable(WalletError):
    """The node did not answer (down, wrong port, wrong credentials)."""


class NodeRefused(WalletError):
    """The node answered a call with an error: Core's code and message."""

    def __init__(self, method: str, code: int, message: str) -> None:
        self.method, self.code, self.message = method, code, message
        super().__init__(f"node refused {method}: {message} (code {code})")


class WrongChain(WalletInputError):
    """The node follows another chain than the wallet's network."""

    def __init__(self, network: str, expected: bytes, found: bytes) -> None:
        self.network, self.expected, self.found = network, expected, found
        super().__init__(
            f"the node is not on {network}: its genesis block is {hash256_hex(found)}, "
            f"expected {hash256_hex(expected)}"
        )


def from_display_hex(text: Any) -> bytes:
    """A hash the node displayed (reversed hex); `WalletError` for anything else it sent."""
    try:
        if isinstance(text, str):
            return hash_from_hex(text)
    except ValueError:
        pass
    raise WalletError(f"the node sent {text!r} where a hash was expected")


def call_node(node: NodeClient, method: str, *params: Any) -> Any:
    """`node.call`, its failures as `NodeRefused` or `NodeUnavailable`."""
    try:
        return node.call(method, *params)
    except RpcError as err:
        raise NodeRefused(method, err.code, err.message) from None
    except ChainError as err:  # RpcTransportError and anything else the client raises
        raise NodeUnavailable(f"cannot reach the node ({method}): {err}") from None
    except OSError as err:
        raise NodeUnavailable(f"cannot reach the node ({method}): {err}") from None


def estimate_fee_rate(node: NodeClient, target: int = FEE_ESTIMATE_TARGET) -> FeeRate:
    """The node's `estimatesmartfee target` (BTC/kvB) as a FeeRate, or the fallback."""
    try:
        answer = call_node(node, "estimatesmartfee", target)
    except NodeRefused as err:
        if err.code == RpcErrorCode.METHOD_NOT_FOUND:
            return DEFAULT_FALLBACK_FEE_RATE
        raise
    rate = answer.get("feerate") if isinstance(answer, dict) else None
    if rate is None:
        return DEFAULT_FALLBACK_FEE_RATE
    return FeeRate(int(Decimal(str(rate)) * COIN))
