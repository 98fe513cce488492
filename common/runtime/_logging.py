"""Structured logging for peer processes: human lines on a terminal, JSON lines otherwise.

A JSON line is one object: `ts` (UTC, ISO 8601, milliseconds), `level`, `logger`, `msg`, then
every structured field of the record (`log_event` fields and `extra=` keys), then `exc` for a
traceback. A field whose name clashes with one of those keys gets a trailing underscore, so
a line never loses data. Values that JSON cannot hold are written as strings (bytes as hex).

`setup_logging` configures the root logger and is idempotent: calling it again replaces the
handler it installed before, and leaves handlers installed by others alone.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.logging import RichHandler

from common.errors import ConfigError
from common.runtime._jsonable import json_default

__all__ = ["HumanFormatter", "JsonLineFormatter", "is_terminal", "log_event", "setup_logging"]

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
EVENT_FIELDS = "event_fields"  # the LogRecord attribute that carries `log_event` fields
_OURS = "_opentrust_handler"  # marks the handler setup_logging installed, to replace it later
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    EVENT_FIELDS,
}


def setup_logging(
    level: str = "info", json_lines: bool | None = None, stream: TextIO | None = None
) -> None:
    """Send log records at `level` and above to `stream` (default stderr).

    `json_lines=None` picks JSON lines unless `stream` is a terminal. Raises `ConfigError`
    for an unknown level name.
    """
    threshold = LEVELS.get(level.lower()) if isinstance(level, str) else None
    if threshold is None:
        raise ConfigError(f"unknown log level {level!r}: use one of {', '.join(LEVELS)}")
    out = stream if stream is not None else sys.stderr
    if json_lines is None:
        json_lines = not is_terminal(out)
    handler: logging.Handler
    if json_lines:
        handler = logging.StreamHandler(out)
        handler.setFormatter(JsonLineFormatter())
    elif is_terminal(out):
        handler = RichHandler(console=Console(file=out), show_path=False)
        handler.setFormatter(HumanFormatter("%(message)s"))
    else:
        handler = logging.StreamHandler(out)
        handler.setFormatter(HumanFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)


def log_event(
    logger: logging.Logger, event: str, /, *, level: int = logging.INFO, **fields: Any
) -> None:
    """Log `event` as the message, with `fields` as structured data (JSON keys, or k=v)."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={EVENT_FIELDS: fields}, stacklevel=2)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of `record`: its `extra=` keys, then its `log_event` fields."""
    fields = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS}
    event_fields = getattr(record, EVENT_FIELDS, None)
    if isinstance(event_fields, Mapping):
        fields.update(event_fields)
    return fields


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            while key in line:
                key += "_"
            line[key] = value
        if record.exc_info:
            line["exc" if "exc" not in line else "exc_"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=json_default, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    """The usual format, with structured fields appended as `key=value`."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        fields = record_fields(record)
        if not fields:
            return text
        pairs = " ".join(f"{k}={_human_value(v)}" for k, v in fields.items())
        return f"{text} {pairs}"


def is_terminal(stream: object) -> bool:
    """True if `stream` is an open terminal."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed file
        return False


def _timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _human_value(value: Any) -> str:
    if isinstance(value, str) and value and " " not in value:
        return value
    return json.dumps(value, default=json_default, ensure_ascii=False)
