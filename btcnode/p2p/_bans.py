"""The in-memory ban list of the peer manager (Core's BanMan without persistence).

Hosts are banned whole (Core bans subnets; one address here is a /32 or /128). Entries
expire at `banned_until`; `sweep(now)` drops the expired ones.
"""

from __future__ import annotations

import ipaddress

from btcnode.p2p.control import BanEntry
from btcnode.p2p.errors import P2PMisuse

__all__ = ["BanList", "normalize_host"]


def normalize_host(address: str) -> str:
    """'1.2.3.4', '1.2.3.4/32', '::1', '[::1]' or '::1/128' as the bare host; `P2PMisuse` for
    a subnet wider than one address."""
    text = address.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    host, _, mask = text.partition("/")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if mask:
            raise P2PMisuse(f"Error: Invalid IP/Subnet {address!r}") from None
        return host
    if mask and mask != str(ip.max_prefixlen):
        raise P2PMisuse(f"Error: only single-address bans are supported, got {address!r}")
    return str(ip)


class BanList:
    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[str, BanEntry] = {}

    def is_banned(self, host: str, now: float) -> bool:
        entry = self._entries.get(normalize_host(host))
        return entry is not None and entry.banned_until > now

    def ban(self, host: str, until: int, reason: str, now: float) -> None:
        key = normalize_host(host)
        self._entries[key] = BanEntry(key, int(now), until, reason)

    def unban(self, host: str) -> None:
        if self._entries.pop(normalize_host(host), None) is None:
            raise P2PMisuse(f"Error: Unban failed. {host} is not banned")

    def contains(self, host: str) -> bool:
        return normalize_host(host) in self._entries

    def entries(self, now: float) -> list[BanEntry]:
        self.sweep(now)
        return sorted(self._entries.values(), key=lambda entry: entry.address)

    def clear(self) -> None:
        self._entries.clear()

    def sweep(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if e.banned_until <= now]:
            del self._entries[key]
