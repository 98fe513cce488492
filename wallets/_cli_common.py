"""What every `wallet` command shares: exit codes, output (`--json` or text), one-line errors.

Exit codes: 0 done; 1 refused (a bad mnemonic, wrong password, bad address, insufficient
funds, dust, a corrupted wallet file, the node refusing the transaction); 2 usage (a bad
flag or argument value); 3 the node could not be reached or is on another chain.
JSON is written as Core writes it (`btcnode.rpc.jsonfmt`): amounts are numbers in BTC with
exactly eight decimals. Errors go to stderr as `error: <one line>`; with `--json` they go
to stdout as `{"ok": false, "error": "<one line>"}` so a script reads one stream.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

import click

from btcnode.address import AddressError
from btcnode.consensus.errors import ChainError
from btcnode.rpc.client import RpcTransportError
from btcnode.rpc.errors import RpcError
from btcnode.rpc.jsonfmt import Amount, dumps
from wallets._cli_input import CliInputError
from wallets._node import NodeUnavailable, WrongChain
from wallets.coinselect import InsufficientFunds
from wallets.errors import WalletError

__all__ = [
    "EXIT_FAILURE",
    "EXIT_NODE",
    "EXIT_OK",
    "EXIT_USAGE",
    "btc",
    "cli_errors",
    "emit",
    "fail",
    "one_line",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NODE = 3
MAX_ERROR_CHARS = 400  # one line on a terminal; a node's long message is cut, not wrapped


def btc(sats: int) -> str:
    """Satoshis as BTC with eight decimals: `1.50000000`."""
    return str(Amount(sats))


def one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 3] + "..."


def emit(payload: Any, text: str, *, json_mode: bool) -> None:
    """Print a result: `payload` as Core-style JSON with --json, else `text`."""
    click.echo(dumps(payload) if json_mode else text)


def fail(reason: str, *, code: int, json_mode: bool) -> NoReturn:
    line = one_line(reason)
    if json_mode:
        click.echo(dumps({"ok": False, "error": line}))
    else:
        click.echo(f"error: {line}", err=True)
    sys.exit(code)


def _insufficient(exc: InsufficientFunds) -> str:
    return (
        f"insufficient funds: {btc(exc.needed)} BTC needed for the payments and fees, "
        f"{btc(exc.available)} BTC available to spend"
    )


def error_text(exc: BaseException) -> tuple[str, int]:
    """The line and exit code for an error a command let through."""
    if isinstance(exc, CliInputError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, InsufficientFunds):
        return _insufficient(exc), EXIT_FAILURE
    if isinstance(exc, NodeUnavailable | WrongChain):
        return str(exc), EXIT_NODE
    if isinstance(exc, WalletError):
        return str(exc), EXIT_FAILURE
    if isinstance(exc, RpcTransportError):
        return f"cannot reach the node: {exc}", EXIT_NODE
    if isinstance(exc, RpcError):
        return f"the node refused: {exc.message} (code {exc.code})", EXIT_FAILURE
    if isinstance(exc, AddressError):
        return f"bad address: {exc.message}", EXIT_FAILURE
    if isinstance(exc, ChainError):
        return str(exc), EXIT_FAILURE
    if isinstance(exc, OSError):
        return f"{exc.filename or 'I/O'}: {exc.strerror or exc}", EXIT_FAILURE
    raise exc


@contextlib.contextmanager
def cli_errors(*, json_mode: bool) -> Iterator[None]:
    """Turn the wallet's, the node's and the file system's errors into one line and an
    exit code; anything else is a bug and keeps its traceback."""
    try:
        yield
    except (WalletError, ChainError, OSError) as exc:
        text, code = error_text(exc)
        fail(text, code=code, json_mode=json_mode)
