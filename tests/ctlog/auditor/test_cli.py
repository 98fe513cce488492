"""`ctlog verify-evidence` (offline) and `ctlog pollinate`: exit codes and one-line reasons."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from common.net import free_tcp_ports
from ctlog.checkpoint import note_from_sth
from ctlog.cli import main
from ctlog.keys import LogSigningKey
from ctlog.sth import SignedTreeHead
from tests.ctlog.auditor._helpers import split_view_bundles
from tests.ctlog.auditor.network import Network, running

BUNDLES = split_view_bundles()


def ctlog(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("name", ["equal-size", "inconsistent-proof"])
def test_a_proven_split_view_exits_0(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, "bundle.json", BUNDLES[name].to_bytes())
    result = ctlog("verify-evidence", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("split view proven: ")
    answer = json.loads(ctlog("verify-evidence", path, "--json").stdout)
    assert answer["ok"] is True and answer["verdict"] == "split-view" and answer["kind"] == name


@pytest.mark.parametrize("name", ["refused", "bad-proof"])
def test_an_unproven_bundle_exits_1_and_says_unproven(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, "bundle.json", BUNDLES[name].to_bytes())
    result = ctlog("verify-evidence", path)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unproven: ") and result.stderr.count("\n") == 1
    answer = json.loads(ctlog("verify-evidence", path, "--json").stdout)
    assert (answer["valid"], answer["verdict"], answer["kind"]) == (
        False,
        "unproven",
        "proof-failure",
    )


def test_a_tampered_bundle_exits_1_with_the_reason(tmp_path: Path) -> None:
    obj = BUNDLES["inconsistent-proof"].to_json()
    sth = obj["second"]["sth"]  # type: ignore[index]
    sig = bytearray(base64.b64decode(sth["tree_head_signature"]))
    sig[10] ^= 0x40
    sth["tree_head_signature"] = base64.b64encode(bytes(sig)).decode()
    path = _write(tmp_path, "bundle.json", json.dumps(obj).encode())
    result = ctlog("verify-evidence", path)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: invalid: the second tree head's signature does not verify under the log's key\n"
    )
    answer = json.loads(ctlog("verify-evidence", path, "--json").stdout)
    assert answer == {
        "ok": False,
        "valid": False,
        "verdict": "invalid",
        "kind": "inconsistent-proof",
        "reason": "invalid: the second tree head's signature does not verify under the log's key",
    }


def test_garbage_and_usage_errors(tmp_path: Path) -> None:
    garbage = _write(tmp_path, "garbage.json", b"\x00not json")
    result = ctlog("verify-evidence", garbage)
    assert result.exit_code == 1 and "invalid: malformed bundle" in result.stderr
    assert ctlog("verify-evidence", str(tmp_path / "missing.json")).exit_code == 2
    good = _write(tmp_path, "b.json", BUNDLES["equal-size"].to_bytes())
    assert ctlog("verify-evidence", good, "--log-key", garbage).exit_code == 2
    other = _write(tmp_path, "other.pem", LogSigningKey.generate().public.to_pem())
    pinned = ctlog("verify-evidence", good, "--log-key", other)
    assert pinned.exit_code == 1 and "the bundle is about log" in pinned.stderr
    assert ctlog("verify-evidence").exit_code == 2


@contextlib.contextmanager
def auditor_in_thread(directory: Path) -> Iterator[Network]:
    """An honest log and one auditor on their own event loop (the CLI runs asyncio.run)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: list[Network] = []
    stop = asyncio.Event()

    async def serve() -> None:
        async with running(directory, forking=False, views=[0]) as net:
            box.append(net)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the auditor did not start"
        yield box[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def test_pollinate_hands_heads_to_an_auditor(tmp_path: Path) -> None:
    with auditor_in_thread(tmp_path) as net:
        url, key = net.auditors[0].url, str(net.key_file)
        sth_file = _write(tmp_path, "sth.json", json.dumps(net.log.sth(0).to_json()).encode())
        result = ctlog(
            "pollinate",
            "--auditor",
            url,
            "--log-key",
            key,
            "--log",
            net.log_urls[0],
            sth_file,
            "--json",
        )
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["ok"] is True and answer["sent"] == 2
        assert all(item["log_id"] for item in answer["received"])
        forged = SignedTreeHead.sign(net.log.sth(0).tree_head, LogSigningKey.generate())
        bad = _write(tmp_path, "forged.json", json.dumps(forged.to_json()).encode())
        refused = ctlog("pollinate", "--auditor", url, "--log-key", key, bad)
        assert refused.exit_code == 1 and "signature does not verify" in refused.stderr
        junk = _write(tmp_path, "junk.json", b"[1, 2]")
        assert ctlog("pollinate", "--auditor", url, "--log-key", key, junk).exit_code == 1
        assert ctlog("pollinate", "--auditor", url, "--log-key", key).exit_code == 2
        assert ctlog("pollinate", "--auditor", url, "--log-key", bad, sth_file).exit_code == 2
        note = note_from_sth(net.log.sth(0), "example.test/log", net.log.key.public)
        note_file = _write(tmp_path, "checkpoint", note)
        args = ["pollinate", "--auditor", url, "--log-key", key, "--checkpoint", note_file]
        from_note = ctlog(*args, "--origin", "example.test/log", "--json")
        assert from_note.exit_code == 0 and json.loads(from_note.stdout)["sent"] == 1
        wrong_origin = ctlog(*args, "--origin", "other.test/log")
        assert wrong_origin.exit_code == 1 and note_file in wrong_origin.stderr
        assert ctlog(*args).exit_code == 2  # --checkpoint needs --origin
        (port,) = free_tcp_ports(1)
        down = ctlog(
            "pollinate", "--auditor", f"http://127.0.0.1:{port}", "--log-key", key, sth_file
        )
        assert down.exit_code == 3 and "cannot reach" in down.stderr
