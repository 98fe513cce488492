"""Cluster authentication: HMAC-SHA256 proofs over a shared secret.

Each side of a peer connection proves it knows the cluster secret by sending
`HMAC(secret, role || client_id || server_id || client_nonce || server_nonce)`. The proof binds
both node ids (a proof for one pair is useless for another) and both fresh nonces (a recorded
handshake does not verify against a new nonce), and the role label keeps a client proof from
being reflected back as a server proof. Fields are length-prefixed so no two inputs collide.
Nonces are inputs: the caller draws them from a CSPRNG.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, field
from enum import Enum

from common.errors import ConfigError

MIN_SECRET_BYTES = 16  # 128 bits: a shorter secret could be brute-forced from one handshake
MAX_SECRET_BYTES = 4096  # longer is a misconfiguration (a whole file read by mistake)
NONCE_BYTES = 32  # 256 random bits per side: never repeats in practice
MAC_BYTES = 32  # HMAC-SHA256 output length

_LABEL_PREFIX = b"opentrust-net-v1 handshake "


class Role(Enum):
    """Which side of a connection a proof comes from."""

    CLIENT = b"client"  # the side that dialled
    SERVER = b"server"  # the side that accepted


@dataclass(frozen=True, slots=True)
class ClusterAuth:
    """The shared cluster secret; its repr never shows the secret."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes):
            raise ConfigError(f"cluster secret must be bytes, got {type(self.secret).__name__}")
        if not MIN_SECRET_BYTES <= len(self.secret) <= MAX_SECRET_BYTES:
            raise ConfigError(
                f"cluster secret must be {MIN_SECRET_BYTES}..{MAX_SECRET_BYTES} bytes, "
                f"got {len(self.secret)}"
            )

    def proof(
        self,
        role: Role,
        client_id: str,
        server_id: str,
        client_nonce: bytes,
        server_nonce: bytes,
    ) -> bytes:
        """The MAC that side `role` sends for this connection."""
        if len(client_nonce) != NONCE_BYTES or len(server_nonce) != NONCE_BYTES:
            raise ValueError(f"nonces must be {NONCE_BYTES} bytes")
        parts = [_LABEL_PREFIX, role.value]
        for node_id in (client_id, server_id):
            raw = node_id.encode("utf-8")
            parts.append(struct.pack(">H", len(raw)))
            parts.append(raw)
        parts.append(client_nonce)
        parts.append(server_nonce)
        return hmac.new(self.secret, b"".join(parts), hashlib.sha256).digest()

    def verify(
        self,
        role: Role,
        client_id: str,
        server_id: str,
        client_nonce: bytes,
        server_nonce: bytes,
        mac: bytes,
    ) -> bool:
        """True if `mac` is the proof side `role` must send; compares in constant time."""
        expected = self.proof(role, client_id, server_id, client_nonce, server_nonce)
        return hmac.compare_digest(expected, mac)
