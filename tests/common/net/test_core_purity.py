"""The sans-I/O modules of common.net import no I/O, clock or randomness (STYLE §1)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

import common.net

CORE_MODULES = [
    "common.net._auth",
    "common.net._backoff",
    "common.net._errors",
    "common.net._frame",
    "common.net._handshake",
    "common.net._sim",
    "common.net._stats",
    "common.net._types",
]
FORBIDDEN = {"asyncio", "aiohttp", "plyvel", "time", "random", "os", "socket"}


def imported_modules(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_io(module: str) -> None:
    names = imported_modules(module)
    assert not {name.split(".")[0] for name in names} & FORBIDDEN
    for name in names:
        if name.startswith("common.net."):
            assert name in CORE_MODULES, f"{module} imports the I/O module {name}"


def test_public_names_are_exported() -> None:
    for name in common.net.__all__:
        assert hasattr(common.net, name)
    expected = {
        "Envelope",
        "Transport",
        "PeerAddress",
        "ClusterAuth",
        "AiohttpTransport",
        "SimNetwork",
        "LinkFaults",
        "SimTransport",
        "NetError",
        "DecodeError",
        "AuthError",
        "MessageTooLarge",
        "MAX_MSG_BYTES_DEFAULT",
    }
    assert expected <= set(common.net.__all__)
