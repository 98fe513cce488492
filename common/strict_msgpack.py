"""Strict msgpack decoding shared by the wire codecs (Raft messages, KV commands).

`unpack_bounded` decodes exactly one value with every length bounded by the caller, str as
str and bin as bytes, no extension types, and turns every msgpack failure (the C unpacker
raises ExtraData, FormatError, StackError, UnicodeDecodeError, ValueError, ...) into one
`MalformedMsgpack`, which each codec re-raises as its own typed error.
"""

from __future__ import annotations

from typing import Any

import msgpack


class MalformedMsgpack(ValueError):
    """The bytes are not one strict, bounded msgpack value."""


def unpack_bounded(
    buf: bytes,
    *,
    max_str_len: int,
    max_bin_len: int,
    max_array_len: int = -1,
    max_map_len: int = -1,
) -> Any:
    """Decode one value; trailing bytes and oversize items are refused (-1: msgpack's bound)."""
    try:
        return msgpack.unpackb(
            buf,
            raw=False,
            use_list=True,
            strict_map_key=True,
            max_str_len=max_str_len,
            max_bin_len=max_bin_len,
            max_array_len=max_array_len,
            max_map_len=max_map_len,
            max_ext_len=0,
        )
    except Exception as exc:  # every msgpack failure type means "bad bytes"
        raise MalformedMsgpack(f"{type(exc).__name__}: {exc}") from None


__all__ = ["MalformedMsgpack", "unpack_bounded"]
