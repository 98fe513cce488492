"""Waiting for a condition on real nodes, with a deadline and a report of what was seen.

`wait_until` polls `probe` until `done` accepts what it returned; on timeout it raises
`ScenarioTimeout` naming the condition and the last observation (`show` renders it, e.g.
"node observer at height 104, expected 105"). An RPC call that failed inside the probe
(`NodeCallError`: a node busy or restarting) counts as an observation; any other error
ends the wait at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from btcnode.scenarios.errors import NodeCallError, ScenarioTimeout

__all__ = ["DEFAULT_WAIT_S", "POLL_INTERVAL_S", "wait_until"]

T = TypeVar("T")

DEFAULT_WAIT_S = 20.0  # block and tx relay on loopback takes well under a second; 2 shared cores
POLL_INTERVAL_S = 0.05  # RPC polls are cheap; a relay round (inv, getdata, tx) takes longer


def wait_until(
    what: str,
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout_s: float = DEFAULT_WAIT_S,
    show: Callable[[T], str] = repr,
) -> T:
    """The first value of `probe()` that `done` accepts, polled until `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last_seen = "nothing yet"
    while True:
        try:
            value = probe()
        except NodeCallError as err:
            last_seen = f"error: {err}"
        else:
            if done(value):
                return value
            last_seen = show(value)
        if time.monotonic() >= deadline:
            raise ScenarioTimeout(what, last_seen, timeout_s)
        time.sleep(POLL_INTERVAL_S)
