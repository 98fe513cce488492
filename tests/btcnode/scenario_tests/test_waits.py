"""wait_until: returns the first accepted observation, or times out saying what it saw."""

from __future__ import annotations

import pytest

from btcnode.scenarios.errors import NodeCallError, NodeStartError, ScenarioTimeout
from btcnode.scenarios.waits import wait_until


def test_the_first_accepted_value_is_returned() -> None:
    heights = iter([103, 104, 105, 106])
    got = wait_until("height 105", lambda: next(heights), lambda h: h >= 105, timeout_s=5)
    assert got == 105


def test_a_timeout_reports_the_last_observation() -> None:
    with pytest.raises(ScenarioTimeout) as err:
        wait_until(
            "node 2 at height 105",
            lambda: 104,
            lambda h: h == 105,
            timeout_s=0.2,
            show=lambda h: f"node 2 at height {h}",
        )
    assert (err.value.what, err.value.last_seen, err.value.timeout_s) == (
        "node 2 at height 105",
        "node 2 at height 104",
        0.2,
    )
    assert str(err.value) == (
        "node 2 at height 105 did not happen within 0.2 s; last seen: node 2 at height 104"
    )


def test_a_failing_probe_is_an_observation_not_the_end() -> None:
    answers: list[int | None] = [None, None, 7]

    def probe() -> int:
        value = answers.pop(0)
        if value is None:
            raise NodeCallError("n1", "getblockcount", None, "connection refused")
        return value

    assert wait_until("an answer", probe, lambda v: v == 7, timeout_s=5) == 7
    answers.extend([None] * 1000)
    with pytest.raises(ScenarioTimeout, match="last seen: error: node n1: getblockcount failed"):
        wait_until("an answer", probe, lambda v: True, timeout_s=0.1)


def test_an_error_other_than_a_failed_call_ends_the_wait_at_once() -> None:
    def probe() -> int:
        raise NodeStartError("n1", "exited with code 1", "the log")

    with pytest.raises(NodeStartError, match="exited with code 1"):
        wait_until("an answer", probe, lambda v: True, timeout_s=30)
