"""run_until_signalled: graceful shutdown on SIGTERM/SIGINT, forced exit on a second signal,
exit codes and one log line when main raises."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys

import pytest

from common.errors import ConfigError
from common.runtime import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, run_until_signalled

GRACEFUL = """
import asyncio, sys
from common.runtime import run_until_signalled, setup_logging
setup_logging("info", json_lines=True)
async def main(stop):
    print("ready", flush=True)
    try:
        await stop.wait()
        await asyncio.sleep(0)
    finally:
        print("cleanup done", flush=True)
sys.exit(run_until_signalled(main))
"""

STUCK = """
import asyncio, sys
from common.runtime import run_until_signalled, setup_logging
setup_logging("info", json_lines=True)
async def main(stop):
    print("ready", flush=True)
    await stop.wait()
    print("stopping", flush=True)
    await asyncio.Event().wait()
sys.exit(run_until_signalled(main))
"""


def spawn(script: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly(signum: signal.Signals) -> None:
    child = spawn(GRACEFUL)
    child.send_signal(signum)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out == "cleanup done\n"
    events = [json.loads(line) for line in err.splitlines()]
    assert [(e["msg"], e["signal"]) for e in events] == [("shutting down", signum.name)]


def test_second_signal_forces_exit() -> None:
    child = spawn(STUCK)
    assert child.stdout is not None
    child.send_signal(signal.SIGTERM)
    assert child.stdout.readline() == "stopping\n"
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130
    assert [json.loads(line)["msg"] for line in err.splitlines()] == [
        "shutting down",
        "exiting now",
    ]


def test_clean_return_is_exit_zero() -> None:
    seen: list[bool] = []

    async def main(stop: asyncio.Event) -> None:
        seen.append(stop.is_set())

    assert run_until_signalled(main) == EXIT_OK
    assert seen == [False]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_error_in_main_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    async def main(stop: asyncio.Event) -> None:
        raise RuntimeError("disk on fire")

    with caplog.at_level("INFO"):
        assert run_until_signalled(main) == EXIT_FAILURE
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == ["stopped by an error: disk on fire"]
    assert getattr(errors[0], "event_fields", None) == {"error": "RuntimeError"}
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_usage_error_in_main_is_exit_two(caplog: pytest.LogCaptureFixture) -> None:
    async def main(stop: asyncio.Event) -> None:
        raise ConfigError("cluster.toml: cluster.name: required key is missing")

    assert run_until_signalled(main) == EXIT_USAGE
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["stopped: cluster.toml: cluster.name: required key is missing"]
