"""`add_health_routes`: the two read-only endpoints every peer process serves.

`GET /healthz` answers 200 `{"ok": true}` while the event loop runs (a liveness probe).
`GET /status` answers 200 with the JSON of `status_fn()`; if `status_fn` raises, it answers
500 `{"ok": false, "error": ...}` and logs the error, so a broken status never kills a peer.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping

from aiohttp import web

from common.runtime._jsonable import json_default

__all__ = ["add_health_routes"]

log = logging.getLogger("opentrust.runtime.health")
_dumps = functools.partial(json.dumps, default=json_default)

StatusFn = Callable[[], Mapping[str, object]]


def add_health_routes(app: web.Application, status_fn: StatusFn) -> None:
    """Add `GET /healthz` and `GET /status` to `app` (before it starts)."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def status(request: web.Request) -> web.Response:
        try:
            body = dict(status_fn())
        except Exception as exc:
            log.exception("status_fn failed")
            error = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            return web.json_response(error, status=500)
        return web.json_response(body, dumps=_dumps)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
