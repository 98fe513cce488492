"""What the net-processing core asks its driver to do: send, disconnect, ban.

Every `NetProcessor` entry point returns a list of these, in the order they must be carried
out. Ordering contract: apply them in list order; a `SendMessage` queued before a
`DisconnectPeer` of the same peer may be dropped with the connection (Core closes without
flushing either); a `BanAddress` is followed by the `DisconnectPeer` of the banned peer.
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.p2p.messages import OutboundMessage

__all__ = ["BanAddress", "DisconnectPeer", "Effect", "SendMessage"]


@dataclass(frozen=True, slots=True)
class SendMessage:
    """Queue `message` for the peer `peer_id`."""

    peer_id: int
    message: OutboundMessage


@dataclass(frozen=True, slots=True)
class DisconnectPeer:
    """Close the connection to `peer_id`; `reason` is a short stable name for logs and tests."""

    peer_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class BanAddress:
    """Refuse connections from `host` until `until` (UNIX seconds) and drop the current ones."""

    host: str
    until: int
    reason: str


Effect = SendMessage | DisconnectPeer | BanAddress
