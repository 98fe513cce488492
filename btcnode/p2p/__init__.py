"""The Bitcoin v1 peer-to-peer wire protocol: message framing and typed message codecs.

Pure and synchronous: no sockets, no clock, no randomness. A connection driver feeds the
received bytes to a `FrameDecoder`, turns each `Frame` into a message with
`decode_message`, and sends `encode_frame(magic, msg.command, msg.serialize())`.
"""

from btcnode.p2p.errors import (
    DISCOURAGE_SCORE,
    IGNORE_SCORE,
    CountLimitExceeded,
    FramingError,
    MessageDecodeError,
    P2PError,
    P2PMisuse,
    PeerMisbehaving,
)
from btcnode.p2p.framing import (
    HEADER_SIZE,
    MAX_PROTOCOL_MESSAGE_LENGTH,
    Frame,
    FrameDecoder,
    checksum,
    encode_frame,
    encode_header,
)

__all__ = [
    "DISCOURAGE_SCORE",
    "HEADER_SIZE",
    "IGNORE_SCORE",
    "MAX_PROTOCOL_MESSAGE_LENGTH",
    "CountLimitExceeded",
    "Frame",
    "FrameDecoder",
    "FramingError",
    "MessageDecodeError",
    "P2PError",
    "P2PMisuse",
    "PeerMisbehaving",
    "checksum",
    "encode_frame",
    "encode_header",
]
