"""The method table: each method's parameters as Core declares them, and one `execute`.

`execute` does what Core's CRPCTable::execute and RPCHelpMan::HandleRequest do before a
method runs: find the method (-32601 "Method not found"), turn named parameters into
positional ones (transformNamedArguments), check the argument count (-1 with the method's
help text) and the JSON type of each argument (-3 "Wrong type passed"). A method then gets a
`Call` with exactly one slot per declared parameter (None where none was given).
Pure: no I/O; the node is reached only through the `RpcContext` inside the `Call`.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btcnode.consensus.errors import ChainError
from btcnode.rpc.context import RpcContext
from btcnode.rpc.errors import RpcError, RpcErrorCode

__all__ = ["Call", "MethodSpec", "MethodTable", "Param", "ParamKind"]

log = logging.getLogger("opentrust.btcnode.rpc")


class ParamKind(enum.Enum):
    """Core's RPCArg::Type, with the JSON type each one must have (None: not checked)."""

    STR = "string"
    STR_HEX = "string"  # an alias with Core's own name; the JSON type is a string
    NUM = "number"
    BOOL = "bool"
    OBJ = "object"
    ARR = "array"
    AMOUNT = "amount"  # a number or a string; the amount parser checks it


_JSON_TYPE_NAMES = {
    type(None): "null",
    bool: "bool",
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    Decimal: "number",
}


def json_type_name(value: Any) -> str:
    """UniValue's uvTypeName of a decoded JSON value."""
    return _JSON_TYPE_NAMES.get(type(value), "number")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    description: str
    required: bool = False
    default: str | None = None  # as help shows it
    skip_type_check: bool = False  # Core's skip_type_check (e.g. verbosity takes bool or int)

    def mismatch(self, value: Any) -> str | None:
        """Core's RPCArg::MatchesType: None if `value` fits."""
        if self.skip_type_check or self.kind is ParamKind.AMOUNT:
            return None
        if value is None and not self.required:
            return None
        found = json_type_name(value)
        if found == self.kind.value:
            return None
        return f"JSON value of type {found} is not of expected type {self.kind.value}"


@dataclass(frozen=True, slots=True)
class Call:
    """One method call: the context, one argument per declared parameter, the table."""

    ctx: RpcContext
    args: tuple[Any, ...]
    table: MethodTable
    uri: str = "/"  # "/" or "/wallet/<name>"
    started_at: int = 0  # when the server started, in the context's clock (for uptime)

    def arg(self, index: int) -> Any:
        return self.args[index]


Handler = Callable[[Call], Any]


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    category: str  # Core's help category: "blockchain", "mining", ...
    handler: Handler
    description: str
    params: tuple[Param, ...] = ()

    @property
    def required_count(self) -> int:
        return sum(1 for p in self.params if p.required)

    def usage(self) -> str:
        """The first line of Core's help: the name and its arguments."""
        words = [self.name]
        for p in self.params:
            shown = f'"{p.name}"' if p.kind in (ParamKind.STR, ParamKind.STR_HEX) else p.name
            words.append(shown if p.required else f"( {shown} )")
        return " ".join(words)

    def help_text(self) -> str:
        lines = [self.usage(), "", self.description]
        if self.params:
            lines += ["", "Arguments:"]
            for i, p in enumerate(self.params, 1):
                need = "required" if p.required else "optional"
                if p.default is not None:
                    need += f", default={p.default}"
                kind = "numeric" if p.kind is ParamKind.NUM else p.kind.value
                lines.append(f"{i}. {p.name}    ({kind}, {need}) {p.description}")
        return "\n".join(lines) + "\n"


class MethodTable:
    """The methods by name, in registration order within each category."""

    def __init__(self, specs: Iterable[MethodSpec]) -> None:
        self._specs: dict[str, MethodSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"method {spec.name} registered twice")
            self._specs[spec.name] = spec

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def get(self, name: str) -> MethodSpec | None:
        return self._specs.get(name)

    def specs(self) -> tuple[MethodSpec, ...]:
        return tuple(self._specs.values())

    def execute(
        self, ctx: RpcContext, method: str, params: Any, *, uri: str = "/", started_at: int = 0
    ) -> Any:
        """Run one call; every failure is an `RpcError` with Core's code and message."""
        spec = self._specs.get(method)
        if spec is None:
            raise RpcError(RpcErrorCode.METHOD_NOT_FOUND, "Method not found")
        positional = named_to_positional(spec, params) if isinstance(params, dict) else params
        args = check_arguments(spec, positional)
        try:
            return spec.handler(Call(ctx, args, self, uri, started_at))
        except RpcError:
            raise
        except ChainError as err:  # a node-level refusal the method did not translate
            raise RpcError(RpcErrorCode.MISC_ERROR, str(err)) from None
        except Exception as err:  # Core: any std::exception is RPC_MISC_ERROR with e.what()
            log.exception("RPC method %s failed", method)
            raise RpcError(RpcErrorCode.MISC_ERROR, f"{type(err).__name__}: {err}") from None


def check_arguments(spec: MethodSpec, positional: list[Any]) -> tuple[Any, ...]:
    """Core's IsValidNumArgs and MatchesType on positional arguments."""
    if not spec.required_count <= len(positional) <= len(spec.params):
        raise RpcError(RpcErrorCode.MISC_ERROR, spec.help_text())
    padded = list(positional) + [None] * (len(spec.params) - len(positional))
    mismatches = {}
    for i, (param, value) in enumerate(zip(spec.params, padded, strict=True), 1):
        problem = param.mismatch(value)
        if problem is not None:
            mismatches[f"Position {i} ({param.name})"] = problem
    if mismatches:
        raise RpcError(
            RpcErrorCode.TYPE_ERROR, "Wrong type passed:\n" + json.dumps(mismatches, indent=4)
        )
    return tuple(padded)


def named_to_positional(spec: MethodSpec, named: Mapping[str, Any]) -> list[Any]:
    """Core's transformNamedArguments: names to positions, holes filled with null, the
    `args` key as leading positional arguments; an unknown name is -8."""
    left = dict(named)
    out: list[Any] = []
    hole = initial_hole = 0
    first_named: str | None = None
    for param in spec.params:
        if param.name in left:
            out.extend([None] * hole)
            hole = 0
            first_named = first_named or param.name
            out.append(left.pop(param.name))
        else:
            hole += 1
            if not out:
                initial_hole = hole
    extra = left.pop("args", None)
    if isinstance(extra, list):
        if initial_hole < len(extra) and first_named is not None:
            raise RpcError(
                RpcErrorCode.INVALID_PARAMETER,
                f"Parameter {first_named} specified twice both as positional and named argument",
            )
        out = list(extra) + out[len(extra) :]
    if left:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER, f"Unknown named parameter {next(iter(left))}"
        )
    return out
