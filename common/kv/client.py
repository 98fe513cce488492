"""A client of the replicated KV store: finds the leader, retries with one session.

Each `KvClient` has a session id and numbers its commands; a command that times out or hits
a leader change is retried with the SAME (client_id, seq), so the cluster applies it once
even if an earlier attempt was committed (Raft thesis §6.3). After `deadline_s` without an
answer from a quorum the call fails with `KvUnavailable`, which says so; it never hangs.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from common.errors import CommonError, UsageError
from common.kv.json_values import read_value, value_fields

DEFAULT_DEADLINE_S = 10.0  # how long one call keeps retrying before it reports no quorum
ATTEMPT_TIMEOUT_S = 6.0  # one HTTP attempt; a little above the server's 5 s request timeout
RETRY_PAUSE_S = 0.05  # pause between attempts on the same node, grows up to RETRY_PAUSE_MAX_S
RETRY_PAUSE_MAX_S = 0.5


class KvClientError(CommonError):
    """The cluster answered with an error that retrying will not fix."""

    def __init__(self, message: str, status: int, body: dict[str, Any]) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class KvUnavailable(CommonError):
    """No leader with a quorum answered before the deadline."""


@dataclass(frozen=True, slots=True)
class KvReply:
    status: str  # "ok", "not_found", "cas_failed", ...
    value: bytes | None
    index: int


def _reply(body: dict[str, Any]) -> KvReply:
    return KvReply(str(body.get("status")), read_value(body, "value"), int(body.get("index", 0)))


class KvClient:
    """Talks to any node of a cluster; use as an async context manager."""

    def __init__(
        self,
        urls: Sequence[str],
        token: str,
        *,
        client_id: str | None = None,
        deadline_s: float = DEFAULT_DEADLINE_S,
    ) -> None:
        if not urls:
            raise UsageError("KvClient needs at least one node URL")
        self.urls = list(urls)
        self.client_id = client_id or secrets.token_hex(8)
        self.deadline_s = deadline_s
        self._seq = 0
        self._leader = 0  # index into urls of the node to try first
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> KvClient:
        timeout = aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT_S)
        self._session = aiohttp.ClientSession(headers=self._headers, timeout=timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    # ----- commands -----
    async def put(self, key: str, value: bytes) -> KvReply:
        return await self._command({"op": "put", "key": key, **value_fields("value", value)})

    async def append(self, key: str, value: bytes) -> KvReply:
        return await self._command({"op": "append", "key": key, **value_fields("value", value)})

    async def delete(self, key: str) -> KvReply:
        return await self._command({"op": "delete", "key": key})

    async def cas(self, key: str, expected: bytes | None, new: bytes) -> KvReply:
        body: dict[str, Any] = {"op": "cas", "key": key, **value_fields("value", new)}
        body.update(value_fields("expected", expected))
        return await self._command(body)

    async def get(self, key: str, *, linearizable: bool = True) -> KvReply:
        consistency = "linearizable" if linearizable else "serializable"
        return await self._call("GET", f"/v1/kv/{key}?consistency={consistency}", None)

    async def status(self, url: str) -> dict[str, Any]:
        session = self._require_session()
        async with session.get(url.rstrip("/") + "/status") as response:
            body: dict[str, Any] = await response.json()
            return body

    async def _command(self, body: dict[str, Any]) -> KvReply:
        self._seq += 1
        body = {**body, "client_id": self.client_id, "seq": self._seq}
        return await self._call("POST", "/v1/command", body)

    # ----- finding the leader -----
    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise UsageError("use KvClient as 'async with KvClient(...) as client'")
        return self._session

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> KvReply:
        return _reply(await self._request(method, path, body, accept=(200, 404)))

    async def admin(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST an administrative request (/v1/members, /v1/transfer) to the leader."""
        return await self._request("POST", path, body, accept=(200,))

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None, accept: tuple[int, ...]
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline_s
        pause, last_problem = RETRY_PAUSE_S, "no node answered"
        while loop.time() < deadline:
            url = self.urls[self._leader] + path
            try:
                status, answer = await self._attempt(method, url, body)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                last_problem = f"{self.urls[self._leader]}: {type(exc).__name__} {exc}".strip()
                self._leader = (self._leader + 1) % len(self.urls)
            else:
                if status in accept and "error" not in answer:
                    return answer
                last_problem = f"{self.urls[self._leader]}: {answer.get('message', status)}"
                if status == 421:
                    self._follow_redirect(answer)
                    await asyncio.sleep(RETRY_PAUSE_S)
                    continue
                if status != 503:
                    raise KvClientError(last_problem, status, answer)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_PAUSE_MAX_S)
        raise KvUnavailable(
            f"no leader with a quorum answered within {self.deadline_s:g} s "
            f"(last problem: {last_problem})"
        )

    async def _attempt(
        self, method: str, url: str, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        session = self._require_session()
        async with session.request(method, url, json=body) as response:
            answer = await response.json(content_type=None)
            if not isinstance(answer, dict):
                raise ValueError(f"{url} answered with a non-object JSON body")
            return response.status, answer

    def _follow_redirect(self, answer: dict[str, Any]) -> None:
        leader_url = answer.get("leader_url")
        if isinstance(leader_url, str):
            if leader_url not in self.urls:
                self.urls.append(leader_url)
            self._leader = self.urls.index(leader_url)
        else:  # no leader known yet: try the next node
            self._leader = (self._leader + 1) % len(self.urls)


__all__ = ["KvClient", "KvClientError", "KvReply", "KvUnavailable"]
