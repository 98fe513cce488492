"""Errors of the scenarios: whose fault a failed run was, with what was seen.

`ScenarioError` is the base. `ScenarioMisuse` is the caller's mistake (an unknown scenario, a
bad option). `NodeStartError` is a node process that would not start or died, with the tail
of its log. `NodeCallError` is an RPC call a node refused. `ScenarioTimeout` is a condition
that did not come true in time, with the last thing seen; `ScenarioCheckFailed` is a node
that behaved otherwise than Bitcoin's rules say, with expected and observed values.
"""

from __future__ import annotations

from btcnode.consensus.errors import ChainError

__all__ = [
    "NodeCallError",
    "NodeStartError",
    "ScenarioCheckFailed",
    "ScenarioError",
    "ScenarioMisuse",
    "ScenarioTimeout",
]


class ScenarioError(ChainError):
    """Base of every error a scenario raises."""


class ScenarioMisuse(ScenarioError):
    """The caller asked for something that does not exist or cannot be run."""


class NodeStartError(ScenarioError):
    """A node process did not answer RPC, or exited; `log_tail` is the end of its log."""

    def __init__(self, node: str, problem: str, log_tail: str = "") -> None:
        self.node = node
        self.problem = problem
        self.log_tail = log_tail
        super().__init__(f"node {node}: {problem}")


class NodeCallError(ScenarioError):
    """An RPC call a node answered with an error (Core's code and message) or not at all."""

    def __init__(self, node: str, method: str, code: int | None, message: str) -> None:
        self.node = node
        self.method = method
        self.code = code
        self.message = message
        shown = "no answer" if code is None else f"code {code}"
        super().__init__(f"node {node}: {method} failed ({shown}): {message}")


class ScenarioTimeout(ScenarioError):
    """`what` did not happen within `timeout_s`; `last_seen` is the last observation."""

    def __init__(self, what: str, last_seen: str, timeout_s: float) -> None:
        self.what = what
        self.last_seen = last_seen
        self.timeout_s = timeout_s
        super().__init__(f"{what} did not happen within {timeout_s:g} s; last seen: {last_seen}")


class ScenarioCheckFailed(ScenarioError):
    """A node's state contradicts what the scenario demonstrates."""

    def __init__(self, check: str, expected: object, observed: object) -> None:
        self.check = check
        self.expected = expected
        self.observed = observed
        super().__init__(f"{check}: expected {expected}, observed {observed}")
