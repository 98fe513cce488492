"""Typed P2P messages and the registry from message type to codec.

Every message is a frozen dataclass with `command: ClassVar[bytes]`, `serialize() -> bytes`
and `deserialize(payload)`, which bounds every count by Core's limits and refuses trailing
bytes (errors: `MessageDecodeError`, `CountLimitExceeded`). `decode_message` maps a frame's
message type to its class; types it does not know become `UnknownMessage`, since Core
ignores unknown messages and leaves the decision to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from btcnode.p2p._msg_addr import AddrMessage, AddrV2Message
from btcnode.p2p._msg_codec import (
    MAX_ADDR_TO_SEND,
    MAX_HEADERS_RESULTS,
    MAX_INV_SZ,
    MAX_LOCATOR_SZ,
    MAX_REJECT_MESSAGE_LENGTH,
    MAX_SUBVERSION_LENGTH,
)
from btcnode.p2p._msg_control import (
    BIP0031_VERSION,
    FEEFILTER_VERSION,
    MIN_PEER_PROTO_VERSION,
    PROTOCOL_VERSION,
    SENDHEADERS_VERSION,
    SHORT_IDS_BLOCKS_VERSION,
    WTXID_RELAY_VERSION,
    FeeFilterMessage,
    GetAddrMessage,
    MempoolMessage,
    PingMessage,
    PongMessage,
    RejectCode,
    RejectMessage,
    SendAddrV2Message,
    SendCmpctMessage,
    SendHeadersMessage,
    VerackMessage,
    VersionMessage,
    WtxidRelayMessage,
)
from btcnode.p2p._msg_data import BlockMessage, RawBlockMessage, TxMessage
from btcnode.p2p._msg_inventory import (
    MSG_WITNESS_FLAG,
    GetBlocksMessage,
    GetDataMessage,
    GetHeadersMessage,
    HeadersMessage,
    InvMessage,
    InvType,
    InvVector,
    NotFoundMessage,
)
from btcnode.p2p.framing import encode_frame


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message type this codec does not decode, with its payload untouched."""

    command: bytes
    payload: bytes

    def serialize(self) -> bytes:
        return self.payload


KnownMessage = (
    VersionMessage
    | VerackMessage
    | PingMessage
    | PongMessage
    | GetAddrMessage
    | AddrMessage
    | AddrV2Message
    | SendAddrV2Message
    | WtxidRelayMessage
    | SendHeadersMessage
    | SendCmpctMessage
    | FeeFilterMessage
    | GetHeadersMessage
    | GetBlocksMessage
    | HeadersMessage
    | InvMessage
    | GetDataMessage
    | NotFoundMessage
    | TxMessage
    | BlockMessage
    | MempoolMessage
    | RejectMessage
)
Message = KnownMessage | UnknownMessage
OutboundMessage = Message | RawBlockMessage  # what a node sends: any message, or stored block bytes

_CLASSES: tuple[type[KnownMessage], ...] = (
    VersionMessage,
    VerackMessage,
    PingMessage,
    PongMessage,
    GetAddrMessage,
    AddrMessage,
    AddrV2Message,
    SendAddrV2Message,
    WtxidRelayMessage,
    SendHeadersMessage,
    SendCmpctMessage,
    FeeFilterMessage,
    GetHeadersMessage,
    GetBlocksMessage,
    HeadersMessage,
    InvMessage,
    GetDataMessage,
    NotFoundMessage,
    TxMessage,
    BlockMessage,
    MempoolMessage,
    RejectMessage,
)

# message type -> decoder; read-only so no caller can change how another peer is decoded
DECODERS: Mapping[bytes, Callable[[bytes], KnownMessage]] = MappingProxyType(
    {cls.command: cls.deserialize for cls in _CLASSES}
)


def decode_message(command: bytes, payload: bytes) -> Message:
    """The typed message for a frame; unknown message types become `UnknownMessage`.

    Raises `MessageDecodeError` (or its `CountLimitExceeded`) for a known type whose payload
    is malformed, oversize in one of its counts, or followed by trailing bytes.
    """
    decode = DECODERS.get(command)
    if decode is None:
        return UnknownMessage(command, payload)
    return decode(payload)


def encode_message(magic: bytes, message: OutboundMessage) -> bytes:
    """The complete frame for `message` on the network whose message start is `magic`."""
    return encode_frame(magic, message.command, message.serialize())


__all__ = [
    "BIP0031_VERSION",
    "DECODERS",
    "FEEFILTER_VERSION",
    "MAX_ADDR_TO_SEND",
    "MAX_HEADERS_RESULTS",
    "MAX_INV_SZ",
    "MAX_LOCATOR_SZ",
    "MAX_REJECT_MESSAGE_LENGTH",
    "MAX_SUBVERSION_LENGTH",
    "MIN_PEER_PROTO_VERSION",
    "MSG_WITNESS_FLAG",
    "PROTOCOL_VERSION",
    "SENDHEADERS_VERSION",
    "SHORT_IDS_BLOCKS_VERSION",
    "WTXID_RELAY_VERSION",
    "AddrMessage",
    "AddrV2Message",
    "BlockMessage",
    "FeeFilterMessage",
    "GetAddrMessage",
    "GetBlocksMessage",
    "GetDataMessage",
    "GetHeadersMessage",
    "HeadersMessage",
    "InvMessage",
    "InvType",
    "InvVector",
    "KnownMessage",
    "MempoolMessage",
    "Message",
    "NotFoundMessage",
    "OutboundMessage",
    "PingMessage",
    "PongMessage",
    "RawBlockMessage",
    "RejectCode",
    "RejectMessage",
    "SendAddrV2Message",
    "SendCmpctMessage",
    "SendHeadersMessage",
    "TxMessage",
    "UnknownMessage",
    "VerackMessage",
    "VersionMessage",
    "WtxidRelayMessage",
    "decode_message",
    "encode_message",
]
