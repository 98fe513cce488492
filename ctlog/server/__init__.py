"""The HTTP face of a log replica: RFC 6962 §4, the static-ct read path, internal forwarding.

`make_log_app(replica, secret)` builds the aiohttp application; `params` parses request
parameters (pure); `rfc6962`, `static` and `internal` hold the handlers.
"""

from ctlog.server.app import MAX_REQUEST_BYTES, make_log_app

__all__ = ["MAX_REQUEST_BYTES", "make_log_app"]
