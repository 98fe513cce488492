"""Sans-I/O cores must not do I/O, read clocks or draw randomness themselves (STYLE §1).

Walks the import graph from each core module through the project's own modules and fails
if any of them imports a banned module.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("common", "ctlog", "btcnode", "naming", "wallets")
BANNED = {"asyncio", "aiohttp", "plyvel", "time", "random", "os", "socket", "threading"}
CORE_MODULES = ["common.raft.core", "common.raft.codec", "common.kv"]


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # `pkg.module.Name` is an attribute, not a module
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imports(path: Path, package: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def banned_imports(root_module: str) -> dict[str, set[str]]:
    """Map each reachable project module to the banned modules it imports."""
    seen: set[str] = set()
    found: dict[str, set[str]] = {}
    todo = [root_module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None:
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for imported in _imports(path, package):
            top = imported.split(".")[0]
            if top in BANNED:
                found.setdefault(name, set()).add(imported)
            elif top in PROJECT_PACKAGES:
                todo.append(imported)
    return found


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_does_no_io(module: str) -> None:
    assert _module_file(module) is not None, f"core module {module} is missing"
    assert banned_imports(module) == {}


def test_the_walker_catches_a_banned_import() -> None:
    found = banned_imports("common.raft.driver")
    assert "asyncio" in found.get("common.raft.driver", set())
