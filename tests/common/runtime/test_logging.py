"""Logging: JSON lines parse with the expected fields; human lines carry fields as k=v."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from common.errors import ConfigError
from common.runtime import log_event, setup_logging


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_have_the_base_keys_and_event_fields() -> None:
    out = io.StringIO()
    setup_logging("debug", json_lines=True, stream=out)
    log = logging.getLogger("opentrust.test")
    log_event(log, "role", node="n1", term=3, key=b"\x01\xff", ratio=0.5, ok=True)
    log.debug("plain %s", "message", extra={"peer": "n2", "level": "clash"})
    first, second = lines(out)
    assert {k: first[k] for k in ("level", "logger", "msg")} == {
        "level": "info",
        "logger": "opentrust.test",
        "msg": "role",
    }
    assert (first["node"], first["term"], first["key"], first["ratio"], first["ok"]) == (
        "n1",
        3,
        "01ff",
        0.5,
        True,
    )
    assert str(first["ts"]).endswith("Z")
    datetime.fromisoformat(str(first["ts"]).replace("Z", "+00:00"))
    assert (second["msg"], second["peer"], second["level_"]) == ("plain message", "n2", "clash")
    assert second["level"] == "debug"


def test_field_names_that_clash_are_kept_with_a_suffix() -> None:
    out = io.StringIO()
    setup_logging("info", json_lines=True, stream=out)
    log_event(logging.getLogger("x"), "ev", logger="mine", ts=1, event="e")
    (line,) = lines(out)
    assert (line["logger"], line["logger_"], line["ts_"], line["event"]) == ("x", "mine", 1, "e")


def test_exceptions_stay_on_one_line() -> None:
    out = io.StringIO()
    setup_logging("info", json_lines=True, stream=out)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("x").exception("failed")
    (line,) = lines(out)
    assert line["msg"] == "failed"
    assert "ValueError: boom" in str(line["exc"])


def test_level_filters_and_setup_is_idempotent() -> None:
    out = io.StringIO()
    setup_logging("info", json_lines=True, stream=io.StringIO())
    setup_logging("WARNING", json_lines=True, stream=out)
    log = logging.getLogger("x")
    log_event(log, "quiet")
    log_event(log, "loud", level=logging.ERROR, code=7)
    assert [(line["msg"], line["level"], line["code"]) for line in lines(out)] == [
        ("loud", "error", 7)
    ]
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_opentrust_handler", False)]
    assert len(ours) == 1


def test_not_a_terminal_defaults_to_json() -> None:
    out = io.StringIO()
    setup_logging(stream=out)
    logging.getLogger("x").info("hello")
    assert lines(out)[0]["msg"] == "hello"


def test_human_lines_append_fields() -> None:
    out = io.StringIO()
    setup_logging("info", json_lines=False, stream=out)
    log_event(logging.getLogger("opentrust.kv"), "serving", node="n1", url="http://x", note="a b")
    text = out.getvalue()
    assert text.endswith(' serving node=n1 url=http://x note="a b"\n')
    assert " INFO    opentrust.kv: " in text


def test_unknown_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        setup_logging("verbose", stream=io.StringIO())
    assert str(caught.value) == (
        "unknown log level 'verbose': use one of debug, info, warning, error, critical"
    )
