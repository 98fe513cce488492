"""Signed tree heads (RFC 6962 §3.5) and their get-sth JSON form (§4.3).

`TreeHead` is the unsigned (size, timestamp, root); `signed_data()` is the exact
TreeHeadSignature structure the log signs. `SignedTreeHead` adds the DigitallySigned
signature and round-trips the get-sth JSON with its exact field names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.keys import LogPublicKey, LogSigningKey
from ctlog.merkle import HASH_SIZE
from ctlog.tls import MAX_UINT64, DigitallySigned, uint

VERSION_V1 = 0  # RFC 6962 §3.2: enum { v1(0), (255) } Version
SIGNATURE_TYPE_TREE_HASH = 1  # RFC 6962 §3.2: SignatureType tree_hash(1)


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A tree head: `tree_size` leaves with root `root_hash`, stamped at `timestamp` (ms)."""

    tree_size: int
    timestamp: int
    root_hash: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.tree_size <= MAX_UINT64 or not 0 <= self.timestamp <= MAX_UINT64:
            raise UsageError("tree_size and timestamp are uint64")
        if len(self.root_hash) != HASH_SIZE:
            raise UsageError(f"root hash must be {HASH_SIZE} bytes")

    def signed_data(self) -> bytes:
        """RFC 6962 §3.5 `digitally-signed struct { ... } TreeHeadSignature`."""
        return (
            uint(VERSION_V1, 1)
            + uint(SIGNATURE_TYPE_TREE_HASH, 1)
            + uint(self.timestamp, 8)
            + uint(self.tree_size, 8)
            + self.root_hash
        )


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A tree head with the log's signature over `TreeHead.signed_data()`."""

    tree_head: TreeHead
    signature: DigitallySigned

    @property
    def tree_size(self) -> int:
        return self.tree_head.tree_size

    @property
    def timestamp(self) -> int:
        return self.tree_head.timestamp

    @property
    def root_hash(self) -> bytes:
        return self.tree_head.root_hash

    @classmethod
    def sign(cls, tree_head: TreeHead, key: LogSigningKey) -> SignedTreeHead:
        return cls(tree_head, key.sign(tree_head.signed_data()))

    def verify(self, key: LogPublicKey) -> None:
        """Raise `SignatureError` unless the log holding `key` signed this tree head."""
        key.verify(self.tree_head.signed_data(), self.signature, "tree head")

    def to_json(self) -> dict[str, object]:
        """The RFC 6962 §4.3 get-sth response object."""
        return {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp,
            "sha256_root_hash": base64.b64encode(self.root_hash).decode(),
            "tree_head_signature": base64.b64encode(self.signature.serialize()).decode(),
        }

    @classmethod
    def from_json(cls, obj: object) -> SignedTreeHead:
        """Parse a get-sth object strictly: exact fields, integer sizes, canonical base64."""
        if not isinstance(obj, Mapping):
            raise InputError("a signed tree head must be a JSON object")
        fields = {"tree_size", "timestamp", "sha256_root_hash", "tree_head_signature"}
        missing = fields - obj.keys()
        if missing:
            raise InputError(f"signed tree head lacks {', '.join(sorted(missing))}")
        tree_size = json_uint64(obj["tree_size"], "tree_size")
        timestamp = json_uint64(obj["timestamp"], "timestamp")
        root = b64decode_strict(obj["sha256_root_hash"], "sha256_root_hash")
        if len(root) != HASH_SIZE:
            raise InputError(f"sha256_root_hash is {len(root)} bytes, not {HASH_SIZE}")
        signature = DigitallySigned.deserialize(
            b64decode_strict(obj["tree_head_signature"], "tree_head_signature")
        )
        return cls(TreeHead(tree_size, timestamp, root), signature)


def json_uint64(value: object, name: str) -> int:
    """A JSON integer in [0, 2^64); booleans and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UINT64:
        raise InputError(f"{name} must be an integer in [0, 2^64), got {value!r:.40}")
    return value


def b64decode_strict(value: object, name: str) -> bytes:
    """Standard base64 with padding; anything else (URL alphabet, junk) is refused."""
    if not isinstance(value, str):
        raise InputError(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{name} is not valid base64: {exc}") from None


__all__ = ["SignedTreeHead", "TreeHead", "b64decode_strict", "json_uint64"]
