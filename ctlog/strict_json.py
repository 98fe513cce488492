"""Strict JSON for ctlog's wire and file formats: bounded, no duplicate keys, no NaN.

`strict_loads` refuses input longer than the caller's bound before parsing it, objects that
repeat a key (two parsers could pick different values) and the non-standard constants
`NaN`/`Infinity`. `exact_object` checks that an object has exactly the expected keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ctlog.errors import InputError


def strict_loads(data: bytes, *, max_bytes: int, what: str) -> object:
    """Parse `data` (UTF-8 JSON of at most `max_bytes`) or raise `InputError`."""
    if len(data) > max_bytes:
        raise InputError(
            f"{what} is {len(data)} bytes, over the limit of {max_bytes}", http_status=413
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{what} is not valid JSON: {exc}") from None


def exact_object(obj: object, keys: set[str], what: str) -> Mapping[str, object]:
    """`obj` as a JSON object with exactly `keys`; anything else is an `InputError`."""
    if not isinstance(obj, Mapping):
        raise InputError(f"{what} must be a JSON object")
    missing, extra = keys - obj.keys(), obj.keys() - keys
    if missing:
        raise InputError(f"{what} lacks {', '.join(sorted(missing))}")
    if extra:
        raise InputError(f"{what} has unknown fields {', '.join(sorted(map(str, extra)))}")
    return obj


def bounded_text(value: object, max_chars: int, what: str) -> str:
    """A printable JSON string of at most `max_chars` characters."""
    if not isinstance(value, str) or len(value) > max_chars or not value.isprintable():
        raise InputError(f"{what} must be printable text of at most {max_chars} characters")
    return value


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"duplicate key {key!r:.40}")
        out[key] = value
    return out


def _no_constant(name: str) -> object:
    raise InputError(f"{name} is not JSON")


__all__ = ["bounded_text", "exact_object", "strict_loads"]
