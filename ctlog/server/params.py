"""Request parameters of the RFC 6962 §4 API, parsed strictly (sans-I/O).

Every refusal is an `InputError` (HTTP 400 unless it says otherwise) with a one-line reason
naming the parameter. Integers are plain decimal digits within uint64 (no sign, no spaces,
no leading zeros beyond "0"); base64 is the standard alphabet with padding; a chain is a list
of 1..MAX_CHAIN_LENGTH base64 DER certificates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ctlog.errors import InputError
from ctlog.merkle import HASH_SIZE
from ctlog.sth import MAX_UINT64, b64decode_strict
from ctlog.x509 import MAX_CHAIN_LENGTH

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")  # uint64 has at most 20 digits
MAX_PARAM_CHARS = 128  # a uint64 or a base64 hash is far shorter; longer is garbage


def query_uint(query: Mapping[str, str], name: str) -> int:
    """A required non-negative integer query parameter."""
    value = query.get(name)
    if value is None:
        raise InputError(f"missing query parameter {name}")
    if len(value) > MAX_PARAM_CHARS or not _DECIMAL.fullmatch(value) or int(value) > MAX_UINT64:
        raise InputError(f"{name} must be a non-negative decimal integer, got {value[:40]!r}")
    return int(value)


def query_hash(query: Mapping[str, str], name: str) -> bytes:
    """A required base64 SHA-256 hash query parameter (RFC 6962 §4.5 `hash`)."""
    value = query.get(name)
    if value is None:
        raise InputError(f"missing query parameter {name}")
    if len(value) > MAX_PARAM_CHARS:
        raise InputError(f"{name} is too long for a base64 hash")
    # A '+' sent without URL-encoding arrives as a space, which base64 never contains.
    raw = b64decode_strict(value.replace(" ", "+"), name)
    if len(raw) != HASH_SIZE:
        raise InputError(f"{name} must be a {HASH_SIZE}-byte hash, got {len(raw)} bytes")
    return raw


def chain_from_body(body: object) -> list[bytes]:
    """RFC 6962 §4.1: `{"chain": [base64 DER, ...]}`, leaf first."""
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object with a chain")
    chain = body.get("chain")
    if not isinstance(chain, list) or not chain:
        raise InputError("chain must be a non-empty array of base64 certificates")
    if len(chain) > MAX_CHAIN_LENGTH:
        raise InputError(f"the chain has {len(chain)} certificates, more than {MAX_CHAIN_LENGTH}")
    return [b64decode_strict(item, f"chain[{i}]") for i, item in enumerate(chain)]


@dataclass(frozen=True, slots=True)
class EntryRange:
    """The entries get-entries answers: `start` .. `end` inclusive (RFC 6962 §4.6)."""

    start: int
    end: int


def entry_range(start: int, end: int, *, tree_size: int, max_entries: int) -> EntryRange:
    """Clip [start, end] to the published tree and the per-request limit; 400 if empty.

    RFC 6962 §4.6 lets a log return fewer entries than asked for: a range past the tree
    size or longer than `max_entries` is truncated instead of refused.
    """
    if start > end:
        raise InputError(f"start {start} is greater than end {end}")
    if start >= tree_size:
        raise InputError(f"start {start} is not below the published tree size {tree_size}")
    return EntryRange(start, min(end, tree_size - 1, start + max_entries - 1))


def check_tree_size(
    name: str, size: int, limit: int, *, limit_name: str = "the published tree size"
) -> None:
    """A tree size from 1 to `limit` (by default the published tree head's size)."""
    if size < 1:
        raise InputError(f"{name} must be at least 1, got {size}")
    if size > limit:
        raise InputError(f"{name} {size} is beyond {limit_name} {limit}")


__all__ = [
    "MAX_PARAM_CHARS",
    "EntryRange",
    "chain_from_body",
    "check_tree_size",
    "entry_range",
    "query_hash",
    "query_uint",
]
