"""The error base of the shared core.

Errors say whose fault it was: `UsageError` is misuse by the caller (bad arguments, bad
configuration), `PeerError` is misbehaviour by a peer or bad input from outside (it carries an
HTTP status hint). Each sub-package derives its own errors from these.
"""

from __future__ import annotations


class CommonError(Exception):
    """Base of every error raised by `common`."""


class UsageError(CommonError):
    """The caller used an API or command wrongly; fixing the call fixes it."""


class ConfigError(UsageError):
    """A configuration file or option is invalid; the message names the field."""


class PeerError(CommonError):
    """A peer or an outside client sent something malformed, oversize or unauthenticated."""

    http_status: int = 400

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        if http_status is not None:
            self.http_status = http_status
