"""`run_until_signalled`: the outer loop of every peer process.

Contract: `main(stop)` runs on a fresh asyncio loop (uvloop's when installed). The first
SIGTERM or SIGINT sets `stop` and `main` is expected to shut down in order and return; a
second one exits the process at once with code 130 (for a stuck shutdown), skipping cleanup.
The return value is the exit code: 0 when `main` returned, 2 when it raised a `UsageError`
(bad configuration or arguments), 1 for any other exception, each logged as one line (the
traceback goes to the debug level). Must be called from the main thread, as signal
handlers can only be set there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable

from common.errors import UsageError
from common.runtime._logging import log_event

__all__ = ["EXIT_FAILURE", "EXIT_FORCED", "EXIT_OK", "EXIT_USAGE", "run_until_signalled"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2  # the usual code for bad arguments (click and argparse use it too)
EXIT_FORCED = 130  # 128 + SIGINT: the shell's convention for "interrupted"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

log = logging.getLogger("opentrust.runtime")

Main = Callable[[asyncio.Event], Awaitable[None]]


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop (libuv) where it is installed: the same asyncio API, with less
    overhead per request and per socket event; the standard loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return loop_factory


def run_until_signalled(main: Main) -> int:
    """Run `main(stop)` until it returns; SIGTERM/SIGINT set `stop`. Returns an exit code."""
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_supervise(main))
    except KeyboardInterrupt:  # SIGINT before our handlers were in place
        log_event(log, "interrupted", level=logging.WARNING)
        return EXIT_FORCED
    except UsageError as exc:
        log.debug("main raised", exc_info=exc)
        log_event(log, f"stopped: {exc}", level=logging.ERROR, error=type(exc).__name__)
        return EXIT_USAGE
    except Exception as exc:
        log.debug("main raised", exc_info=exc)
        log_event(log, f"stopped by an error: {exc}", level=logging.ERROR, error=type(exc).__name__)
        return EXIT_FAILURE
    return EXIT_OK


async def _supervise(main: Main) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if stop.is_set():
            log_event(log, "exiting now", level=logging.WARNING, signal=signum.name)
            _flush_log_handlers()
            os._exit(EXIT_FORCED)
        log_event(log, "shutting down", signal=signum.name, hint="signal again to exit at once")
        stop.set()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await main(stop)
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


def _flush_log_handlers() -> None:
    """Flush every handler so the last lines reach the log before `os._exit`."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            handler.flush()
