"""Commands and results of the replicated key-value store, and their limits.

Invariants, checked in `__post_init__` (a `KvCommandError` otherwise):
- a key is a `str` of 1..MAX_KEY_BYTES bytes in UTF-8; a value is `bytes` of <= MAX_VALUE_BYTES;
- only PUT, APPEND and CAS carry a `value`; only CAS carries `expected` (None = "key absent");
- a command without a session has `client_id == ""` and `seq == 0`; a command with a session
  has `1 <= seq <= MAX_SEQ` (Raft thesis §6.3: sequence numbers start at 1 per client);
- a result carries a `value` only for OK (a GET's value) and CAS_FAILED (the current value).
Each command has exactly one encoding (see `_codec`), so equal commands are equal bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from common.kv._errors import KvCommandError

MAX_KEY_BYTES = 1024  # keys are held in memory and repeated in every snapshot; keep them short
# A CAS carries two values; one command must fit well inside one 1 MiB AppendEntries.
MAX_VALUE_BYTES = 256 << 10
MAX_CLIENT_ID_BYTES = 64  # a client id is stored once per session; a UUID or a name fits
MAX_SEQ = (1 << 63) - 1  # fits a msgpack int64, so every decoder reads the same number
MAX_INDEX = (1 << 63) - 1  # Raft log indexes share the int64 bound of the Raft codec


class KvOp(IntEnum):
    GET = 0
    PUT = 1
    APPEND = 2
    DELETE = 3
    CAS = 4

    def __repr__(self) -> str:
        return f"KvOp.{self.name}"


class KvStatus(IntEnum):
    OK = 0
    NOT_FOUND = 1  # GET or DELETE of an absent key
    CAS_FAILED = 2  # the key did not hold `expected`; the result carries the current value
    STALE_REQUEST = 3  # the session already applied a later sequence number (Raft thesis §6.3)
    BAD_COMMAND = 4  # undecodable entry, or an APPEND whose result would exceed MAX_VALUE_BYTES

    def __repr__(self) -> str:
        return f"KvStatus.{self.name}"


_VALUE_OPS = frozenset({KvOp.PUT, KvOp.APPEND, KvOp.CAS})  # ops that carry a `value`
_VALUE_STATUSES = frozenset({KvStatus.OK, KvStatus.CAS_FAILED})  # results that may carry one


def _utf8_size(field: str, text: object) -> int:
    if not isinstance(text, str):
        raise KvCommandError(field, f"must be str, got {type(text).__name__}")
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise KvCommandError(field, f"is not encodable as UTF-8 ({exc.reason})") from None


def check_key(field: str, key: object) -> None:
    """Raise `KvCommandError` naming `field` unless `key` is a valid key."""
    size = _utf8_size(field, key)
    if not 1 <= size <= MAX_KEY_BYTES:
        raise KvCommandError(field, f"must be 1..{MAX_KEY_BYTES} bytes in UTF-8, got {size}")


def check_value(field: str, value: object, *, optional: bool) -> None:
    """Raise `KvCommandError` unless `value` is bytes of <= MAX_VALUE_BYTES (or None if allowed)."""
    if value is None and optional:
        return
    if type(value) is not bytes:
        raise KvCommandError(field, f"must be bytes, got {type(value).__name__}")
    if len(value) > MAX_VALUE_BYTES:
        raise KvCommandError(field, f"is {len(value)} bytes, more than {MAX_VALUE_BYTES}")


def check_int(field: str, value: object, low: int, high: int) -> int:
    """Return `value` if it is an int (not a bool) in [low, high], else raise `KvCommandError`."""
    if type(value) is not int:
        raise KvCommandError(field, f"must be int, got {type(value).__name__}")
    if not low <= value <= high:
        raise KvCommandError(field, f"must be in [{low}, {high}], got {value}")
    return value


def check_client_id(field: str, client_id: object) -> None:
    """Raise `KvCommandError` unless `client_id` is a str of <= MAX_CLIENT_ID_BYTES bytes."""
    size = _utf8_size(field, client_id)
    if size > MAX_CLIENT_ID_BYTES:
        raise KvCommandError(field, f"is {size} bytes, more than {MAX_CLIENT_ID_BYTES}")


@dataclass(frozen=True, slots=True)
class KvCommand:
    """One client request, proposed to Raft as the data of a NORMAL entry."""

    op: KvOp
    key: str  # UTF-8, 1..MAX_KEY_BYTES bytes
    value: bytes = b""  # PUT/APPEND/CAS new value; b"" for GET and DELETE
    expected: bytes | None = None  # CAS: the value the key must hold now; None = must be absent
    client_id: str = ""  # session id; "" = no session (not deduplicated)
    seq: int = 0  # per-client sequence number, from 1, strictly increasing; 0 without a session

    def __post_init__(self) -> None:
        if not isinstance(self.op, KvOp):
            raise KvCommandError("op", f"must be a KvOp, got {self.op!r}")
        check_key("key", self.key)
        check_value("value", self.value, optional=False)
        if self.op not in _VALUE_OPS and self.value:
            raise KvCommandError("value", f"must be empty for {self.op.name}")
        check_value("expected", self.expected, optional=True)
        if self.op is not KvOp.CAS and self.expected is not None:
            raise KvCommandError("expected", f"must be None for {self.op.name}")
        check_client_id("client_id", self.client_id)
        if self.client_id:
            check_int("seq", self.seq, 1, MAX_SEQ)
        elif check_int("seq", self.seq, 0, MAX_SEQ) != 0:
            raise KvCommandError("seq", "must be 0 for a command without a session")


@dataclass(frozen=True, slots=True)
class KvResult:
    """The outcome of applying one committed entry."""

    status: KvStatus
    value: bytes | None = None  # GET: the value; CAS_FAILED: the current value (None if absent)
    index: int = 0  # Raft log index at which the command was applied

    def __post_init__(self) -> None:
        if not isinstance(self.status, KvStatus):
            raise KvCommandError("status", f"must be a KvStatus, got {self.status!r}")
        check_value("value", self.value, optional=True)
        if self.value is not None and self.status not in _VALUE_STATUSES:
            raise KvCommandError("value", f"must be None for status {self.status.name}")
        check_int("index", self.index, 0, MAX_INDEX)
