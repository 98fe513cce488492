"""STH pollination messages (draft-ietf-trans-gossip §8.2): `{"sths": [...]}` both ways.

A client, peer or auditor POSTs a JSON object whose `sths` array holds STH objects; the
response has the same form and carries a selection of the receiver's fresh STHs. Each STH
object is the RFC 6962 §4.3 get-sth object plus `sth_version` (RFC 6962 §3.2 Version, v1 = 0)
and `log_id` (RFC 6962 §3.2 LogID, base64). Decoding is strict: exact keys, bounded size and
count; a message with one malformed STH is rejected whole. Signatures are not checked here
(the auditor core checks them against the keys of the logs it audits).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.sth import SignedTreeHead, b64decode_strict, json_uint64
from ctlog.strict_json import exact_object, strict_loads

POLLINATION_PATH = "/.well-known/ct/v1/sth-pollination"  # draft-ietf-trans-gossip §8.2
MAX_POLLINATION_BYTES = 256 * 1024  # ~1000 STHs of ~250 bytes; far above one selection
MAX_STHS_PER_MESSAGE = 512  # an array bound for decoding; a selection sends far fewer
STH_VERSION_V1 = 0  # RFC 6962 §3.2: enum { v1(0), (255) } Version
LOG_ID_BYTES = 32  # RFC 6962 §3.2: LogID is SHA-256 of the log's public key
_STH_FIELDS = {"tree_size", "timestamp", "sha256_root_hash", "tree_head_signature"}
_GOSSIP_FIELDS = _STH_FIELDS | {"sth_version", "log_id"}


@dataclass(frozen=True, slots=True)
class GossipedSth:
    """A signed tree head together with the id of the log that (claims to have) signed it."""

    log_id: bytes
    sth: SignedTreeHead

    def __post_init__(self) -> None:
        if len(self.log_id) != LOG_ID_BYTES:
            raise UsageError(f"log_id must be {LOG_ID_BYTES} bytes")

    def to_json(self) -> dict[str, object]:
        return {
            "sth_version": STH_VERSION_V1,
            "log_id": base64.b64encode(self.log_id).decode(),
            **self.sth.to_json(),
        }

    @classmethod
    def from_json(cls, obj: object, what: str = "sth") -> GossipedSth:
        fields = exact_object(obj, _GOSSIP_FIELDS, what)
        if json_uint64(fields["sth_version"], f"{what}.sth_version") != STH_VERSION_V1:
            raise InputError(f"{what}.sth_version {fields['sth_version']} is not v1 (0)")
        log_id = b64decode_strict(fields["log_id"], f"{what}.log_id")
        if len(log_id) != LOG_ID_BYTES:
            raise InputError(f"{what}.log_id is {len(log_id)} bytes, not {LOG_ID_BYTES}")
        try:
            sth = SignedTreeHead.from_json({k: fields[k] for k in _STH_FIELDS})
        except InputError as exc:
            raise InputError(f"{what}: {exc}") from None
        return cls(log_id, sth)


def encode_pollination(sths: Sequence[GossipedSth]) -> bytes:
    """The JSON body carrying `sths`; refuses more than `MAX_STHS_PER_MESSAGE`."""
    if len(sths) > MAX_STHS_PER_MESSAGE:
        raise UsageError(f"at most {MAX_STHS_PER_MESSAGE} STHs fit in one pollination")
    body = json.dumps({"sths": [s.to_json() for s in sths]}, separators=(",", ":"))
    return body.encode()


def decode_pollination(body: bytes) -> list[GossipedSth]:
    """Parse a pollination body strictly; `InputError` (400, or 413 when oversize) if not."""
    obj = exact_object(
        strict_loads(body, max_bytes=MAX_POLLINATION_BYTES, what="pollination"),
        {"sths"},
        "pollination",
    )
    items = obj["sths"]
    if not isinstance(items, list):
        raise InputError("pollination.sths must be an array")
    if len(items) > MAX_STHS_PER_MESSAGE:
        raise InputError(
            f"pollination carries {len(items)} STHs, over the limit of {MAX_STHS_PER_MESSAGE}",
            http_status=413,
        )
    return [GossipedSth.from_json(item, f"sths[{i}]") for i, item in enumerate(items)]


__all__ = [
    "LOG_ID_BYTES",
    "MAX_POLLINATION_BYTES",
    "MAX_STHS_PER_MESSAGE",
    "POLLINATION_PATH",
    "STH_VERSION_V1",
    "GossipedSth",
    "decode_pollination",
    "encode_pollination",
]
