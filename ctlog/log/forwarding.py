"""A follower hands a validated submission to the leader: `POST /internal/v1/submit`.

The body is a BATCH command of one entry (`ctlog.log.codec`), authenticated by an
HMAC-SHA256 over a fixed label and the body with the cluster secret, in the `X-Ctlog-Mac`
header. The leader pools the entry as if it had accepted it itself and answers with where it
was logged: `{"leaf_index": n, "timestamp": t, "duplicate": bool}`. The follower signs the
SCT. A replayed request can only submit again an entry a replica validated, which dedup
answers with the entry already logged.

Answers the follower retries (with the same entry, so a retry is deduplicated): 421 (not the
leader), and 503 with `"retry": true` (leadership lost, proposal dropped, no quorum in time).
Any other answer ends the submission with that answer's reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import aiohttp

from ctlog.client import read_bounded
from ctlog.errors import InputError, LogUnavailable
from ctlog.log.codec import encode_batch
from ctlog.log.entry import LoggedEntry, PreparedEntry

SUBMIT_PATH = "/internal/v1/submit"
MAC_HEADER = "X-Ctlog-Mac"
MAC_LABEL = b"opentrust ctlog forward v1\n"  # keeps these MACs apart from any other use
MAX_FORWARD_CONNECTIONS = 64  # connections a follower keeps to the leader
MAX_ANSWER_BYTES = 4096  # an answer is a small JSON object


class RetryElsewhere(LogUnavailable):
    """This attempt failed in a way another attempt (maybe at a new leader) can fix."""


def forward_mac(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, MAC_LABEL + body, hashlib.sha256).hexdigest()


def check_forward_mac(secret: bytes, body: bytes, supplied: str) -> bool:
    return hmac.compare_digest(forward_mac(secret, body), supplied)


def logged_json(logged: LoggedEntry) -> dict[str, object]:
    return {
        "leaf_index": logged.leaf_index,
        "timestamp": logged.timestamp,
        "duplicate": logged.duplicate,
    }


class Forwarder:
    """The follower's side: one HTTP session to whoever leads."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=MAX_FORWARD_CONNECTIONS)
        self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def forward(self, leader_url: str, entry: PreparedEntry, timeout: float) -> LoggedEntry:
        """Have the leader at `leader_url` log `entry`; `RetryElsewhere` if worth retrying."""
        if self._session is None:
            raise LogUnavailable("the forwarder is not running")
        body = encode_batch([entry])
        headers = {MAC_HEADER: forward_mac(self._secret, body)}
        try:
            async with self._session.post(
                leader_url + SUBMIT_PATH,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                answer = await _read_answer(response, leader_url)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryElsewhere(f"leader {leader_url} unreachable: {exc or 'timeout'}") from None
        return _logged_from(status, answer, leader_url)


async def _read_answer(response: aiohttp.ClientResponse, leader_url: str) -> dict[str, Any]:
    try:
        raw = await read_bounded(response, MAX_ANSWER_BYTES, leader_url)
    except InputError as exc:
        return {"message": str(exc)}
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    return answer if isinstance(answer, dict) else {"message": raw[:200].decode(errors="replace")}


def _logged_from(status: int, answer: dict[str, Any], leader_url: str) -> LoggedEntry:
    message = str(answer.get("message", ""))
    if status == 421 or (status == 503 and answer.get("retry") is True):
        raise RetryElsewhere(f"leader {leader_url}: {message}")
    if status != 200:
        raise LogUnavailable(f"the leader refused the submission (HTTP {status}): {message}")
    index, timestamp = answer.get("leaf_index"), answer.get("timestamp")
    if type(index) is not int or type(timestamp) is not int or index < 0 or timestamp < 0:
        raise RetryElsewhere(f"leader {leader_url} sent a malformed answer: {answer!r:.200}")
    return LoggedEntry(index, timestamp, answer.get("duplicate") is True)


__all__ = [
    "MAC_HEADER",
    "SUBMIT_PATH",
    "Forwarder",
    "RetryElsewhere",
    "check_forward_mac",
    "forward_mac",
    "logged_json",
]
