"""The HTTP face of a log replica: RFC 6962 §4, the static-ct read path, internal forwarding.

`ctlog.server.app.make_log_app(replica, secret)` builds the aiohttp application; `params`
parses request parameters (pure, and importing it loads no HTTP stack); `rfc6962`, `static`
and `internal` hold the handlers; `validation` runs chain validation in worker processes.
"""

__all__: list[str] = []
