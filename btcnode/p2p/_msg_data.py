"""The messages that carry a transaction or a block.

Both keep the exact payload they were decoded from (or that `serialize` first produced), so
relaying a block or transaction sends the received bytes without serializing it again.
Transactions are read with their witness (Core's TX_WITH_WITNESS); a block's transactions too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Self

from btcnode.consensus.block import Block
from btcnode.consensus.tx import Tx
from btcnode.p2p._msg_codec import decode_payload


@dataclass(frozen=True, slots=True)
class TxMessage:
    """A transaction, serialized with its witness."""

    command: ClassVar[bytes] = b"tx"

    tx: Tx
    _raw: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def serialize(self) -> bytes:
        if self._raw is None:
            object.__setattr__(self, "_raw", self.tx.serialize())
        assert self._raw is not None
        return self._raw

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        payload = bytes(payload)
        message = cls(decode_payload(cls.command, payload, Tx.read_from))
        object.__setattr__(message, "_raw", payload)
        return message


@dataclass(frozen=True, slots=True)
class BlockMessage:
    """A full block, serialized with witness data."""

    command: ClassVar[bytes] = b"block"

    block: Block
    _raw: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def serialize(self) -> bytes:
        if self._raw is None:
            object.__setattr__(self, "_raw", self.block.serialize())
        assert self._raw is not None
        return self._raw

    @classmethod
    def deserialize(cls, payload: bytes) -> Self:
        payload = bytes(payload)
        message = cls(decode_payload(cls.command, payload, Block.read_from))
        object.__setattr__(message, "_raw", payload)
        return message


@dataclass(frozen=True, slots=True)
class RawBlockMessage:
    """A `block` message built from stored bytes (Core's serving of getdata from disk).

    The payload is sent as is: serving a block never decodes and re-encodes it. Sending
    only; a received `block` decodes to `BlockMessage`.
    """

    command: ClassVar[bytes] = b"block"

    payload: bytes = field(repr=False)

    def serialize(self) -> bytes:
        return self.payload
