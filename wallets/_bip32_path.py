"""BIP32 derivation paths: "m/84'/1'/0'/0/5" (absolute) or "0/5" (relative) and the child
indices they name, hardened ones with `HARDENED` (2**31) added.

Pure: no I/O. Parsing is strict: decimal indices below 2**31 without leading zeros, marked
hardened by ', h or H, at most `MAX_DEPTH` levels; anything else is an `InvalidPathError`.
"""

from __future__ import annotations

from collections.abc import Iterable

from wallets.errors import WalletMisuse

__all__ = [
    "HARDENED",
    "MAX_DEPTH",
    "InvalidPathError",
    "format_path",
    "is_hardened",
    "parse_path",
]

HARDENED = 2**31  # BIP32: indices 2**31..2**32-1 are hardened
MAX_DEPTH = 255  # BIP32 serializes the depth as one byte
HARDENED_MARKS = ("'", "h", "H")  # BIP32 writes i' or i_H; descriptors also use h


class InvalidPathError(WalletMisuse):
    """A derivation path that is not m/i/j'/... with indices below 2**31."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"invalid derivation path {path!r}: {reason}")
        self.path = path
        self.reason = reason


def is_hardened(index: int) -> bool:
    return index >= HARDENED


def parse_path(path: str) -> tuple[int, ...]:
    """ "m/84'/1'/0'/0/5" (absolute) or "0/5" (relative) as indices, hardened + 2**31."""
    if not isinstance(path, str):
        raise WalletMisuse(f"a derivation path is a str, not {type(path).__name__}")
    parts = path.strip().split("/")
    if parts[0] == "m":
        parts = parts[1:]
    elif not parts[0]:
        raise InvalidPathError(path, "empty")
    if len(parts) > MAX_DEPTH:
        raise InvalidPathError(path, f"deeper than {MAX_DEPTH} levels")
    return tuple(_parse_index(path, part) for part in parts)


def _parse_index(path: str, part: str) -> int:
    hardened = part.endswith(HARDENED_MARKS)
    digits = part[:-1] if hardened else part
    if not digits.isascii() or not digits.isdigit() or (len(digits) > 1 and digits[0] == "0"):
        raise InvalidPathError(path, f"{part!r} is not an index")
    value = int(digits)
    if value >= HARDENED:
        raise InvalidPathError(path, f"index {value} is not below 2**31 (write {part}' ?)")
    return value + HARDENED if hardened else value


def format_path(indices: Iterable[int], *, relative: bool = False) -> str:
    """Indices as "m/84'/1'/0'/0/5" (or "84'/1'" when `relative`)."""
    parts = [f"{i - HARDENED}'" if is_hardened(i) else str(i) for i in indices]
    return "/".join(parts if relative else ["m", *parts])
