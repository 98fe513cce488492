"""Typed configuration: TOML files (or plain mappings) into frozen dataclass schemas.

A schema is a dataclass whose field types are drawn from: `int`, `float`, `str`, `bool`,
`pathlib.Path` (from a string), `Literal[...]`, `Enum` subclasses (by value), `X | None`,
`list[X]`, `tuple[X, ...]`, `tuple[X, Y]`, `dict[str, X]` and nested dataclasses. Fields with
a default (or default_factory) are optional; every other field is required.

Invariants: every key in the input maps to a field (unknown keys are errors, so typos never
pass silently); no value is coerced across types except int to float and str to Path; every
error is a `ConfigFieldError` naming the source, the field path (`cluster.peers[2].port`) and
what was expected and found. Validation in the schema's `__post_init__` (ValueError,
TypeError or UsageError) is reported the same way, against the table it was raised for.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from common.errors import ConfigError, UsageError

__all__ = ["ConfigFieldError", "load_toml_config", "parse_config"]

T = TypeVar("T")

MAX_FOUND_CHARS = 60  # keeps an error message on one readable line
_FOUND_NAMES = {dict: "table", list: "array", tuple: "array", str: "string", bool: "boolean"}


class ConfigFieldError(ConfigError):
    """A configuration value is missing, unknown or invalid.

    `source` names the file (or mapping), `field` the dotted path to the value, `problem`
    what is wrong with it (for a type mismatch: "expected X, found Y").
    """

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field or "(top level)"
        self.problem = problem
        super().__init__(f"{source}: {self.field}: {problem}")


def load_toml_config(path: str | os.PathLike[str], schema: type[T]) -> T:
    """Read the TOML file at `path` into an instance of the dataclass `schema`."""
    source = os.fspath(path)
    try:
        raw = Path(source).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {source}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
    return parse_config(data, schema, source=source)


def parse_config(data: Mapping[str, Any], schema: type[T], *, source: str = "<config>") -> T:
    """Check `data` against the dataclass `schema` and build it; errors name the field path."""
    if not (isinstance(schema, type) and dataclasses.is_dataclass(schema)):
        raise UsageError(f"config schema must be a dataclass, found {schema!r}")
    result: T = _convert(data, schema, "", source)
    return result


def _convert(value: Any, tp: Any, path: str, source: str) -> Any:
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return value
    if origin is Union or origin is types.UnionType:
        return _convert_union(value, get_args(tp), path, source)
    if origin is Literal:
        if any(value == choice and type(value) is type(choice) for choice in get_args(tp)):
            return value
        choices = ", ".join(repr(choice) for choice in get_args(tp))
        raise _mismatch(source, path, f"one of {choices}", value)
    if origin in (list, tuple):
        return _convert_array(value, tp, path, source)
    if origin is dict:
        return _convert_table(value, get_args(tp)[1], path, source)
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return _convert_dataclass(value, tp, path, source)
        return _convert_scalar(value, tp, path, source)
    raise UsageError(f"config schema field {path or '(top level)'}: unsupported type {tp!r}")


def _convert_scalar(value: Any, tp: type, path: str, source: str) -> Any:
    if tp is bool or tp is str:
        if isinstance(value, tp):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is Path:
        if isinstance(value, str):
            return Path(value)
    elif issubclass(tp, enum.Enum):
        choices = ", ".join(repr(member.value) for member in tp)
        try:
            return tp(value)
        except ValueError:
            raise _mismatch(source, path, f"one of {choices}", value) from None
    else:
        raise UsageError(f"config schema field {path or '(top level)'}: unsupported type {tp!r}")
    expected = "path string" if tp is Path else _FOUND_NAMES.get(tp, tp.__name__)
    raise _mismatch(source, path, expected, value)


def _convert_union(value: Any, arms: tuple[Any, ...], path: str, source: str) -> Any:
    if value is None and type(None) in arms:
        return None
    candidates = [arm for arm in arms if arm is not type(None)]
    if len(candidates) == 1:
        return _convert(value, candidates[0], path, source)
    for arm in candidates:
        try:
            return _convert(value, arm, path, source)
        except ConfigFieldError:
            continue
    expected = " or ".join(getattr(arm, "__name__", repr(arm)) for arm in candidates)
    raise _mismatch(source, path, expected, value)


def _convert_array(value: Any, tp: Any, path: str, source: str) -> Any:
    if not isinstance(value, list | tuple):
        raise _mismatch(source, path, "array", value)
    args = get_args(tp)
    if get_origin(tp) is list:
        return [_convert(item, args[0], f"{path}[{i}]", source) for i, item in enumerate(value)]
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(
            _convert(item, args[0], f"{path}[{i}]", source) for i, item in enumerate(value)
        )
    if len(value) != len(args):
        raise ConfigFieldError(source, path, f"expected {len(args)} items, found {len(value)}")
    return tuple(
        _convert(v, a, f"{path}[{i}]", source)
        for i, (v, a) in enumerate(zip(value, args, strict=True))
    )


def _convert_table(value: Any, item_type: Any, path: str, source: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _mismatch(source, path, "table", value)
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ConfigFieldError(source, path, f"keys must be strings, found {key!r}")
        result[key] = _convert(item, item_type, _join(path, key), source)
    return result


def _convert_dataclass(value: Any, schema: type, path: str, source: str) -> Any:
    if not isinstance(value, Mapping):
        raise _mismatch(source, path, "table", value)
    hints = get_type_hints(schema)
    fields = {f.name: f for f in dataclasses.fields(schema) if f.init}
    unknown = sorted(str(key) for key in value if key not in fields)
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        raise ConfigFieldError(
            source, _join(path, unknown[0]), f"unknown key (known keys here: {known})"
        )
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        if name in value:
            kwargs[name] = _convert(value[name], hints[name], _join(path, name), source)
        elif _is_required(field):
            raise ConfigFieldError(source, _join(path, name), "required key is missing")
    try:
        return schema(**kwargs)
    except ConfigFieldError:
        raise
    except (ValueError, TypeError, UsageError) as exc:
        raise ConfigFieldError(source, path, str(exc)) from exc


def _is_required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _mismatch(source: str, path: str, expected: str, found: Any) -> ConfigFieldError:
    shown = repr(found)
    if len(shown) > MAX_FOUND_CHARS:
        shown = shown[: MAX_FOUND_CHARS - 3] + "..."
    kind = _FOUND_NAMES.get(type(found), type(found).__name__)
    return ConfigFieldError(source, path, f"expected {expected}, found {kind} {shown}")
