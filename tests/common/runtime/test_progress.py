"""progress: rate-limited log lines off a terminal, a rich bar on one."""

from __future__ import annotations

import io
import logging

import pytest

from common.errors import UsageError
from common.runtime import progress
from common.runtime._progress import PROGRESS_LOG_INTERVAL_S


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, dict[str, object]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append((record.getMessage(), dict(getattr(record, "event_fields", {}))))


@pytest.fixture
def recorder() -> tuple[logging.Logger, Records]:
    logger = logging.getLogger("test.progress")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = Records()
    logger.handlers[:] = [handler]
    return logger, handler


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_are_rate_limited(recorder: tuple[logging.Logger, Records]) -> None:
    logger, records = recorder
    clock = FakeClock()
    with progress(10, "replaying log", stream=io.StringIO(), logger=logger, clock=clock) as bar:
        for _ in range(4):
            bar.advance()
            clock.now += PROGRESS_LOG_INTERVAL_S / 2
        bar.advance(6)
        assert bar.completed == 10
    assert records.events == [
        ("progress", {"task": "replaying log", "done": 3, "total": 10}),
        ("progress", {"task": "replaying log", "done": 10, "total": 10}),
        ("progress_done", {"task": "replaying log", "done": 10, "total": 10, "complete": True}),
    ]


def test_failure_is_reported_as_incomplete(recorder: tuple[logging.Logger, Records]) -> None:
    logger, records = recorder
    with pytest.raises(RuntimeError), progress(None, "sync", stream=io.StringIO(), logger=logger):
        raise RuntimeError("peer went away")
    assert records.events == [
        ("progress_done", {"task": "sync", "done": 0, "total": None, "complete": False})
    ]


def test_terminal_shows_a_bar(recorder: tuple[logging.Logger, Records]) -> None:
    logger, records = recorder
    screen = Terminal()
    with progress(3, "indexing blocks", stream=screen, logger=logger) as bar:
        bar.advance(3)
    assert bar.completed == 3
    assert "indexing blocks" in screen.getvalue()
    assert records.events == []


def test_negative_total_is_misuse() -> None:
    with pytest.raises(UsageError) as caught, progress(-1, "x"):
        pass
    assert str(caught.value) == "progress total must be >= 0 or None, found -1"
