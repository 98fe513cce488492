"""How KV values travel in JSON, for the server and the client alike.

A value is sent as text under `name` when it is valid UTF-8, else as base64 under
`name_b64`; `None` (absent) is `{name: null}`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from common.errors import PeerError


def utf8_bytes(text: str, what: str) -> bytes:
    """`text` as UTF-8. JSON can spell lone surrogates (`"\\ud800"`), which have no UTF-8
    form: that is bad input (PeerError, a 400), not a server error."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise PeerError(f"{what} is not encodable as UTF-8 (a lone surrogate)") from None


def value_fields(name: str, value: bytes | None) -> dict[str, str | None]:
    """The JSON fields that carry `value` under `name`."""
    if value is None:
        return {name: None}
    try:
        return {name: value.decode()}
    except UnicodeDecodeError:
        return {f"{name}_b64": base64.b64encode(value).decode()}


def read_value(body: Mapping[str, Any], name: str) -> bytes | None:
    """Read `name` or `name_b64` back; None when neither is present; PeerError if malformed."""
    if body.get(f"{name}_b64") is not None:
        raw = body[f"{name}_b64"]
        if not isinstance(raw, str):
            raise PeerError(f"{name}_b64 must be a base64 string")
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PeerError(f"{name}_b64 is not valid base64: {exc}") from exc
    raw = body.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise PeerError(f"{name} must be a string (or use {name}_b64 for bytes)")
    return utf8_bytes(raw, name)


__all__ = ["read_value", "utf8_bytes", "value_fields"]
