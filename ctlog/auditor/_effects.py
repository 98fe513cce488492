"""What the auditor core asks its driver to do, and the order to do it in (pure values)."""

from __future__ import annotations

from dataclasses import dataclass

from ctlog.auditor.evidence import EvidenceBundle, EvidenceVerdict
from ctlog.auditor.observation import MAX_ORIGIN_CHARS
from ctlog.auditor.pollination import GossipedSth
from ctlog.errors import UsageError
from ctlog.keys import LogPublicKey

MAX_PEER_NAME_CHARS = 64  # a name in a header and in status pages, not an essay


@dataclass(frozen=True, slots=True)
class AuditedLog:
    """A log the auditor watches: its key (whose hash is the log id) and base URL."""

    key: LogPublicKey
    url: str

    def __post_init__(self) -> None:
        if len(self.url) > MAX_ORIGIN_CHARS or not self.url.isprintable():
            raise UsageError(f"log url must be printable and at most {MAX_ORIGIN_CHARS} chars")

    @property
    def log_id(self) -> bytes:
        return self.key.log_id


@dataclass(frozen=True, slots=True)
class Peer:
    """A peer auditor: the name it presents when it pollinates us, and its base URL."""

    name: str
    url: str

    def __post_init__(self) -> None:
        if not self.name or not self.name.isprintable() or len(self.name) > MAX_PEER_NAME_CHARS:
            raise UsageError(f"peer name {self.name!r:.70} must be 1-64 printable characters")
        if len(self.url) > MAX_ORIGIN_CHARS or not self.url.isprintable():
            raise UsageError(f"peer url must be printable and at most {MAX_ORIGIN_CHARS} chars")


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a pollination: a peer (by the name it claims, with its token) or a client."""

    peer: str | None = None
    token: str | None = None
    address: str = "client"


@dataclass(frozen=True, slots=True)
class FetchSth:
    """GET the log's current STH (RFC 6962 §4.3); report with on_sth / on_sth_failed."""

    log_id: bytes
    url: str


@dataclass(frozen=True, slots=True)
class FetchConsistency:
    """GET get-sth-consistency?first=&second= (RFC 6962 §4.4); report with on_proof /
    on_proof_failed, quoting `request_id`."""

    request_id: int
    log_id: bytes
    url: str
    first: int
    second: int


@dataclass(frozen=True, slots=True)
class SendPollination:
    """POST `sths` to the peer's sth-pollination endpoint; hand the STHs of its reply to
    on_pollination_reply (or report on_pollination_failed)."""

    peer: str
    url: str
    sths: tuple[GossipedSth, ...]


@dataclass(frozen=True, slots=True)
class Alarm:
    """A split view (or a log that would not prove consistency): store and report `bundle`."""

    bundle: EvidenceBundle
    verdict: EvidenceVerdict


@dataclass(frozen=True, slots=True)
class Ready:
    """Everything the core wants done since the last `ready()`.

    Ordering contract: write every alarm's bundle durably and log it BEFORE starting any
    fetch or sending any pollination, so evidence is never lost to a crash that follows.
    The fetches and sends may then run concurrently in any order.
    """

    alarms: tuple[Alarm, ...] = ()
    fetch_sths: tuple[FetchSth, ...] = ()
    fetch_proofs: tuple[FetchConsistency, ...] = ()
    pollinations: tuple[SendPollination, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.alarms or self.fetch_sths or self.fetch_proofs or self.pollinations)


__all__ = [
    "Alarm",
    "AuditedLog",
    "FetchConsistency",
    "FetchSth",
    "Peer",
    "Ready",
    "SendPollination",
    "Sender",
]
