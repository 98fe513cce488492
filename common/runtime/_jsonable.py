"""`json_default`: how logs and status pages write values JSON has no type for.

bytes become lowercase hex, enums their value, sets and frozensets sorted lists, dataclasses
their fields, and anything else `str(value)`; so serialising never fails on a stray value.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

__all__ = ["json_default"]


def json_default(value: Any) -> Any:
    """A `default=` hook for `json.dumps`."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return str(value)
