"""The wire form of KV commands and results: msgpack arrays, strict and canonical.

- command: `[CODEC_VERSION, op, key, value, expected, client_id, seq]`
- result:  `[CODEC_VERSION, status, value, index]`

Decoding bounds every string and binary length before allocating it, refuses extension types,
trailing bytes and any field of the wrong type, and finally requires the input to be the
canonical encoding of what it decoded to: one command has exactly one byte form, so replicas
and caches can compare commands by their bytes. Every failure is a `KvDecodeError`; no other
exception escapes a decoder for any input `bytes`.
"""

from __future__ import annotations

from typing import Any

import msgpack

from common.kv._errors import KvCommandError, KvDecodeError
from common.kv._types import MAX_KEY_BYTES, MAX_VALUE_BYTES, KvCommand, KvOp, KvResult, KvStatus
from common.strict_msgpack import MalformedMsgpack, unpack_bounded

CODEC_VERSION = 1  # first element of every encoded command and result; bumped on a format change
_COMMAND_FIELDS = 7  # version, op, key, value, expected, client_id, seq
_RESULT_FIELDS = 4  # version, status, value, index
_OPS = {int(op): op for op in KvOp}
_STATUSES = {int(status): status for status in KvStatus}


def pack(obj: object) -> bytes:
    """msgpack with `str` as str and `bytes` as bin (the only form the decoders accept)."""
    packed: bytes = msgpack.packb(obj, use_bin_type=True)
    return packed


def unpack_strict(what: str, buf: object, *, max_str_len: int, max_bin_len: int) -> Any:
    """Decode one msgpack object from `buf`, bounding lengths; `KvDecodeError` on any defect."""
    if type(buf) is not bytes:
        raise KvCommandError(what, f"must be decoded from bytes, got {type(buf).__name__}")
    try:
        return unpack_bounded(buf, max_str_len=max_str_len, max_bin_len=max_bin_len)
    except MalformedMsgpack as exc:
        raise KvDecodeError(what, f"not strict msgpack ({exc})") from None


def unpack_array(what: str, buf: object, length: int, **limits: int) -> list[Any]:
    """Decode `buf` as a msgpack array of exactly `length` items whose first is CODEC_VERSION."""
    items = unpack_strict(what, buf, **limits)
    if type(items) is not list or len(items) != length:
        raise KvDecodeError(what, f"expected an array of {length} items")
    if type(items[0]) is not int or items[0] != CODEC_VERSION:
        raise KvDecodeError(what, f"unknown codec version {items[0]!r}")
    return items


def encode_command(cmd: KvCommand) -> bytes:
    """The canonical bytes of `cmd`, to be proposed as the data of a NORMAL Raft entry."""
    if not isinstance(cmd, KvCommand):
        raise KvCommandError("cmd", f"must be a KvCommand, got {type(cmd).__name__}")
    fields = [int(cmd.op), cmd.key, cmd.value, cmd.expected, cmd.client_id, cmd.seq]
    return pack([CODEC_VERSION, *fields])


def decode_command(buf: bytes) -> KvCommand:
    """Decode bytes made by `encode_command`; `KvDecodeError` on anything else."""
    items = unpack_array(
        "command", buf, _COMMAND_FIELDS, max_str_len=MAX_KEY_BYTES, max_bin_len=MAX_VALUE_BYTES
    )
    _, op, key, value, expected, client_id, seq = items
    if type(op) is not int or op not in _OPS:
        raise KvDecodeError("command", f"unknown op {op!r}")
    try:
        cmd = KvCommand(_OPS[op], key, value, expected, client_id, seq)
    except KvCommandError as exc:
        raise KvDecodeError("command", str(exc)) from None
    if encode_command(cmd) != buf:
        raise KvDecodeError("command", "not in canonical encoding")
    return cmd


def encode_result(r: KvResult) -> bytes:
    """The canonical bytes of a result, for replies that cross a process boundary."""
    if not isinstance(r, KvResult):
        raise KvCommandError("r", f"must be a KvResult, got {type(r).__name__}")
    return pack([CODEC_VERSION, int(r.status), r.value, r.index])


def decode_result(buf: bytes) -> KvResult:
    """Decode bytes made by `encode_result`; `KvDecodeError` on anything else."""
    items = unpack_array("result", buf, _RESULT_FIELDS, max_str_len=0, max_bin_len=MAX_VALUE_BYTES)
    _, status, value, index = items
    result = result_from_fields("result", status, value, index)
    if encode_result(result) != buf:
        raise KvDecodeError("result", "not in canonical encoding")
    return result


def result_from_fields(what: str, status: Any, value: Any, index: Any) -> KvResult:
    """Build a `KvResult` from decoded fields, turning any invariant failure into KvDecodeError."""
    if type(status) is not int or status not in _STATUSES:
        raise KvDecodeError(what, f"unknown status {status!r}")
    try:
        return KvResult(_STATUSES[status], value, index)
    except KvCommandError as exc:
        raise KvDecodeError(what, str(exc)) from None
