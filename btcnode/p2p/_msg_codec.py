"""How message payloads are read: Core's limits, bounded counts, and typed decode errors.

Every `deserialize` goes through `decode_payload`, which turns a truncated or malformed
payload into a `MessageDecodeError` naming the command and refuses trailing bytes. A vector
count is first checked against the bytes actually present (a count the payload cannot hold
is malformed, as Core's own vector reader would find), then against Core's limit for that
message; the limit violation carries Core's reaction (`score`, `disconnect`). Core checks
its limits after reading the whole vector; checking right after the count differs only for
payloads that are both oversize and malformed, and saves parsing up to 4 MB of entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from btcnode.consensus.errors import SerializationError
from btcnode.consensus.serialize import ByteReader
from btcnode.p2p.errors import CountLimitExceeded, MessageDecodeError

MAX_INV_SZ = 50_000  # Core's net_processing.cpp: entries in one inv, getdata or notfound
MAX_HEADERS_RESULTS = 2_000  # Core's net_processing.h: headers in one headers message
MAX_ADDR_TO_SEND = 1_000  # Core's net.h: entries in one addr or addrv2 message
MAX_LOCATOR_SZ = 101  # Core's net_processing.cpp: enough for any chain (10 dense + log2)
MAX_SUBVERSION_LENGTH = 256  # Core's net.h: bytes of user agent in version
MAX_REJECT_MESSAGE_LENGTH = 111  # Core before 0.20: bytes of reason in reject
HASH_SIZE = 32  # every block hash, txid and wtxid on the wire

T = TypeVar("T")


def decode_payload(command: bytes, payload: bytes, read: Callable[[ByteReader], T]) -> T:
    """`read(reader)` over exactly `payload`; errors name `command` and the payload size."""
    reader = ByteReader(payload)
    try:
        value = read(reader)
    except (SerializationError, ValueError) as exc:
        detail = exc.debug if isinstance(exc, SerializationError) else str(exc)
        raise MessageDecodeError(
            "malformed-payload", detail, command=command, payload_size=len(payload)
        ) from exc
    if reader.remaining():
        raise MessageDecodeError(
            "trailing-bytes",
            f"{reader.remaining()} bytes after the message at offset {reader.pos}",
            command=command,
            payload_size=len(payload),
        )
    return value


def read_bounded_count(
    reader: ByteReader,
    *,
    command: bytes,
    field: str,
    limit: int,
    item_bytes: int,
    score: int,
    disconnect: bool,
) -> int:
    """A vector count the payload can hold and Core accepts (`limit`) for `command`."""
    count = reader.read_count(item_bytes)
    if count > limit:
        raise CountLimitExceeded(
            command=command,
            payload_size=len(reader.buf),
            field=field,
            count=count,
            limit=limit,
            score=score,
            disconnect=disconnect,
        )
    return count


def read_limited_bytes(reader: ByteReader, limit: int, field: str) -> bytes:
    """Core's LIMITED_STRING: a var_str no longer than `limit` bytes."""
    size = reader.read_compact_size()
    if size > limit:
        raise SerializationError(f"{field} of {size} bytes exceeds {limit}")
    return reader.read(size)


def read_hash(reader: ByteReader) -> bytes:
    return reader.read(HASH_SIZE)


def check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{name} must be {HASH_SIZE} bytes, got {len(value)}")


def check_int(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} out of range [{low}, {high}]: {value}")


def check_count(name: str, count: int, limit: int) -> None:
    """Construction refuses what no peer would accept, so every message we build is sendable."""
    if count > limit:
        raise ValueError(f"{name} has {count} entries, at most {limit} allowed")
