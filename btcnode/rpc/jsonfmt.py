"""JSON as Bitcoin Core's UniValue reads and writes it.

`dumps` writes compact JSON (no spaces) with `Amount` values as numbers with exactly eight
decimals (Core's ValueFromAmount: `50.00000000`, never `50.0` or `5e1`) and floats with 16
significant digits, as UniValue does. `loads` reads request bodies with non-integer numbers
as `Decimal`, so an amount such as 0.1 reaches the amount parser exactly; NaN and Infinity,
which UniValue refuses, are refused, and nesting is bounded like UniValue's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btcnode.consensus.params import COIN

__all__ = ["MAX_JSON_DEPTH", "Amount", "JsonDecodeError", "dumps", "loads"]

MAX_JSON_DEPTH = 512  # UniValue's MAX_JSON_DEPTH: deeper documents do not parse
_ENCODE_STRING = json.JSONEncoder(ensure_ascii=False).encode


class JsonDecodeError(ValueError):
    """The body is not one JSON document UniValue would read."""


@dataclass(frozen=True, slots=True)
class Amount:
    """A value in satoshis, written in BTC with eight decimals."""

    sats: int

    def __str__(self) -> str:
        sign = "-" if self.sats < 0 else ""
        whole, frac = divmod(abs(self.sats), COIN)
        return f"{sign}{whole}.{frac:08d}"


def dumps(value: Any) -> str:
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, Amount):
        out.append(str(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(format(value, ".16g") if math.isfinite(value) else "null")
    elif isinstance(value, Decimal):
        out.append(str(value))
    elif isinstance(value, str):
        out.append(_ENCODE_STRING(value))
    elif isinstance(value, dict):
        _write_object(value, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write_object(value: dict[str, Any], out: list[str]) -> None:
    out.append("{")
    for i, (key, item) in enumerate(value.items()):
        if i:
            out.append(",")
        out.append(_ENCODE_STRING(str(key)))
        out.append(":")
        _write(item, out)
    out.append("}")


def _refuse_constant(name: str) -> Any:
    raise JsonDecodeError(f"{name} is not JSON")


def loads(text: str | bytes) -> Any:
    """One JSON document; `JsonDecodeError` for anything UniValue would not read."""
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError
        raise JsonDecodeError(str(err)) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise JsonDecodeError(f"JSON nested deeper than {MAX_JSON_DEPTH}")
    return value


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (a deep document must not exhaust the stack here)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest
