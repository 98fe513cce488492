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
CORE_MODULES = [
    "common.raft.core",
    "common.raft.codec",
    "common.kv",
    "common.net._auth",
    "common.net._backoff",
    "common.net._errors",
    "common.net._frame",
    "common.net._handshake",
    "common.net._sim",
    "common.net._stats",
    "common.net._types",
    "ctlog.merkle",
    "ctlog.merkle.plan",
    "ctlog.merkle.compact",
    "ctlog.merkle.tiles",
    "ctlog.merkle.reference",
    "ctlog.merkle.verify",
    "ctlog.merkle._layout",
    "ctlog.merkle.store",
    "ctlog.tls",
    "ctlog.sth",
    "ctlog.leaf",
    "ctlog.sct",
    "ctlog.x509",
    "ctlog.note",
    "ctlog.checkpoint",
    "ctlog.witness",
    "ctlog.witness.core",
    "ctlog.witness.cosignature",
    "ctlog.witness.request",
    "ctlog.witness.errors",
    "ctlog._client_codec",
    "ctlog.monitor.names",
    "ctlog.monitor.state",
    "ctlog.monitor.core",
    "ctlog.monitor.bootstrap",
    "ctlog.auditor",
    "ctlog.auditor.core",
    "ctlog.auditor._chain",
    "ctlog.auditor._pool",
    "ctlog.auditor._state",
    "ctlog.auditor._effects",
    "ctlog.strict_json",
    "ctlog.auditor.evidence",
    "ctlog.auditor.judge",
    "ctlog.auditor.observation",
    "ctlog.auditor.pollination",
    "ctlog.log.entry",
    "ctlog.log.codec",
    "ctlog.log.storage",
    "ctlog.log.machine",
    "ctlog.log.pool",
    "ctlog.log.publisher",
    "ctlog.server.params",
    "common.store.api",
    "btcnode.consensus",
    "btcnode.consensus.errors",
    "btcnode.consensus.serialize",
    "btcnode.consensus.hashes",
    "btcnode.consensus.tx",
    "btcnode.consensus.block",
    "btcnode.consensus.params",
    "btcnode.consensus.coins",
    "btcnode.consensus.subsidy",
    "btcnode.consensus.pow",
    "btcnode.consensus.pow_target",
    "btcnode.consensus.checks",
    "btcnode.consensus.contextual",
    "btcnode.consensus.sequence_locks",
    "btcnode.consensus.fastchecks",
    "btcnode.consensus.sighash",
    "btcnode.consensus.script",
    "btcnode.signing",
    "btcnode.miner.assemble",
    "btcnode.chain",
    "btcnode.chain.chainstate",
    "btcnode.mempool",
    "btcnode.mempool._feefloor",
    "btcnode.mempool._graph",
    "btcnode.mempool._reorg",
    "btcnode.mempool._scripts",
    "btcnode.mempool._solver",
    "btcnode.mempool.accept",
    "btcnode.mempool.entry",
    "btcnode.mempool.feerate",
    "btcnode.mempool.mempool",
    "btcnode.mempool.orphans",
    "btcnode.mempool.policy",
    "btcnode.mempool.rbf",
    "btcnode.mempool.results",
    "btcnode.mempool.standard",
    "btcnode.mempool.view",
    "btcnode.p2p",
    "btcnode.p2p._msg_addr",
    "btcnode.p2p._msg_codec",
    "btcnode.p2p._msg_control",
    "btcnode.p2p._msg_data",
    "btcnode.p2p._msg_inventory",
    "btcnode.p2p.errors",
    "btcnode.p2p.framing",
    "btcnode.p2p.messages",
    "btcnode.p2p.netaddr",
    "btcnode.p2p.addr",
    "btcnode.p2p.announce",
    "btcnode.p2p.chainview",
    "btcnode.p2p.download",
    "btcnode.p2p.effects",
    "btcnode.p2p.handshake",
    "btcnode.p2p.peer",
    "btcnode.p2p.processor",
    "btcnode.p2p.relay",
    "btcnode.p2p.sync",
    "btcnode.miner.template",
    "btcnode.miner._select",
    "btcnode.miner._grind",
    "btcnode.node",
    "btcnode.consensus.script.interpreter",
    "btcnode.consensus.script.verify",
    "btcnode.consensus.script.signature",
    "btcnode.consensus.script.checker",
    "btcnode.address",
    "btcnode.address.base58",
    "btcnode.address.bech32",
    "btcnode.address.destination",
    "btcnode.address.wif",
    "btcnode.rpc.args",
    "btcnode.rpc.blockchain",
    "btcnode.rpc.broadcast",
    "btcnode.rpc.construct",
    "btcnode.rpc.control",
    "btcnode.rpc.decodescript",
    "btcnode.rpc.errors",
    "btcnode.rpc.jsonfmt",
    "btcnode.rpc.jsonrpc",
    "btcnode.rpc.mempool",
    "btcnode.rpc.mining",
    "btcnode.rpc.network",
    "btcnode.rpc.rawtransactions",
    "btcnode.rpc.registry",
    "btcnode.rpc.render",
    "btcnode.rpc.render_script",
    "btcnode.rpc.table",
    "btcnode.rpc.txdecode",
    "btcnode.rpc.utxo",
    "btcnode.scenarios.errors",
    "btcnode.scenarios.keys",
    "btcnode.scenarios.merchant",
    "btcnode.scenarios.nakamoto",
    "btcnode.scenarios.narrative",
    "btcnode.scenarios.results",
    "btcnode.scenarios.simulation",
    "wallets.bip39",
    "wallets._wordlist_english",
    "wallets.bip32",
    "wallets.accounts",
    "wallets.txsize",
    "wallets.coinselect",
    "wallets._knapsack",
    "wallets.builder",
    "wallets.signer",
    "wallets.bump",
    "wallets.psbt",
    "wallets._psbt_map",
    "wallets._psbt_checks",
    "wallets.psbt_roles",
    "wallets._records",
    "wallets.state",
    "wallets.scan",
    "wallets._ledger",
    "wallets._spend",
    "wallets._wallet_views",
]


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


def import_graph(root_module: str) -> dict[str, set[str]]:
    """Every project module reachable from `root_module`, with the modules it imports."""
    graph: dict[str, set[str]] = {}
    todo = [root_module]
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in graph or path is None:
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = _imports(path, package)
        todo.extend(i for i in graph[name] if i.split(".")[0] in PROJECT_PACKAGES)
    return graph


def banned_imports(root_module: str) -> dict[str, set[str]]:
    """Map each reachable project module to the banned modules it imports."""
    found: dict[str, set[str]] = {}
    for name, imports in import_graph(root_module).items():
        banned = {i for i in imports if i.split(".")[0] in BANNED}
        if banned:
            found[name] = banned
    return found


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_does_no_io(module: str) -> None:
    assert _module_file(module) is not None, f"core module {module} is missing"
    assert banned_imports(module) == {}


def test_the_walker_catches_a_banned_import() -> None:
    found = banned_imports("common.raft.driver")
    assert "asyncio" in found.get("common.raft.driver", set())


def test_raft_core_reaches_its_parts_and_no_driver() -> None:
    graph = import_graph("common.raft.core")
    assert "common.raft._step" in graph and "common.raft.codec" in graph
    assert "common.raft.driver" not in graph and "common.raft.storage" not in graph


def test_imports_are_read_from_source(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import time\nfrom os import path\n")
    assert {"time", "os", "os.path"} <= _imports(sample, "sample")
