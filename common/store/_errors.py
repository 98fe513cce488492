"""Errors of the storage layer.

`StoreError` is the base: the database could not be opened, is corrupt, or failed an I/O.
Caller misuse also derives from `UsageError`: using a closed store or snapshot
(`StoreClosedError`) and passing keys or values that are not `bytes` (`StoreTypeError`).
"""

from __future__ import annotations

from common.errors import CommonError, UsageError


class StoreError(CommonError):
    """The store failed: it could not be opened, is corrupt, or an I/O failed."""


class StoreClosedError(StoreError, UsageError):
    """A store or snapshot was used after `close()` (or after a simulated crash)."""


class StoreTypeError(StoreError, UsageError, TypeError):
    """An argument had the wrong type: `what` names it, `expected` and `found` the types."""

    def __init__(self, what: str, found: object, expected: str = "bytes") -> None:
        self.what = what
        self.expected = expected
        self.found = type(found).__name__
        super().__init__(f"{what} must be {expected}, found {self.found}")


def check_bytes(what: str, value: object) -> None:
    """Raise `StoreTypeError` unless `value` is `bytes` (bytearray and str are refused)."""
    if not isinstance(value, bytes):
        raise StoreTypeError(what, value)
