"""What every `ctlog` command shares: exit codes, one-line errors and `--json` output.

Exit codes: 0 valid/ok, 1 invalid (a proof, signature or input that does not check out),
2 usage error (bad arguments, unreadable files), 3 the log or peer could not be reached.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import NoReturn

import aiohttp
import click

from ctlog.errors import CtlogError, InputError, LogUnavailable, UsageError, VerificationError

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

json_option = click.option("--json", "json_mode", is_flag=True, help="machine-readable output")
log_option = click.option("--log", "log_url", required=True, help="base URL of the log")


def iso_ms(ms: int) -> str:
    """A millisecond timestamp (SCTs, tree heads) as UTC ISO 8601, to the second."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def emit(payload: Mapping[str, object], text: str, *, json_mode: bool) -> None:
    """Print a result: the JSON object with --json, else the human text."""
    click.echo(json.dumps(payload, sort_keys=True) if json_mode else text)


def fail(reason: str, *, code: int, json_mode: bool, **extra: object) -> NoReturn:
    """Print one line saying why and exit with `code`."""
    reason = " ".join(reason.split())
    if json_mode:
        payload: dict[str, object] = {"ok": False, "reason": reason}
        if code == EXIT_INVALID:
            payload["valid"] = False
        payload.update({k: v for k, v in extra.items() if v is not None})
        click.echo(json.dumps(payload, sort_keys=True))
    else:
        click.echo(f"error: {reason}", err=True)
    sys.exit(code)


@contextlib.contextmanager
def cli_errors(*, json_mode: bool) -> Iterator[None]:
    """Map the package's errors to exit codes with a one-line reason."""
    try:
        yield
    except VerificationError as exc:
        fail(str(exc), code=EXIT_INVALID, json_mode=json_mode, evidence=exc.evidence or None)
    except InputError as exc:
        fail(str(exc), code=EXIT_INVALID, json_mode=json_mode)
    except LogUnavailable as exc:
        fail(str(exc), code=EXIT_UNREACHABLE, json_mode=json_mode)
    except UsageError as exc:
        fail(str(exc), code=EXIT_USAGE, json_mode=json_mode)
    except CtlogError as exc:
        fail(str(exc), code=EXIT_INVALID, json_mode=json_mode)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        fail(
            f"cannot reach the log: {exc or type(exc).__name__}",
            code=EXIT_UNREACHABLE,
            json_mode=json_mode,
        )


def read_file(path: str, *, json_mode: bool) -> bytes:
    """Read a file named on the command line; a missing file is a usage error."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", code=EXIT_USAGE, json_mode=json_mode)


__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "cli_errors",
    "emit",
    "fail",
    "iso_ms",
    "json_option",
    "log_option",
    "read_file",
]
