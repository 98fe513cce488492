"""The snapshot image of the KV state machine: data, client sessions and the applied index.

Form: `[CODEC_VERSION, applied_index, {key: value, ...}, [[client_id, seq, status, value,
index], ...]]` in msgpack. Keys appear in ascending order; sessions appear in ascending order of
the index of their last applied command, which is also the order in which they are evicted.
Equal states therefore have equal bytes (replicas compare `digest()`), and `decode_snapshot`
accepts only that canonical form, checking every invariant the state machine relies on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from common.kv._codec import CODEC_VERSION, pack, result_from_fields, unpack_array
from common.kv._errors import KvCommandError, KvDecodeError
from common.kv._types import (
    MAX_INDEX,
    MAX_KEY_BYTES,
    MAX_SEQ,
    MAX_VALUE_BYTES,
    KvResult,
    check_client_id,
    check_int,
    check_key,
    check_value,
)

_SNAPSHOT_FIELDS = 4  # version, applied_index, data, sessions
_SESSION_FIELDS = 5  # client_id, seq, status, value, index


@dataclass(frozen=True, slots=True)
class Session:
    """A client session (Raft thesis §6.3): its last applied sequence number and that result."""

    seq: int
    result: KvResult  # `result.index` is the index of the session's last applied command


@dataclass(frozen=True, slots=True)
class SnapshotImage:
    """A decoded snapshot; `sessions` is in ascending order of last applied index."""

    applied_index: int
    data: dict[str, bytes]
    sessions: dict[str, Session]


def encode_snapshot(
    applied_index: int, data: Mapping[str, bytes], sessions: Iterable[tuple[str, Session]]
) -> bytes:
    """The canonical image; `sessions` must come in ascending order of last applied index."""
    ordered = {key: data[key] for key in sorted(data)}
    rows = [
        [client_id, s.seq, int(s.result.status), s.result.value, s.result.index]
        for client_id, s in sessions
    ]
    return pack([CODEC_VERSION, applied_index, ordered, rows])


def decode_snapshot(buf: bytes, *, max_sessions: int) -> SnapshotImage:
    """Decode and validate an image made by `encode_snapshot`; `KvDecodeError` otherwise."""
    items = unpack_array(
        "snapshot",
        buf,
        _SNAPSHOT_FIELDS,
        max_str_len=MAX_KEY_BYTES,
        max_bin_len=MAX_VALUE_BYTES,
    )
    _, applied_index, raw_data, raw_sessions = items
    try:
        check_int("applied_index", applied_index, 0, MAX_INDEX)
        data = _decode_data(raw_data)
        sessions = _decode_sessions(raw_sessions, applied_index, max_sessions)
    except KvCommandError as exc:
        raise KvDecodeError("snapshot", str(exc)) from None
    if encode_snapshot(applied_index, data, sessions.items()) != buf:
        raise KvDecodeError("snapshot", "not in canonical encoding (unsorted or duplicate keys)")
    return SnapshotImage(applied_index, data, sessions)


def _decode_data(raw: Any) -> dict[str, bytes]:
    if type(raw) is not dict:
        raise KvCommandError("data", f"must be a map, got {type(raw).__name__}")
    for key, value in raw.items():
        check_key("data key", key)
        check_value(f"value of {key!r}", value, optional=False)
    return raw


def _decode_sessions(raw: Any, applied_index: int, max_sessions: int) -> dict[str, Session]:
    if type(raw) is not list:
        raise KvCommandError("sessions", f"must be an array, got {type(raw).__name__}")
    if len(raw) > max_sessions:
        raise KvCommandError("sessions", f"{len(raw)} sessions, more than {max_sessions}")
    sessions: dict[str, Session] = {}
    last_index = 0
    for row in raw:
        if type(row) is not list or len(row) != _SESSION_FIELDS:
            raise KvCommandError("session", f"must be an array of {_SESSION_FIELDS} items")
        client_id, seq, status, value, index = row
        check_client_id("session client_id", client_id)
        if not client_id or client_id in sessions:
            raise KvCommandError("session client_id", f"empty or repeated: {client_id!r}")
        check_int("session seq", seq, 1, MAX_SEQ)
        check_int("session index", index, last_index + 1, applied_index)
        sessions[client_id] = Session(
            seq, result_from_fields("session result", status, value, index)
        )
        last_index = index
    return sessions
