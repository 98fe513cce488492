"""End to end on 127.0.0.1: a log double serving one view per port, three auditors gossiping
over HTTP. Forked, an alarm with a bundle that `ctlog verify-evidence` accepts offline comes
within a few rounds; honest, nothing ever alarms, and bad input never hurts a peer."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
from click.testing import CliRunner

from ctlog.auditor import GossipedSth, verify_evidence_bytes
from ctlog.auditor.client import PEER_HEADER, pollinate
from ctlog.auditor.config import load_auditor_config
from ctlog.auditor.driver import AuditorDriver
from ctlog.auditor.pollination import MAX_POLLINATION_BYTES, POLLINATION_PATH
from ctlog.cli import main
from tests.ctlog.auditor.network import INTERVAL_S, Network, running

DETECT_WITHIN_S = 20 * INTERVAL_S  # generous for a shared CI box; typically 3-6 rounds


async def _first_proof(net: Network, deadline_s: float) -> Path | None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        for driver in net.auditors:
            for path in driver.evidence_files:
                if verify_evidence_bytes(path.read_bytes()).proves_split_view:
                    return path
        await asyncio.sleep(0.05)
    return None


async def test_three_auditors_catch_a_forking_log(tmp_path: Path) -> None:
    async with running(tmp_path, forking=True, views=[0, 1, 1]) as net:
        started = time.monotonic()
        found = await _first_proof(net, DETECT_WITHIN_S)
        took = time.monotonic() - started
        statuses = [d.status() for d in net.auditors]
    assert found is not None, f"no proven split view within {DETECT_WITHIN_S} s: {statuses}"
    assert found.parent.name == "evidence" and found.name.endswith(".json")
    print(f"split view proven after {took:.2f} s ({took / INTERVAL_S:.1f} rounds): {found.name}")
    result = CliRunner().invoke(main, ["verify-evidence", str(found), "--json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["verdict"] == "split-view" and verdict["valid"] is True
    pinned = CliRunner().invoke(
        main, ["verify-evidence", str(found), "--log-key", str(net.key_file)]
    )
    assert pinned.exit_code == 0 and pinned.output.startswith("split view proven")


async def test_an_honest_log_never_alarms_and_bad_input_never_hurts(tmp_path: Path) -> None:
    async with running(tmp_path, forking=False, views=[0, 1, 1]) as net:
        auditor = net.auditors[0]
        await _abuse(auditor.url)
        sent = GossipedSth(net.log.key.public.log_id, net.log.sth(0))
        reply = await pollinate(auditor.url, [sent])
        assert all(item.log_id == sent.log_id for item in reply)
        await asyncio.sleep(10 * INTERVAL_S)
        async with aiohttp.ClientSession() as http:
            async with http.get(auditor.url + "/healthz") as resp:
                assert resp.status == 200
            async with http.get(auditor.url + "/status") as resp:
                status = await resp.json()
        statuses = [d.status() for d in net.auditors]
        top_before = _top(net.auditors[0])
    for driver, st in zip(net.auditors, statuses, strict=True):
        assert st["alarms"] == [] and driver.evidence_files == [], st
        assert st["counters"]["replies_ok"] > 0, st  # gossip went both ways
        (log_status,) = st["logs"]
        assert log_status["proofs_verified"] > 0, st
    assert status["counters"]["pollinations_malformed"] == 1
    assert status["counters"]["pollinations_too_large"] == 1
    assert status["counters"]["refused_unknown_peers"] == 1
    assert status["counters"]["refused_bad_token"] == 1
    restarted = AuditorDriver(load_auditor_config(tmp_path / "auditor-0.toml"))
    await restarted.start()
    try:
        assert _top(restarted) >= top_before > 0  # the chain survived the restart
    finally:
        await restarted.stop()


def _top(driver: AuditorDriver) -> int:
    (audit,) = driver.core.audits.values()
    return audit.top.tree_size if audit.top else 0


async def _abuse(url: str) -> None:
    """Garbage, oversize, unknown and unauthenticated peers: each a 4xx with a reason."""
    endpoint = url + POLLINATION_PATH
    cases = [
        (b"{garbage", {}, 400, "not valid JSON"),
        (b" " * (MAX_POLLINATION_BYTES + 1), {}, 413, "over the limit"),
        (b'{"sths": []}', {PEER_HEADER: "mallory"}, 403, "unknown peer"),
        (b'{"sths": []}', {PEER_HEADER: "auditor-1"}, 403, "did not authenticate"),
    ]
    async with aiohttp.ClientSession() as http:
        for body, headers, status, reason in cases:
            async with http.post(endpoint, data=body, headers=headers) as resp:
                assert resp.status == status, (status, await resp.text())
                assert reason in (await resp.json())["error"]
