"""The client commands and the monitor against one real `ctlog serve` process.

submit (certificates and a precertificate) → prove → monitor over RFC 6962 and over tiles,
all through the `ctlog` command line, as a user would run them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ctlog.cli import main
from ctlog.x509 import ders_to_pem
from tests.ctlog.log.processes import LogProcesses

pytestmark = pytest.mark.integration

SETTINGS = {"max_merge_delay_s": 30, "sth_interval_ms": 100, "sequence_interval_ms": 10}
WAIT_S = 20.0  # replicas share 2 cores with the test runner
NAMES = [["a.example.com"], ["b.other.net"], ["c.other.net", "deep.c.example.com"]]


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result


def wait_for_size(url: str, size: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if json.loads(run("sth", "--log", url, "--json").stdout)["tree_size"] >= size:
            return
        time.sleep(0.1)
    raise AssertionError(f"the log did not reach tree size {size} within {WAIT_S} s")


def matches(result: Result) -> list[tuple[int, list[str]]]:
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["event"] == "verified"
    return [(e["index"], e["matched"]) for e in events if e["event"] == "match"]


def test_submit_prove_and_monitor_a_real_log(tmp_path: Path) -> None:
    logs = LogProcesses(tmp_path / "log", settings=SETTINGS)
    key = tmp_path / "log-key.pem"
    key.write_bytes(logs.key.to_pem())
    chains = [tmp_path / f"chain{i}.pem" for i in range(4)]
    for path, names in zip(chains, NAMES, strict=False):
        path.write_bytes(ders_to_pem(logs.pki.issue_leaf(names)))
    chains[3].write_bytes(ders_to_pem(logs.pki.issue_precert(["pre.example.com"])))
    logs.start_all()
    try:
        logs.wait_leader()
        url = logs.url("n1")
        indexes = {}
        for i, chain in enumerate(chains):
            flags = ["--precert"] if i == 3 else []
            out = tmp_path / f"sct{i}.json"
            run(
                "submit", *flags, "--log", url, str(chain), "--log-key", str(key), "--out", str(out)
            )
        wait_for_size(url, len(chains))
        for i, chain in enumerate(chains[:3]):
            sct = tmp_path / f"sct{i}.json"
            proof = run("prove", "--log", url, "--cert", str(chain), "--sct", str(sct))
            indexes[i] = json.loads(run(*proof_args(url, chain, key)).stdout)["leaf_index"]
            assert "included: leaf" in proof.stdout
        monitor = ["monitor", "--log", url, "--log-key", str(key), "--once", "--json"]
        watch = ["--match", "*.example.com", "--match", ".c.example.com"]
        rfc = run(*monitor, *watch, "--state-dir", str(tmp_path / "rfc"))
        origin = logs.config.log.origin
        tiles = run(
            *monitor, *watch, "--tiles", "--origin", origin, "--state-dir", str(tmp_path / "t")
        )
        again = run(*monitor, *watch, "--state-dir", str(tmp_path / "rfc"))
        latest = [*monitor, *watch, "--from-latest", "--state-dir"]
        skipped = run(*latest, str(tmp_path / "latest"), "--tiles", "--origin", origin)
    finally:
        logs.stop_all()
    found = matches(rfc)
    assert matches(tiles) == found
    by_index = dict(found)
    assert by_index[indexes[0]] == ["a.example.com"]
    assert by_index[indexes[2]] == ["deep.c.example.com"]
    assert indexes[1] not in by_index
    assert ["pre.example.com"] in by_index.values()
    assert again.stdout == ""  # caught up: nothing new to verify or report
    skipped_events = [json.loads(line) for line in skipped.stdout.splitlines()]
    assert [e["event"] for e in skipped_events] == ["verified"]  # from the hash tiles
    assert skipped_events[0]["tree_size"] >= len(chains)


def proof_args(url: str, chain: Path, key: Path) -> list[str]:
    """`prove` with no SCT: the command resubmits the chain to learn its timestamp."""
    return ["prove", "--log", url, "--cert", str(chain), "--log-key", str(key), "--json"]
