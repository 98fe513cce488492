"""`pollinate`: hand signed tree heads to an auditor and take the ones it returns.

POSTs `{"sths": [...]}` to `<auditor>/.well-known/ct/v1/sth-pollination`
(draft-ietf-trans-gossip §8.2) and parses the reply strictly. A peer auditor passes its
`peer` name (header `X-CT-Gossip-Peer`) and `token` (`Authorization: Bearer`); a client
passes neither. 4xx answers raise `InputError` with the status and the auditor's reason;
5xx, timeouts and connection errors raise `LogUnavailable`. Returned STHs are not verified
here: check them against the log keys you trust.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiohttp

from ctlog.auditor.pollination import (
    MAX_POLLINATION_BYTES,
    POLLINATION_PATH,
    GossipedSth,
    decode_pollination,
    encode_pollination,
)
from ctlog.client import read_bounded
from ctlog.errors import InputError, LogUnavailable, UsageError

PEER_HEADER = "X-CT-Gossip-Peer"  # the name a peer auditor gives; absent for clients
MAX_ERROR_CHARS = 200  # an auditor's error reason, kept to one line


async def pollinate(
    auditor_url: str,
    sths: Sequence[GossipedSth],
    *,
    session: aiohttp.ClientSession | None = None,
    peer: str | None = None,
    token: str | None = None,
    timeout_s: float = 10.0,
) -> list[GossipedSth]:
    """Send `sths` to the auditor at `auditor_url`; returns the STHs it sent back."""
    if not auditor_url.startswith(("http://", "https://")):
        raise UsageError(f"auditor URL must start with http:// or https://, got {auditor_url!r}")
    url = auditor_url.rstrip("/") + POLLINATION_PATH
    headers = {"Content-Type": "application/json"}
    if peer is not None:
        headers[PEER_HEADER] = peer
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    owned = session is None
    http = session or aiohttp.ClientSession()
    try:
        status, body = await _post(http, url, encode_pollination(sths), headers, timeout_s)
    finally:
        if owned:
            await http.close()
    if status != 200:
        reason = _error_reason(body)
        if 400 <= status < 500 and status != 429:
            raise InputError(f"auditor answered HTTP {status}: {reason}", http_status=status)
        raise LogUnavailable(f"auditor {auditor_url} answered HTTP {status}: {reason}")
    return decode_pollination(body)


async def _post(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], timeout_s: float
) -> tuple[int, bytes]:
    try:
        async with http.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as resp:
            return resp.status, await read_bounded(resp, MAX_POLLINATION_BYTES, url)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise LogUnavailable(f"cannot reach {url}: {type(exc).__name__}: {exc}") from None


def _error_reason(body: bytes) -> str:
    try:
        obj = json.loads(body.decode("utf-8"))
        text = str(obj["error"]) if isinstance(obj, dict) and "error" in obj else body.decode()
    except (UnicodeDecodeError, ValueError):
        text = repr(body[:80])
    return " ".join(text.split())[:MAX_ERROR_CHARS]


__all__ = ["PEER_HEADER", "pollinate"]
