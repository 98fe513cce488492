"""The Raft core must stay sans-I/O: walk its imports and refuse I/O, clocks and randomness."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

FORBIDDEN = {"asyncio", "aiohttp", "plyvel", "time", "random", "os", "socket"}
ALLOWED_PREFIXES = ("common.raft", "common.errors")


def _module_file(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, name
    return Path(spec.origin)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _walk(root: str) -> dict[str, set[str]]:
    """Every common.raft module reachable from `root`, with the imports it makes."""
    seen: dict[str, set[str]] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        imports = _imports(_module_file(name))
        seen[name] = imports
        todo.extend(imp for imp in imports if imp.startswith(ALLOWED_PREFIXES) and _is_module(imp))
    return seen


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # "package.module.Class" is a name, not a module
        return False


def test_core_imports_no_io() -> None:
    graph = _walk("common.raft.core")
    assert "common.raft._step" in graph and "common.raft.codec" in graph
    bad = {
        (module, imp)
        for module, imports in graph.items()
        for imp in imports
        if imp.split(".")[0] in FORBIDDEN
    }
    assert not bad, f"core modules import I/O: {sorted(bad)}"
    assert "common.raft.driver" not in graph and "common.raft.storage" not in graph


def test_checker_catches_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import time\nfrom os import path\n")
    assert {"time", "os", "os.path"} <= _imports(sample)
