"""The aiohttp application of one log replica: RFC 6962, static-ct, forwarding, health.

Every error is JSON `{"error": code, "message": one line}`: 400 bad input (garbage base64,
non-DER bytes, unknown roots, expired or wrong-type certificates, bad query parameters),
401 a forwarding request without the cluster MAC, 404 nothing there, 405 wrong method, 413
a body above `MAX_REQUEST_BYTES`, 503 the log cannot take or answer it now (no leader in
time, pool full, no tree head yet). Nothing is written for a refused request. An unexpected
exception is logged and answered 500 without details; it never stops the process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from common.runtime import add_health_routes
from ctlog.errors import CtlogError, InputError, LogUnavailable, UsageError
from ctlog.log.replica import LogReplica
from ctlog.server.internal import InternalApi
from ctlog.server.rfc6962 import Rfc6962Api
from ctlog.server.static import StaticApi
from ctlog.server.validation import ChainPolicy, ChainValidator

log = logging.getLogger("opentrust.ctlog.http")

MAX_REQUEST_BYTES = 256 * 1024  # an add-chain body: 10 certificates of ~19 KiB in base64 fit
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    503: "unavailable",
}


def error_response(status: int, message: str, code: str | None = None) -> web.Response:
    code = code or _HTTP_CODES.get(status, "error")
    return web.json_response({"error": code, "message": " ".join(message.split())}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON answer with the right status."""
    try:
        return await handler(request)
    except InputError as exc:
        return error_response(exc.http_status, str(exc))
    except LogUnavailable as exc:
        return error_response(503, str(exc), "unavailable")
    except UsageError as exc:  # a check below the HTTP layer caught out-of-range input
        return error_response(400, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.text or exc.reason)
    except CtlogError as exc:
        log.error("%s %s failed: %s", request.method, request.path, exc)
        return error_response(500, "internal error; see the replica's log", "internal")
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal error; see the replica's log", "internal")


def make_log_app(replica: LogReplica, secret: bytes) -> web.Application:
    """The replica's HTTP application; its chain validator starts and stops with it."""
    section = replica.config.log
    policy = ChainPolicy(
        section.not_after_start_ms, section.not_after_end_ms, section.allow_expired
    )
    validator = ChainValidator(replica.roots, policy, section.validation_workers)
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_REQUEST_BYTES)
    app.on_startup.append(lambda _app: validator.start())
    app.on_cleanup.append(lambda _app: validator.close())
    Rfc6962Api(replica, validator).add_routes(app)
    StaticApi(replica).add_routes(app)
    InternalApi(replica, secret).add_routes(app)
    add_health_routes(app, replica.status)
    return app


__all__ = ["MAX_REQUEST_BYTES", "error_response", "json_errors", "make_log_app"]
