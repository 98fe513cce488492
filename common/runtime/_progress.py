"""`progress`: report a long task: a rich bar on a terminal, rate-limited log lines otherwise.

Not on a terminal, a `progress` log event is written at most once every
`PROGRESS_LOG_INTERVAL_S` seconds while the task advances, and one `progress_done` event at
the end (with `complete=false` if the block raised), so logs stay short on long tasks.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import Progress

from common.errors import UsageError
from common.runtime._logging import is_terminal, log_event

__all__ = ["PROGRESS_LOG_INTERVAL_S", "ProgressReporter", "progress"]

PROGRESS_LOG_INTERVAL_S = 5.0  # shows a task is alive without flooding the log

log = logging.getLogger("opentrust.progress")


class ProgressReporter(Protocol):
    """What `progress` yields."""

    @property
    def completed(self) -> int: ...

    def advance(self, n: int = 1) -> None: ...


class _LogReporter:
    __slots__ = ("_clock", "_completed", "_description", "_last_log", "_logger", "_total")

    def __init__(
        self,
        total: int | None,
        description: str,
        logger: logging.Logger,
        clock: Callable[[], float],
    ) -> None:
        self._total = total
        self._description = description
        self._logger = logger
        self._clock = clock
        self._completed = 0
        self._last_log = clock()

    @property
    def completed(self) -> int:
        return self._completed

    def advance(self, n: int = 1) -> None:
        self._completed += n
        now = self._clock()
        if now - self._last_log >= PROGRESS_LOG_INTERVAL_S:
            self._last_log = now
            log_event(
                self._logger,
                "progress",
                task=self._description,
                done=self._completed,
                total=self._total,
            )

    def finish(self, complete: bool) -> None:
        log_event(
            self._logger,
            "progress_done",
            task=self._description,
            done=self._completed,
            total=self._total,
            complete=complete,
        )


class _RichReporter:
    __slots__ = ("_bar", "_completed", "_task")

    def __init__(self, bar: Progress, total: int | None, description: str) -> None:
        self._bar = bar
        self._task = bar.add_task(description, total=total)
        self._completed = 0

    @property
    def completed(self) -> int:
        return self._completed

    def advance(self, n: int = 1) -> None:
        self._completed += n
        self._bar.advance(self._task, n)


@contextmanager
def progress(
    total: int | None,
    description: str,
    *,
    stream: TextIO | None = None,
    logger: logging.Logger | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[ProgressReporter]:
    """Report progress of a task of `total` steps (None if unknown) while the block runs."""
    if total is not None and total < 0:
        raise UsageError(f"progress total must be >= 0 or None, found {total}")
    out = stream if stream is not None else sys.stderr
    if is_terminal(out):
        with Progress(console=Console(file=out)) as bar:
            yield _RichReporter(bar, total, description)
        return
    reporter = _LogReporter(total, description, logger or log, clock)
    complete = False
    try:
        yield reporter
        complete = True
    finally:
        reporter.finish(complete)
