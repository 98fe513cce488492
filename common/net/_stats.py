"""Counters of a real transport, and the rule for logging refused connections.

A refused connection is counted every time but logged at WARNING only the first time a given
(reason, remote) pair is seen, so a misconfigured peer redialling every few seconds does not
flood the log; repeats go to DEBUG. The set of pairs already logged is bounded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from common.net._errors import AuthError

MAX_LOGGED_REJECT_KEYS = 1024  # remote ids may be attacker-chosen; forget and re-log past this

log = logging.getLogger("common.net")


@dataclass(slots=True)
class TransportStats:
    """Counters for status pages; see `AiohttpTransport.stats`."""

    sent: int = 0  # payloads written to a peer connection
    dropped: int = 0  # payloads refused by send() or lost with a failed connection
    received: int = 0  # payloads handed to recv()'s queue
    rejected_connections: int = 0  # handshakes refused, inbound or outbound
    reconnects: int = 0  # outbound links re-established after one was lost or refused
    protocol_errors: int = 0  # authenticated connections closed for bad or oversize frames
    last_reject_reason: str = ""  # "<reason tag>: <detail>" of the latest refusal
    last_protocol_error: str = ""
    _logged: set[tuple[str, str]] = field(default_factory=set, repr=False)

    def record_reject(self, exc: AuthError, where: str) -> None:
        """Count a refused handshake; `where` says which connection ("inbound from ...")."""
        self.rejected_connections += 1
        self.last_reject_reason = f"{exc.reason.value}: {where}: {exc.detail}"
        key = (exc.reason.value, exc.remote_id or where)
        if key in self._logged:
            log.debug("peer connection refused: %s", self.last_reject_reason)
            return
        if len(self._logged) >= MAX_LOGGED_REJECT_KEYS:
            self._logged.clear()
        self._logged.add(key)
        log.warning("peer connection refused: %s", self.last_reject_reason)

    def record_protocol_error(self, remote_id: str, detail: str) -> None:
        """Count an authenticated connection closed because its framing was bad."""
        self.protocol_errors += 1
        self.last_protocol_error = f"{remote_id}: {detail}"
        log.warning("closing connection from %s: %s", remote_id, detail)

    def as_dict(self) -> dict[str, int | str]:
        return {
            "sent": self.sent,
            "dropped": self.dropped,
            "received": self.received,
            "rejected_connections": self.rejected_connections,
            "reconnects": self.reconnects,
            "protocol_errors": self.protocol_errors,
            "last_reject_reason": self.last_reject_reason,
            "last_protocol_error": self.last_protocol_error,
        }
