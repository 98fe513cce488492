"""RPC credentials: Core's cookie file and HTTP Basic authentication.

`generate_cookie(path)` writes `__cookie__:<64 hex>` (32 random bytes) the way Core writes
`<datadir>/regtest/.cookie`: to `<path>.tmp` created with mode 0600, then renamed over
`path`, so a reader never sees a partial cookie and nobody else can read it.
`is_authorized(header, allowed)` checks an `Authorization: Basic ...` header against every
allowed credential in constant time (hmac.compare_digest over all of them, no early exit).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from btcnode.consensus.errors import ChainMisuse

__all__ = [
    "COOKIE_USER",
    "WWW_AUTHENTICATE",
    "RpcCredentials",
    "basic_authorization",
    "delete_cookie",
    "generate_cookie",
    "is_authorized",
    "read_cookie",
]

COOKIE_USER = "__cookie__"  # Core's COOKIEAUTH_USER
COOKIE_SECRET_BYTES = 32  # Core's COOKIE_SIZE: 64 hex digits
COOKIE_FILE_MODE = 0o600  # Core's default -rpccookieperms (owner only)
MAX_COOKIE_BYTES = 1024  # a cookie line is 75 bytes; anything much longer is not a cookie
WWW_AUTHENTICATE = 'Basic realm="jsonrpc"'  # Core's WWW_AUTH_HEADER_DATA


@dataclass(frozen=True, slots=True)
class RpcCredentials:
    """A user name and password; `repr` never shows the password."""

    user: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if ":" in self.user:
            raise ChainMisuse("an RPC user name cannot contain ':' (HTTP Basic splits on it)")

    @property
    def user_colon_password(self) -> bytes:
        return f"{self.user}:{self.password}".encode()

    def __repr__(self) -> str:
        return f"RpcCredentials(user={self.user!r}, password=<hidden>)"


def basic_authorization(credentials: RpcCredentials) -> str:
    """The `Authorization` header value a client sends."""
    return "Basic " + base64.b64encode(credentials.user_colon_password).decode()


def is_authorized(header: str | None, allowed: Sequence[RpcCredentials]) -> bool:
    """Core's RPCAuthorized: "Basic " + base64("user:password") matching one credential."""
    if header is None or not header.startswith("Basic "):
        return False
    try:
        given = base64.b64decode(header[len("Basic ") :].strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    if b":" not in given:
        return False
    matched = False
    for credentials in allowed:
        matched |= hmac.compare_digest(given, credentials.user_colon_password)
    return matched


def generate_cookie(path: Path | str) -> RpcCredentials:
    """Write a fresh cookie to `path` atomically with mode 0600 and return it."""
    path = Path(path)
    credentials = RpcCredentials(COOKIE_USER, secrets.token_hex(COOKIE_SECRET_BYTES))
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, COOKIE_FILE_MODE)
    try:
        os.fchmod(fd, COOKIE_FILE_MODE)  # the umask may have cleared bits, never added any
        os.write(fd, credentials.user_colon_password)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return credentials


def read_cookie(path: Path | str) -> RpcCredentials:
    """The credentials in a cookie file (its first line, `user:password`)."""
    path = Path(path)
    with path.open("rb") as f:
        raw = f.read(MAX_COOKIE_BYTES + 1)
    if len(raw) > MAX_COOKIE_BYTES:
        raise ChainMisuse(f"{path} is over {MAX_COOKIE_BYTES} bytes: not an RPC cookie")
    try:
        line = raw.decode("utf-8").splitlines()[0] if raw else ""
    except UnicodeDecodeError:
        raise ChainMisuse(f"{path} is not UTF-8 text: not an RPC cookie") from None
    user, colon, password = line.partition(":")
    if not colon:
        raise ChainMisuse(f"{path} does not hold user:password")
    return RpcCredentials(user, password)


def delete_cookie(path: Path | str) -> None:
    """Remove the cookie file if it is there (on shutdown, as Core does)."""
    Path(path).unlink(missing_ok=True)
