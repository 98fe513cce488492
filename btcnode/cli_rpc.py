"""`btcnode rpc`: call one RPC method of a running node, as bitcoin-cli does.

    btcnode rpc [--datadir DIR] [--rpc-port N] [--rpcuser U --rpcpassword P]
                [--rpcwait [--rpcwaittimeout S]] [-named] METHOD [ARGS...]

Credentials: --rpcpassword if given, else the cookie `<datadir>/regtest/.cookie` the node
writes at start. Arguments are converted and results printed as bitcoin-cli does
(`btcnode.cli_args`). Exit codes: 0 success; 1 an RPC error (Core's `error code:` /
`error message:` text on stderr), a refused connection, missing credentials or a failed
authorization (one line on stderr); 2 a usage error.

The HTTP call is `btcnode.rpc.client.http_post`, a plain synchronous urllib POST: the
command makes one request and exits.
"""

from __future__ import annotations

import base64
import http.client
import sys
import time
import urllib.error
from dataclasses import dataclass
from typing import Any, NoReturn

import click

from btcnode.cli_args import (
    CliArgumentError,
    convert_named,
    convert_positional,
    format_error,
    format_result,
    parse_response,
    request_body,
)
from btcnode.consensus.errors import ChainMisuse
from btcnode.daemon.layout import DEFAULT_DATADIR, cookie_path
from btcnode.daemon.options import DEFAULT_RPC_PORT
from btcnode.rpc.auth import read_cookie
from btcnode.rpc.client import DEFAULT_TIMEOUT_SECONDS, http_post
from btcnode.rpc.errors import RpcErrorCode

__all__ = ["RpcEndpoint", "RpcFailure", "call_rpc", "rpc"]

WAIT_RETRY_S = 0.25  # between --rpcwait attempts: quick to notice a node that came up
EXIT_FAILURE = 1


class RpcFailure(Exception):
    """The call did not produce a result; `text` is what to print, `retry` whether
    --rpcwait should try again (server down, cookie not yet written, node warming up)."""

    def __init__(self, text: str, *, retry: bool = False) -> None:
        self.text = text
        self.retry = retry
        super().__init__(text)


@dataclass(frozen=True, slots=True)
class RpcEndpoint:
    host: str
    port: int
    datadir: str
    user: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def credentials(self) -> tuple[str, str]:
        """(user, password): the explicit ones, else the node's cookie."""
        if self.password:
            return self.user or "", self.password
        path = cookie_path(self.datadir)
        try:
            cookie = read_cookie(path)
        except FileNotFoundError:
            raise RpcFailure(
                "error: Could not locate RPC credentials. No authentication cookie could be "
                f"found at {path}, and --rpcpassword is not set (is the node running?)",
                retry=True,
            ) from None
        except OSError as exc:
            raise RpcFailure(f"error: cannot read the RPC cookie {path}: {exc.strerror}") from None
        except ChainMisuse:
            raise RpcFailure(f"error: the RPC cookie {path} is not `user:password`") from None
        return cookie.user, cookie.password


def _post(endpoint: RpcEndpoint, body: bytes, timeout_s: float) -> tuple[int, bytes]:
    user, password = endpoint.credentials()
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    try:
        return http_post(endpoint.url, headers, body, timeout_s)
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise RpcFailure(
            f"error: could not connect to the server {endpoint.host}:{endpoint.port} ({reason})"
            " - is `btcnode run` running with this --rpc-port?",
            retry=True,
        ) from None


def call_rpc(
    endpoint: RpcEndpoint, method: str, params: list[Any] | dict[str, Any], timeout_s: float
) -> Any:
    """The method's result; `RpcFailure` with bitcoin-cli's text otherwise."""
    status, reply = _post(endpoint, request_body(method, params), timeout_s)
    if status == 401:
        raise RpcFailure("error: Authorization failed: Incorrect rpcuser or rpcpassword")
    try:
        result, error = parse_response(reply)
    except CliArgumentError as exc:
        raise RpcFailure(f"error: server returned HTTP {status}: {exc}") from None
    if error is not None:
        # Core's code while the node is still starting: --rpcwait retries it
        warmup = isinstance(error, dict) and error.get("code") == RpcErrorCode.IN_WARMUP
        raise RpcFailure(format_error(error), retry=warmup)
    return result


def call_with_wait(
    endpoint: RpcEndpoint,
    method: str,
    params: list[Any] | dict[str, Any],
    wait_timeout_s: float | None,
) -> Any:
    """`call_rpc`, retried while the node is not up yet, until `wait_timeout_s` (None: one
    attempt; 0: forever), as bitcoin-cli's -rpcwait / -rpcwaittimeout."""
    deadline = None if not wait_timeout_s else time.monotonic() + wait_timeout_s
    while True:
        try:
            return call_rpc(endpoint, method, params, DEFAULT_TIMEOUT_SECONDS)
        except RpcFailure as exc:
            give_up = deadline is not None and time.monotonic() >= deadline
            if wait_timeout_s is None or not exc.retry or give_up:
                raise
        time.sleep(WAIT_RETRY_S)


def _fail(text: str) -> NoReturn:
    click.echo(text, err=True)
    sys.exit(EXIT_FAILURE)


@click.command(
    "rpc",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--datadir", default=DEFAULT_DATADIR, show_default=True, help="the node's datadir")
@click.option(
    "--rpc-port",
    "--rpcport",
    "rpc_port",
    default=DEFAULT_RPC_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
)
@click.option("--rpcconnect", "host", default="127.0.0.1", show_default=True)
@click.option("--rpcuser", default=None, help="with --rpcpassword, instead of the cookie")
@click.option("--rpcpassword", default=None)
@click.option("--rpcwait", is_flag=True, help="wait for the node to start answering")
@click.option(
    "--rpcwaittimeout",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="seconds --rpcwait waits (0: forever)",
)
@click.option("-named", "--named", "named", is_flag=True, help="arguments are name=value")
@click.argument("method")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def rpc(
    datadir: str,
    rpc_port: int,
    host: str,
    rpcuser: str | None,
    rpcpassword: str | None,
    rpcwait: bool,
    rpcwaittimeout: int,
    named: bool,
    method: str,
    args: tuple[str, ...],
) -> None:
    """Call METHOD on a running node with ARGS and print the result (like bitcoin-cli)."""
    try:
        params = (
            convert_named(method, list(args)) if named else convert_positional(method, list(args))
        )
    except CliArgumentError as exc:
        _fail(f"error: {exc}")
    endpoint = RpcEndpoint(host, rpc_port, datadir, rpcuser, rpcpassword)
    wait = float(rpcwaittimeout) if rpcwait else None
    try:
        result = call_with_wait(endpoint, method, params, wait)
    except RpcFailure as exc:
        _fail(exc.text)
    text = format_result(result)
    if text is not None:
        click.echo(text)
