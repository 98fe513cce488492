"""A signed tree head as an auditor saw it: the STH, where it came from and when.

Invariants: `origin` is short printable text (a log URL, a peer name or a client address) and
`observed_ms` is a uint64 of the auditor's clock. The JSON form is what the STH pool file and
the evidence bundles store: `{"sth": <get-sth object>, "observed": {"source", "origin",
"time_ms"}}`, parsed strictly (exact keys, bounded strings).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ctlog.errors import InputError, UsageError
from ctlog.sth import SignedTreeHead, json_uint64
from ctlog.strict_json import bounded_text, exact_object

MAX_ORIGIN_CHARS = 256  # a URL, peer name or client address; anything longer is garbage

HeadKey = tuple[int, bytes]
"""(tree_size, root_hash): two STHs with one key describe the same tree (RFC 6962 §2.1)."""


class Source(enum.Enum):
    """How an auditor came by a tree head."""

    LOG = "log"  # its own get-sth poll of the log
    PEER = "peer"  # pollination from a listed peer auditor
    CLIENT = "client"  # pollination from a client
    RESTORED = "restored"  # read back from the auditor's own data directory


@dataclass(frozen=True, slots=True)
class Observation:
    """`sth` as seen from `source` (`origin` names who) at `observed_ms`."""

    sth: SignedTreeHead
    source: Source
    origin: str
    observed_ms: int

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or len(self.origin) > MAX_ORIGIN_CHARS:
            raise UsageError(f"origin must be a string of at most {MAX_ORIGIN_CHARS} chars")
        if not self.origin.isprintable():
            raise UsageError("origin must be printable text")
        if isinstance(self.observed_ms, bool) or not 0 <= self.observed_ms < 1 << 64:
            raise UsageError("observed_ms is a uint64")

    @property
    def key(self) -> HeadKey:
        return (self.sth.tree_size, self.sth.root_hash)

    @property
    def tree_size(self) -> int:
        return self.sth.tree_size

    @property
    def root_hash(self) -> bytes:
        return self.sth.root_hash

    def to_json(self) -> dict[str, object]:
        return {
            "sth": self.sth.to_json(),
            "observed": {
                "source": self.source.value,
                "origin": self.origin,
                "time_ms": self.observed_ms,
            },
        }

    @classmethod
    def from_json(cls, obj: object, what: str = "observation") -> Observation:
        fields = exact_object(obj, {"sth", "observed"}, what)
        seen = exact_object(fields["observed"], {"source", "origin", "time_ms"}, f"{what}.observed")
        try:
            source = Source(seen["source"])
        except ValueError:
            raise InputError(f"{what}.observed.source is not one of the known sources") from None
        origin = bounded_text(seen["origin"], MAX_ORIGIN_CHARS, f"{what}.observed.origin")
        try:
            sth = SignedTreeHead.from_json(fields["sth"])
        except InputError as exc:
            raise InputError(f"{what}.sth: {exc}") from None
        return cls(sth, source, origin, json_uint64(seen["time_ms"], f"{what}.observed.time_ms"))


__all__ = ["MAX_ORIGIN_CHARS", "HeadKey", "Observation", "Source"]
