"""`ctlog monitor` end to end against the fake log: output, resume, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from common.net import free_tcp_ports
from common.runtime import DataDir
from ctlog.cli import main
from tests.ctlog.fakelog import FakeLog, dev_pki, serving_in_thread


@dataclass
class Env:
    log: FakeLog
    url: str
    key: str
    state: str

    def monitor(self, *extra: str) -> Result:
        args = ["monitor", "--log", self.url, "--log-key", self.key, "--match", "*.example.com"]
        return CliRunner().invoke(main, [*args, "--state-dir", self.state, "--once", *extra])


def grow(log: FakeLog, count: int) -> None:
    start = len(log.entries)
    for i in range(start, start + count):
        zone = "example.com" if i % 2 == 0 else "other.net"
        log.submit(log.pki.issue_leaf([f"h{i}.{zone}", f"alt{i}.net"]))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    log = FakeLog(dev_pki(), max_get_entries=5)
    grow(log, 12)
    key = tmp_path / "key.pem"
    key.write_bytes(log.key.public.to_pem())
    with serving_in_thread(log) as url:
        yield Env(log, url, str(key), str(tmp_path / "state"))


def json_lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_prints_matches_and_resumes_from_its_state(env: Env) -> None:
    result = env.monitor()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        len(lines) == 6
        and lines[0] == "match 0 x509_entry 2025-01-01T00:00:00Z h0.example.com, alt0.net"
    )
    assert "verified tree size 12" in result.stderr
    assert env.log.served_entries == 12
    grow(env.log, 3)
    again = env.monitor("--json")
    events = json_lines(again)
    assert [e["index"] for e in events if e["event"] == "match"] == [12, 14]
    assert events[-1]["event"] == "verified" and events[-1]["tree_size"] == 15
    assert env.log.served_entries == 15  # only the three new entries were downloaded
    assert env.log.requests["/ct/v1/get-sth-consistency"] == 1


def test_tiles_mode_gives_the_same_matches(env: Env, tmp_path: Path) -> None:
    rfc = json_lines(env.monitor("--json"))
    env.state = str(tmp_path / "tiles-state")
    tiles = json_lines(env.monitor("--json", "--tiles", "--origin", env.log.origin))
    assert [e for e in tiles if e["event"] == "match"] == [e for e in rfc if e["event"] == "match"]
    assert env.log.requests["/tile/data/000.p/12"] == 1


def test_an_inconsistent_log_exits_1_with_evidence(env: Env) -> None:
    assert env.monitor().exit_code == 0
    env.log.entries[1] = env.log.entries[2]  # rewrite history, then grow and sign
    grow(env.log, 1)
    result = env.monitor()
    assert result.exit_code == 1
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert "the log is inconsistent" in line and "evidence: {" in line and '"sth1"' in line
    as_json = json_lines(env.monitor("--json"))[-1]
    assert as_json["ok"] is False and "sth2" in as_json["evidence"]  # type: ignore[operator]


def test_entries_that_miss_the_root_exit_1(env: Env) -> None:
    env.log.entries[3] = env.log.entries[4]
    result = env.monitor()
    assert result.exit_code == 1
    assert "do not reproduce its signed root" in result.stderr
    assert "calculated_root" in result.stderr


def test_usage_errors_exit_2(env: Env) -> None:
    assert env.monitor("--interval", "5").exit_code == 2
    bad = CliRunner().invoke(
        main, ["monitor", "--log", env.url, "--log-key", env.key, "--match", "a.*.com", "--once"]
    )
    assert bad.exit_code == 2 and "invalid label" in bad.stderr
    missing = CliRunner().invoke(
        main, ["monitor", "--log", env.url, "--log-key", "/nonexistent.pem", "--match", "a.com"]
    )
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_a_state_dir_for_other_patterns_or_in_use_is_refused(env: Env) -> None:
    assert env.monitor().exit_code == 0
    args = ["--log", env.url, "--log-key", env.key, "--match", "x.org", "--state-dir", env.state]
    other = CliRunner().invoke(main, ["monitor", *args, "--once"])
    assert other.exit_code == 2 and "watch the same names" in other.stderr
    with DataDir(env.state):
        busy = env.monitor()
    assert busy.exit_code == 2 and "in use" in busy.stderr


def test_an_unreachable_log_exits_3(env: Env) -> None:
    (port,) = free_tcp_ports(1)
    env.url = f"http://127.0.0.1:{port}"
    result = env.monitor()
    assert result.exit_code == 3 and "failed 5 times" in result.stderr


def test_from_latest_reports_only_new_certificates(env: Env) -> None:
    events = json_lines(env.monitor("--from-latest", "--json"))
    assert [e["event"] for e in events] == ["verified"] and env.log.served_entries == 0
    assert env.log.requests["/ct/v1/get-entry-and-proof"] == 1
    grow(env.log, 2)
    later = json_lines(env.monitor("--from-latest", "--json"))
    assert [(e["event"], e.get("index")) for e in later] == [("match", 12), ("verified", None)]
