"""`RpcError`: a JSON-RPC error with Bitcoin Core's code and message (rpc/protocol.h).

Methods raise `RpcError(code, message)`; the envelope layer renders it as Core's
`{"code": ..., "message": ...}` error object. The client raises the same class for an error
answer, so code written against the server and the client catches one type.
"""

from __future__ import annotations

import enum

from btcnode.consensus.errors import ChainError

__all__ = ["RpcError", "RpcErrorCode"]


class RpcErrorCode(enum.IntEnum):
    """Core's RPCErrorCode values used here (rpc/protocol.h)."""

    # Standard JSON-RPC 2.0 errors.
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    PARSE_ERROR = -32700
    # General application defined errors.
    MISC_ERROR = -1  # std::exception thrown in command handling
    TYPE_ERROR = -3  # unexpected type was passed as parameter
    INVALID_ADDRESS_OR_KEY = -5  # invalid address or key, or block/tx not found
    OUT_OF_MEMORY = -7
    INVALID_PARAMETER = -8  # invalid, missing or duplicate parameter
    DATABASE_ERROR = -20
    DESERIALIZATION_ERROR = -22  # error parsing or validating structure in raw format
    VERIFY_ERROR = -25  # general error during transaction or block submission
    VERIFY_REJECTED = -26  # transaction or block was rejected by network rules
    VERIFY_ALREADY_IN_CHAIN = -27  # transaction already in chain
    IN_WARMUP = -28
    # P2P client errors.
    CLIENT_NOT_CONNECTED = -9
    CLIENT_IN_INITIAL_DOWNLOAD = -10
    CLIENT_NODE_ALREADY_ADDED = -23
    CLIENT_NODE_NOT_ADDED = -24
    CLIENT_NODE_NOT_CONNECTED = -29
    CLIENT_INVALID_IP_OR_SUBNET = -30
    CLIENT_P2P_DISABLED = -31
    # Wallet errors (only the one a wallet URI without wallets can meet).
    WALLET_NOT_FOUND = -18


class RpcError(ChainError):
    """A JSON-RPC error answer: Core's numeric `code` and its `message`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = int(code)
        self.message = message

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"RpcError({self.code}, {self.message!r})"
