"""`POST /internal/v1/submit`: the leader's end of forwarding (`ctlog.log.forwarding`).

Only replicas holding the cluster secret may call it: a request without a valid MAC gets
401. The leader pools the forwarded entry as its own; a replica that does not lead answers
421 with the leader it knows, and a dropped or late proposal answers 503 with `"retry":
true`, so the follower tries again at whoever leads.
"""

from __future__ import annotations

from aiohttp import web

from ctlog.errors import InputError, LogUnavailable
from ctlog.log.codec import decode_entries
from ctlog.log.forwarding import (
    MAC_HEADER,
    SUBMIT_PATH,
    RetryElsewhere,
    check_forward_mac,
    logged_json,
)
from ctlog.log.replica import LogReplica


class InternalApi:
    def __init__(self, replica: LogReplica, secret: bytes) -> None:
        self.replica = replica
        self._secret = secret

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(SUBMIT_PATH, self.submit)

    async def submit(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not check_forward_mac(self._secret, body, request.headers.get(MAC_HEADER, "")):
            raise InputError("missing or wrong cluster MAC", http_status=401)
        entries = decode_entries(body)
        if len(entries) != 1:
            raise InputError("forward one entry per request")
        if not self.replica.node.is_leader:
            leader = self.replica.node.core.leader_id
            message = f"replica {self.replica.node_id} is not the leader"
            return web.json_response(
                {"error": "not_leader", "message": message, "leader": leader}, status=421
            )
        try:
            logged = await self.replica.sequence_here(entries[0])
        except RetryElsewhere as exc:
            body_json = {"error": "retry", "message": str(exc), "retry": True}
            return web.json_response(body_json, status=503)
        except LogUnavailable as exc:
            return web.json_response({"error": "unavailable", "message": str(exc)}, status=503)
        return web.json_response(logged_json(logged))


__all__ = ["InternalApi"]
