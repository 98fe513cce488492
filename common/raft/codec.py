"""Raft wire codec: msgpack arrays (never maps), strict and bounded.

Every encoded value is a fixed-length msgpack array whose fields are listed next to its encoder.
Decoding checks the type of every field, bounds every length with a named constant, rejects
unknown enum values, wrong field counts and trailing bytes, and raises `DecodeError` (a
`PeerError`: the bytes came from outside) instead of anything else.

Entries inside a message are encoded without their index: an APPEND carries contiguous entries
starting right after `log_index`, so each index is implied and contiguity holds by construction.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgpack

from common.errors import PeerError
from common.raft.errors import RaftError
from common.raft.types import (
    MAX_NODE_ID_LEN,
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType,
    SnapshotMeta,
)
from common.strict_msgpack import MalformedMsgpack, unpack_bounded

MAX_MESSAGE_BYTES = 4 << 20  # the transport's frame limit (see params.py); nothing larger is sent
MAX_ENTRIES_PER_MESSAGE = 8192  # bounds decode work per message; the leader never batches more
MAX_CONF_MEMBERS = 1024  # far beyond any sensible Raft cluster; bounds conf decoding
MAX_READ_CONTEXT_BYTES = 1024  # ReadIndex contexts are request ids, not payloads
MAX_INDEX = (1 << 63) - 1  # indexes, terms and offsets are int64 in every sane store
_MAX_STR_BYTES = MAX_NODE_ID_LEN * 4  # UTF-8 takes at most 4 bytes per character

_MESSAGE_FIELDS = 16
_ENTRY_FIELDS = 4
_WIRE_ENTRY_FIELDS = 3
_HARD_STATE_FIELDS = 3
_SNAPSHOT_META_FIELDS = 4
_CONF_STATE_FIELDS = 2
_CONF_CHANGE_FIELDS = 2

_E = TypeVar("_E", EntryType, MessageType, ConfChangeType)


class DecodeError(RaftError, PeerError):
    """Bytes from a peer or from storage are not a valid encoding; `field` names the culprit."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


# --- primitive checks -------------------------------------------------------------------------


def _unpack(buf: bytes, what: str) -> Any:
    if not isinstance(buf, bytes | bytearray | memoryview):
        raise DecodeError(f"expected bytes, got {type(buf).__name__}", field=what)
    if len(buf) > MAX_MESSAGE_BYTES:
        raise DecodeError(f"{len(buf)} bytes exceed {MAX_MESSAGE_BYTES}", field=what)
    try:
        return unpack_bounded(
            bytes(buf),
            max_bin_len=MAX_MESSAGE_BYTES,
            max_str_len=_MAX_STR_BYTES,
            max_array_len=MAX_ENTRIES_PER_MESSAGE,
            max_map_len=0,  # the wire format has no maps
        )
    except MalformedMsgpack as exc:
        raise DecodeError(f"not a valid msgpack value ({exc})", field=what) from exc


def _array(value: Any, length: int, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise DecodeError(f"expected an array, got {type(value).__name__}", field=field)
    if len(value) != length:
        raise DecodeError(f"expected {length} fields, got {len(value)}", field=field)
    return value


def _int(value: Any, field: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_INDEX:
        raise DecodeError(f"expected an int in [0, {MAX_INDEX}], got {value!r}", field=field)
    return value


def _bool(value: Any, field: str) -> bool:
    if type(value) is not bool:
        raise DecodeError(f"expected a bool, got {value!r}", field=field)
    return value


def _bytes(value: Any, field: str, limit: int = MAX_MESSAGE_BYTES) -> bytes:
    if type(value) is not bytes:
        raise DecodeError(f"expected bytes, got {type(value).__name__}", field=field)
    if len(value) > limit:
        raise DecodeError(f"{len(value)} bytes exceed {limit}", field=field)
    return value


def _node_id(value: Any, field: str, *, allow_empty: bool = False) -> str:
    if type(value) is not str:
        raise DecodeError(f"expected a node id string, got {type(value).__name__}", field=field)
    if len(value) > MAX_NODE_ID_LEN or (not value and not allow_empty):
        raise DecodeError(f"node id must be 1..{MAX_NODE_ID_LEN} characters", field=field)
    return value


def _enum(kind: type[_E], value: Any, field: str) -> _E:
    raw = _int(value, field)
    try:
        return kind(raw)
    except ValueError:
        raise DecodeError(f"unknown {kind.__name__} {raw}", field=field) from None


def _finish(buf: bytes, what: str, build: Any) -> Any:
    """Decode `buf` with `build(value)`; constructor validation errors become DecodeError."""
    value = _unpack(buf, what)
    try:
        return build(value)
    except DecodeError:
        raise
    except ValueError as exc:
        raise DecodeError(str(exc), field=what) from exc


# --- entries ----------------------------------------------------------------------------------
# Entry: [index, term, type, data]; inside a message: [term, type, data].


def _entry_fields(e: Entry) -> list[Any]:
    return [e.index, e.term, int(e.type), e.data]


def _entry_from(value: Any, field: str) -> Entry:
    index, term, etype, data = _array(value, _ENTRY_FIELDS, field)
    return Entry(
        _int(index, f"{field}.index"),
        _int(term, f"{field}.term"),
        _enum(EntryType, etype, f"{field}.type"),
        _bytes(data, f"{field}.data"),
    )


def encode_entry(e: Entry) -> bytes:
    return msgpack.packb(_entry_fields(e), use_bin_type=True)


def decode_entry(buf: bytes) -> Entry:
    entry: Entry = _finish(buf, "entry", lambda v: _entry_from(v, "entry"))
    return entry


def _wire_entries(first_index: int, entries: tuple[Entry, ...]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for offset, e in enumerate(entries):
        if e.index != first_index + offset:
            raise ValueError(f"message entries must be contiguous from {first_index}, got {e!r}")
        out.append([e.term, int(e.type), e.data])
    return out


def _entries_from(value: Any, first_index: int) -> tuple[Entry, ...]:
    if not isinstance(value, list):
        raise DecodeError("expected an array", field="entries")
    out = []
    for offset, item in enumerate(value):
        field = f"entries[{offset}]"
        term, etype, data = _array(item, _WIRE_ENTRY_FIELDS, field)
        out.append(
            Entry(
                first_index + offset,
                _int(term, f"{field}.term"),
                _enum(EntryType, etype, f"{field}.type"),
                _bytes(data, f"{field}.data"),
            )
        )
    return tuple(out)


# --- membership -------------------------------------------------------------------------------
# ConfState: [[voter, ...], [learner, ...]] sorted; ConfChange: [type, node_id].


def _conf_state_fields(conf: ConfState) -> list[Any]:
    return [sorted(conf.voters), sorted(conf.learners)]


def _members_from(value: Any, field: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise DecodeError("expected an array", field=field)
    if len(value) > MAX_CONF_MEMBERS:
        raise DecodeError(f"{len(value)} members exceed {MAX_CONF_MEMBERS}", field=field)
    members = frozenset(_node_id(v, field) for v in value)
    if len(members) != len(value):
        raise DecodeError("duplicate member", field=field)
    return members


def _conf_from(voters: Any, learners: Any, field: str) -> ConfState:
    return ConfState(
        _members_from(voters, f"{field}.voters"), _members_from(learners, f"{field}.learners")
    )


def _conf_state_from(value: Any, field: str) -> ConfState:
    voters, learners = _array(value, _CONF_STATE_FIELDS, field)
    return _conf_from(voters, learners, field)


def encode_conf_state(conf: ConfState) -> bytes:
    return msgpack.packb(_conf_state_fields(conf), use_bin_type=True)


def decode_conf_state(buf: bytes) -> ConfState:
    conf: ConfState = _finish(buf, "conf_state", lambda v: _conf_state_from(v, "conf_state"))
    return conf


def encode_conf_change(change: ConfChange) -> bytes:
    return msgpack.packb([int(change.type), change.node_id], use_bin_type=True)


def _conf_change_from(value: Any) -> ConfChange:
    ctype, node_id = _array(value, _CONF_CHANGE_FIELDS, "conf_change")
    return ConfChange(
        _enum(ConfChangeType, ctype, "conf_change.type"),
        _node_id(node_id, "conf_change.node_id"),
    )


def decode_conf_change(buf: bytes) -> ConfChange:
    change: ConfChange = _finish(buf, "conf_change", _conf_change_from)
    return change


# --- hard state and snapshot metadata ---------------------------------------------------------
# HardState: [term, vote, commit]; SnapshotMeta: [index, term, voters, learners].


def encode_hard_state(hs: HardState) -> bytes:
    return msgpack.packb([hs.term, hs.vote, hs.commit], use_bin_type=True)


def _hard_state_from(value: Any) -> HardState:
    term, vote, commit = _array(value, _HARD_STATE_FIELDS, "hard_state")
    return HardState(
        _int(term, "hard_state.term"),
        _node_id(vote, "hard_state.vote", allow_empty=True),
        _int(commit, "hard_state.commit"),
    )


def decode_hard_state(buf: bytes) -> HardState:
    hs: HardState = _finish(buf, "hard_state", _hard_state_from)
    return hs


def _snapshot_meta_fields(meta: SnapshotMeta) -> list[Any]:
    return [meta.index, meta.term, *_conf_state_fields(meta.conf)]


def _snapshot_meta_from(value: Any, field: str) -> SnapshotMeta:
    index, term, voters, learners = _array(value, _SNAPSHOT_META_FIELDS, field)
    conf = _conf_from(voters, learners, field)
    return SnapshotMeta(_int(index, f"{field}.index"), _int(term, f"{field}.term"), conf)


def encode_snapshot_meta(meta: SnapshotMeta) -> bytes:
    return msgpack.packb(_snapshot_meta_fields(meta), use_bin_type=True)


def decode_snapshot_meta(buf: bytes) -> SnapshotMeta:
    meta: SnapshotMeta = _finish(
        buf, "snapshot_meta", lambda v: _snapshot_meta_from(v, "snapshot_meta")
    )
    return meta


# --- messages ---------------------------------------------------------------------------------
# Message: [type, src, dst, term, log_index, log_term, entries, commit, reject, hint_index,
#           hint_term, context, snapshot_meta | nil, offset, data, done]


def encode_message(msg: Message) -> bytes:
    meta = None if msg.snapshot_meta is None else _snapshot_meta_fields(msg.snapshot_meta)
    fields = [
        int(msg.type),
        msg.src,
        msg.dst,
        msg.term,
        msg.log_index,
        msg.log_term,
        _wire_entries(msg.log_index + 1, msg.entries),
        msg.commit,
        msg.reject,
        msg.hint_index,
        msg.hint_term,
        msg.context,
        meta,
        msg.offset,
        msg.data,
        msg.done,
    ]
    return msgpack.packb(fields, use_bin_type=True)


def _message_from(value: Any) -> Message:
    f = _array(value, _MESSAGE_FIELDS, "message")
    log_index = _int(f[4], "log_index")
    if log_index >= MAX_INDEX - MAX_ENTRIES_PER_MESSAGE:
        raise DecodeError(f"{log_index} leaves no room for entries", field="log_index")
    meta = None if f[12] is None else _snapshot_meta_from(f[12], "snapshot_meta")
    return Message(
        type=_enum(MessageType, f[0], "type"),
        src=_node_id(f[1], "src"),
        dst=_node_id(f[2], "dst"),
        term=_int(f[3], "term"),
        log_index=log_index,
        log_term=_int(f[5], "log_term"),
        entries=_entries_from(f[6], log_index + 1),
        commit=_int(f[7], "commit"),
        reject=_bool(f[8], "reject"),
        hint_index=_int(f[9], "hint_index"),
        hint_term=_int(f[10], "hint_term"),
        context=_bytes(f[11], "context", MAX_READ_CONTEXT_BYTES),
        snapshot_meta=meta,
        offset=_int(f[13], "offset"),
        data=_bytes(f[14], "data"),
        done=_bool(f[15], "done"),
    )


def decode_message(buf: bytes) -> Message:
    msg: Message = _finish(buf, "message", _message_from)
    return msg
