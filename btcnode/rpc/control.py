"""Control methods: help, stop and uptime."""

from __future__ import annotations

from typing import Any

from btcnode.rpc.args import get_str
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind

__all__ = ["METHODS", "STOP_MESSAGE"]

CATEGORY = "control"
STOP_MESSAGE = "btcnode stopping"  # Core answers "Bitcoin Core stopping"


def help_(call: Call) -> Any:
    """Core's help: every method by category, or one method's help text."""
    if call.arg(0) is not None:
        name = get_str(call.arg(0))
        spec = call.table.get(name)
        if spec is None:
            return f"help: unknown command: {name}"
        return spec.help_text().rstrip("\n")
    by_category: dict[str, list[str]] = {}
    for spec in call.table.specs():
        by_category.setdefault(spec.category, []).append(spec.usage())
    sections = []
    for category in sorted(by_category):
        lines = [f"== {category.capitalize()} ==", *sorted(by_category[category])]
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def stop(call: Call) -> Any:
    call.ctx.request_stop()
    return STOP_MESSAGE


def uptime(call: Call) -> Any:
    return max(0, call.ctx.clock() - call.started_at)


METHODS = (
    MethodSpec(
        "help",
        CATEGORY,
        help_,
        "List all commands, or get help for a specified command.",
        (Param("command", ParamKind.STR, "The command to get help on", default="all commands"),),
    ),
    MethodSpec("stop", CATEGORY, stop, "Request a graceful shutdown of btcnode."),
    MethodSpec("uptime", CATEGORY, uptime, "Returns the total uptime of the server."),
)
