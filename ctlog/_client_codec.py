"""Pure request and response codecs of the RFC 6962 §4 API and the static-ct read path.

Everything a log sends back is parsed strictly here, away from the HTTP layer in
`ctlog.client`: JSON must be an object without duplicate keys, every field the endpoint
defines must be present with the right type, base64 must be canonical, hashes exactly 32
bytes and lists bounded. Each failure is an `InputError` that names the endpoint and field.
The retry policy (which statuses to retry, how long to wait) is pure too: randomness and
the current time are arguments.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.merkle import HASH_SIZE
from ctlog.sct import SignedCertificateTimestamp
from ctlog.sth import SignedTreeHead, b64decode_strict, json_uint64
from ctlog.strict_json import strict_loads

MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # a 1000-entry get-entries of large chains fits
MAX_PROOF_NODES = 64  # RFC 9162 §2.1: a proof in a tree of < 2^64 leaves has <= 64 nodes
MAX_ERROR_MESSAGE_CHARS = 200  # keeps a log's error text to one readable line
MAX_RETRY_AFTER_S = 120.0  # a log cannot park us longer than this per attempt
MAX_BACKOFF_S = 30.0  # exponential backoff stops doubling here
MAX_SUBMIT_CHAIN = 16  # longer chains than any real PKI path; bounds add-chain requests
RETRYABLE_STATUSES = frozenset({429})  # RFC 6585 §4 Too Many Requests; 5xx is retried too


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One get-entries item: the MerkleTreeLeaf bytes and the chain data (RFC 6962 §4.6)."""

    leaf_input: bytes
    extra_data: bytes

    def __repr__(self) -> str:
        return f"RawEntry(leaf_input={self.leaf_input!r}, extra_data={self.extra_data!r})"


def decode_json_object(body: bytes, what: str) -> dict[str, object]:
    """A JSON object from a response body: UTF-8, no duplicate keys, no NaN/Infinity."""
    value = strict_loads(body, max_bytes=MAX_RESPONSE_BYTES, what=f"{what} response")
    if not isinstance(value, dict):
        raise InputError(f"{what} response is not a JSON object")
    return value


def _field(obj: Mapping[str, object], name: str, what: str) -> object:
    if name not in obj:
        raise InputError(f"{what} response lacks {name!r}")
    return obj[name]


def _b64_field(value: object, name: str) -> bytes:
    return b64decode_strict(value, name)


def _hash_list(value: object, name: str) -> list[bytes]:
    """A JSON list of base64 SHA-256 hashes, at most `MAX_PROOF_NODES` long."""
    if not isinstance(value, list):
        raise InputError(f"{name} must be a JSON list")
    if len(value) > MAX_PROOF_NODES:
        raise InputError(f"{name} has {len(value)} nodes, more than {MAX_PROOF_NODES}")
    out = []
    for i, item in enumerate(value):
        node = _b64_field(item, f"{name}[{i}]")
        if len(node) != HASH_SIZE:
            raise InputError(f"{name}[{i}] is {len(node)} bytes, not {HASH_SIZE}")
        out.append(node)
    return out


def _der_list(value: object, name: str) -> list[bytes]:
    if not isinstance(value, list):
        raise InputError(f"{name} must be a JSON list")
    out = []
    for i, item in enumerate(value):
        der = _b64_field(item, f"{name}[{i}]")
        if not der:
            raise InputError(f"{name}[{i}] is empty")
        out.append(der)
    return out


# RFC 6962 §4.1-§4.2 add-chain / add-pre-chain


def encode_add_chain_request(chain_ders: Sequence[bytes]) -> bytes:
    """`{"chain": [base64 DER, ...]}`, leaf first (RFC 6962 §4.1)."""
    if not chain_ders:
        raise UsageError("a chain to submit holds at least the leaf certificate")
    if len(chain_ders) > MAX_SUBMIT_CHAIN:
        raise UsageError(f"a chain to submit holds at most {MAX_SUBMIT_CHAIN} certificates")
    chain = [base64.b64encode(der).decode() for der in chain_ders]
    return json.dumps({"chain": chain}).encode()


def parse_add_chain_response(body: bytes) -> SignedCertificateTimestamp:
    """The SCT of an add-chain or add-pre-chain response (RFC 6962 §4.1)."""
    obj = decode_json_object(body, "add-chain")
    return SignedCertificateTimestamp.from_json(obj)


# RFC 6962 §4.3-§4.8 read endpoints


def parse_sth_response(body: bytes) -> SignedTreeHead:
    """RFC 6962 §4.3 get-sth."""
    return SignedTreeHead.from_json(decode_json_object(body, "get-sth"))


def parse_consistency_response(body: bytes) -> list[bytes]:
    """RFC 6962 §4.4 get-sth-consistency: `{"consistency": [hash, ...]}`."""
    obj = decode_json_object(body, "get-sth-consistency")
    return _hash_list(_field(obj, "consistency", "get-sth-consistency"), "consistency")


def parse_proof_by_hash_response(body: bytes) -> tuple[int, list[bytes]]:
    """RFC 6962 §4.5 get-proof-by-hash: the leaf index and its audit path."""
    obj = decode_json_object(body, "get-proof-by-hash")
    leaf_index = json_uint64(_field(obj, "leaf_index", "get-proof-by-hash"), "leaf_index")
    path = _hash_list(_field(obj, "audit_path", "get-proof-by-hash"), "audit_path")
    return leaf_index, path


def _raw_entry(item: object, name: str) -> RawEntry:
    if not isinstance(item, Mapping):
        raise InputError(f"{name} must be a JSON object")
    leaf_input = _b64_field(_field(item, "leaf_input", "get-entries"), f"{name}.leaf_input")
    extra_data = _b64_field(_field(item, "extra_data", "get-entries"), f"{name}.extra_data")
    if not leaf_input:
        raise InputError(f"{name}.leaf_input is empty")
    return RawEntry(leaf_input, extra_data)


def parse_entries_response(body: bytes, requested: int) -> list[RawEntry]:
    """RFC 6962 §4.6 get-entries: 1..`requested` entries (a log may return fewer)."""
    obj = decode_json_object(body, "get-entries")
    entries = _field(obj, "entries", "get-entries")
    if not isinstance(entries, list):
        raise InputError("entries must be a JSON list")
    if not entries:
        raise InputError("get-entries returned no entries")
    if len(entries) > requested:
        raise InputError(f"get-entries returned {len(entries)} entries, {requested} were asked")
    return [_raw_entry(item, f"entries[{i}]") for i, item in enumerate(entries)]


def parse_roots_response(body: bytes) -> list[bytes]:
    """RFC 6962 §4.7 get-roots: the accepted root certificates, DER."""
    obj = decode_json_object(body, "get-roots")
    return _der_list(_field(obj, "certificates", "get-roots"), "certificates")


def parse_entry_and_proof_response(body: bytes) -> tuple[RawEntry, list[bytes]]:
    """RFC 6962 §4.8 get-entry-and-proof."""
    obj = decode_json_object(body, "get-entry-and-proof")
    entry = _raw_entry(obj, "entry")
    path = _hash_list(_field(obj, "audit_path", "get-entry-and-proof"), "audit_path")
    return entry, path


def check_entries_range(start: int, end: int) -> None:
    """RFC 6962 §4.6: 0 <= start <= end, both inclusive."""
    if isinstance(start, bool) or isinstance(end, bool) or not 0 <= start <= end:
        raise UsageError(f"get-entries needs 0 <= start <= end, got start={start} end={end}")


# static-ct-api read path


def check_hash_tile(body: bytes, width: int) -> bytes:
    """A hash tile of `width` hashes is exactly `width` * 32 bytes (static-ct-api)."""
    if len(body) != width * HASH_SIZE:
        raise InputError(f"hash tile is {len(body)} bytes, not {width} hashes of {HASH_SIZE}")
    return body


def check_issuer(body: bytes, fingerprint: bytes) -> bytes:
    """static-ct-api §Issuers: the certificate must hash to the fingerprint it is served at."""
    if hashlib.sha256(body).digest() != fingerprint:
        raise InputError(f"issuer {fingerprint.hex()} does not hash to its fingerprint")
    return body


# Errors and retries


def error_message(body: bytes) -> str:
    """The log's reason for a 4xx, on one line: `error_message`/`errorMessage` or the text."""
    text = body[: MAX_ERROR_MESSAGE_CHARS * 4].decode("utf-8", errors="replace")
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        obj = None
    if isinstance(obj, dict):
        for key in ("error_message", "errorMessage", "error"):
            if isinstance(obj.get(key), str):
                text = obj[key]
                break
    line = " ".join(text.split())
    return line[:MAX_ERROR_MESSAGE_CHARS] or "no reason given"


def is_retryable(status: int) -> bool:
    """429 and every 5xx are worth another try; other statuses are answers."""
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def retry_after_s(header: str | None, now_s: float) -> float | None:
    """RFC 9110 §10.2.3 Retry-After: delay-seconds or an HTTP-date, capped; None if absent
    or unreadable (then the backoff decides)."""
    if header is None:
        return None
    value = header.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(when.timestamp() - now_s, 0.0), MAX_RETRY_AFTER_S)


def backoff_s(attempt: int, base_s: float, jitter: float) -> float:
    """Delay before retry `attempt` (1-based): base * 2^(attempt-1), capped, scaled into
    [0.5, 1.0) by `jitter` in [0, 1) so that clients do not retry in lockstep."""
    if attempt < 1 or not 0.0 <= jitter < 1.0:
        raise UsageError("attempt is 1-based and jitter lies in [0, 1)")
    delay = min(MAX_BACKOFF_S, base_s * 2 ** min(attempt - 1, 32))
    return delay * (0.5 + 0.5 * jitter)


__all__ = [
    "MAX_PROOF_NODES",
    "MAX_RESPONSE_BYTES",
    "MAX_RETRY_AFTER_S",
    "RawEntry",
    "backoff_s",
    "check_entries_range",
    "check_hash_tile",
    "check_issuer",
    "decode_json_object",
    "encode_add_chain_request",
    "error_message",
    "is_retryable",
    "parse_add_chain_response",
    "parse_consistency_response",
    "parse_entries_response",
    "parse_entry_and_proof_response",
    "parse_proof_by_hash_response",
    "parse_roots_response",
    "parse_sth_response",
    "retry_after_s",
]
