"""What a monitor keeps between runs, and its strict JSON form on disk.

`MonitorState` is a value: the log it watches (`log_id`), the patterns, how many entries it
has hashed, as the compact range [0, tree_size) of their leaf hashes (RFC 6962 §2.1
subtrees, largest first), the last tree head whose root those entries reproduced
(`verified_sth`), and the tree head it is catching up to (`target_sth`).

Invariants, checked on construction and so on every load: the range begins at 0;
`verified_sth.tree_size <= tree_size`; with no target, the monitor stands exactly at its
verified tree head; a target lies beyond the verified one and at or beyond `tree_size`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.merkle.compact import CompactRange
from ctlog.monitor.names import MAX_PATTERNS, NamePattern, parse_patterns
from ctlog.sth import SignedTreeHead, json_uint64

STATE_VERSION = 1  # bump when the file layout changes; older files are refused, not guessed
MAX_STATE_BYTES = 1024 * 1024  # 64 hashes, two tree heads and MAX_PATTERNS names fit easily
LOG_ID_BYTES = 32  # RFC 6962 §3.2: SHA-256 of the log's public key
MAX_RANGE_HASHES = 64  # [0, n) of a uint64-sized tree is covered by at most 64 subtrees


@dataclass(frozen=True, slots=True)
class MonitorState:
    """A monitor's verified position in one log (see the module docstring)."""

    log_id: bytes
    patterns: tuple[NamePattern, ...]
    entries: CompactRange
    verified_sth: SignedTreeHead | None
    target_sth: SignedTreeHead | None

    def __post_init__(self) -> None:
        if len(self.log_id) != LOG_ID_BYTES:
            raise UsageError(f"log_id must be {LOG_ID_BYTES} bytes")
        if self.entries.begin != 0:
            raise UsageError("a monitor's compact range begins at leaf 0")
        _check_positions(self.tree_size, self.verified_sth, self.target_sth)

    @classmethod
    def initial(cls, log_id: bytes, patterns: tuple[NamePattern, ...]) -> MonitorState:
        """A monitor that has seen nothing of the log yet."""
        return cls(log_id, patterns, CompactRange.empty(), None, None)

    @property
    def tree_size(self) -> int:
        """How many entries the monitor has hashed (and matched)."""
        return self.entries.end

    def to_json_bytes(self) -> bytes:
        obj = {
            "version": STATE_VERSION,
            "log_id": self.log_id.hex(),
            "patterns": [str(p) for p in self.patterns],
            "tree_size": self.tree_size,
            "range_hashes": [h.hex() for h in self.entries.hashes],
            "verified_sth": self.verified_sth.to_json() if self.verified_sth else None,
            "target_sth": self.target_sth.to_json() if self.target_sth else None,
        }
        return json.dumps(obj, indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json_bytes(cls, buf: bytes) -> MonitorState:
        """Parse a state file strictly; `InputError` names what is wrong."""
        if len(buf) > MAX_STATE_BYTES:
            raise InputError(f"monitor state is larger than {MAX_STATE_BYTES} bytes")
        try:
            obj = json.loads(buf.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"monitor state is not JSON: {exc}") from None
        if not isinstance(obj, Mapping) or obj.get("version") != STATE_VERSION:
            raise InputError(f"monitor state is not a version {STATE_VERSION} state object")
        try:
            return cls(
                _hex(obj.get("log_id"), "log_id"),
                _patterns(obj.get("patterns")),
                CompactRange(
                    0,
                    json_uint64(obj.get("tree_size"), "tree_size"),
                    tuple(
                        _hex(h, "range_hashes[]")
                        for h in _list(obj.get("range_hashes"), MAX_RANGE_HASHES)
                    ),
                ),
                _sth_or_none(obj.get("verified_sth")),
                _sth_or_none(obj.get("target_sth")),
            )
        except UsageError as exc:
            raise InputError(f"monitor state is inconsistent: {exc}") from None


def _check_positions(
    tree_size: int, verified: SignedTreeHead | None, target: SignedTreeHead | None
) -> None:
    verified_size = verified.tree_size if verified else 0
    if verified_size > tree_size:
        raise UsageError(f"verified tree head ({verified_size}) is beyond tree_size {tree_size}")
    if target is None and tree_size != verified_size:
        raise UsageError(f"tree_size {tree_size} is past the verified tree head, with no target")
    if target is not None and verified is not None and target.tree_size <= verified_size:
        raise UsageError("the target tree head must be beyond the verified one")
    if target is not None and target.tree_size < tree_size:
        raise UsageError(f"tree_size {tree_size} is beyond the target {target.tree_size}")


def _list(value: object, limit: int) -> list[object]:
    if not isinstance(value, list) or len(value) > limit:
        raise InputError(f"monitor state holds a list that is not a list of <= {limit} items")
    return value


def _hex(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise InputError(f"monitor state {name} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise InputError(f"monitor state {name} is not hex") from None


def _patterns(value: object) -> tuple[NamePattern, ...]:
    texts = _list(value, MAX_PATTERNS)
    if not all(isinstance(t, str) for t in texts):
        raise InputError("monitor state patterns must be strings")
    try:
        return parse_patterns(str(t) for t in texts)
    except UsageError as exc:
        raise InputError(f"monitor state patterns: {exc}") from None


def _sth_or_none(value: object) -> SignedTreeHead | None:
    return None if value is None else SignedTreeHead.from_json(value)


__all__ = ["MAX_STATE_BYTES", "MonitorState"]
