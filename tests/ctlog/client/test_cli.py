"""The client commands end to end against the fake log: exit codes and one-line reasons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from common.net import free_tcp_ports
from ctlog.checkpoint import note_from_sth
from ctlog.cli import main
from ctlog.keys import LogSigningKey
from ctlog.sct import encode_sct_list
from ctlog.sth import SignedTreeHead, TreeHead
from ctlog.x509 import ders_to_pem
from tests.ctlog.fakelog import FakeLog, dev_pki, serving_in_thread


@dataclass
class Env:
    log: FakeLog
    url: str
    dir: Path

    def write(self, name: str, data: bytes) -> str:
        path = self.dir / name
        path.write_bytes(data)
        return str(path)

    def pem(self, name: str, ders: list[bytes]) -> str:
        return self.write(name, ders_to_pem(ders))

    @property
    def key(self) -> str:
        return self.write("key.pem", self.log.key.public.to_pem())


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    log = FakeLog(dev_pki(), max_get_entries=2)
    for i in range(3):
        log.submit(log.pki.issue_leaf([f"h{i}.example.com"]))
    with serving_in_thread(log) as url:
        yield Env(log, url, tmp_path)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def one_line_error(result: Result, code: int, needle: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert needle in lines[0], lines[0]


def unreachable_url() -> str:
    (port,) = free_tcp_ports(1)
    return f"http://127.0.0.1:{port}"


def test_submit_prints_and_saves_a_verified_sct(env: Env) -> None:
    chain = env.pem("chain.pem", env.log.pki.issue_leaf(["new.example.com"]))
    out = str(env.dir / "sct.json")
    result = run("submit", "--log", env.url, chain, "--log-key", env.key, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["ok"] and body["verified"] and body["sct"] == json.loads(Path(out).read_text())
    assert body["sct"] == env.log.entries[3].sct.to_json()


def test_submit_precert(env: Env) -> None:
    chain = env.pem("pre.pem", env.log.pki.issue_precert(["pre.example.com"]))
    result = run("submit", "--precert", "--log", env.url, chain, "--log-key", env.key)
    assert result.exit_code == 0 and "verified with log key" in result.stdout


def test_submit_failures(env: Env) -> None:
    chain = env.pem("chain.pem", env.log.pki.issue_leaf(["new.example.com"]))
    other_key = env.write("other.pem", LogSigningKey.generate().public.to_pem())
    one_line_error(
        run("submit", "--log", env.url, chain, "--log-key", other_key), 1, "SCT is from log"
    )
    foreign = env.pem("foreign.pem", dev_pki().issue_leaf(["x.example.com"]))
    one_line_error(run("submit", "--log", env.url, foreign), 1, "add-chain answered HTTP 400")
    one_line_error(run("submit", "--log", env.url, env.write("junk.pem", b"junk")), 1, "PEM")
    one_line_error(run("submit", "--log", env.url, str(env.dir / "missing.pem")), 2, "cannot read")
    one_line_error(run("submit", "--log", "ftp://x", chain), 2, "http://")
    one_line_error(run("submit", "--log", unreachable_url(), chain), 3, "failed 5 times")
    assert run("submit", chain).exit_code == 2  # --log is required


def test_sth_and_verify_sth_round_trip(env: Env) -> None:
    result = run("sth", "--log", env.url, "--log-key", env.key, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["verified"] is True
    path = env.write("sth.json", result.stdout.encode())
    result = run("verify-sth", "--log-key", env.key, path)
    assert result.exit_code == 0 and "valid: tree size 3" in result.stdout


def test_sth_with_a_forged_signature_is_invalid(env: Env) -> None:
    env.log.sth = SignedTreeHead.sign(env.log.sth.tree_head, LogSigningKey.generate())
    one_line_error(run("sth", "--log", env.url, "--log-key", env.key), 1, "does not verify")
    assert run("sth", "--log", env.url).exit_code == 0  # nothing to check it against


def test_sth_from_a_failing_log_is_unreachable(env: Env) -> None:
    env.log.inject("/ct/v1/get-sth", 503, times=5)
    one_line_error(run("sth", "--log", env.url), 3, "HTTP 503")


def test_verify_sth_refuses_tampering_and_garbage(env: Env) -> None:
    good = env.log.sth.to_json()
    tampered = env.write("t.json", json.dumps({**good, "tree_size": 4}).encode())
    one_line_error(run("verify-sth", "--log-key", env.key, tampered), 1, "does not verify")
    garbage = env.write("g.json", b"{garbage")
    one_line_error(run("verify-sth", "--log-key", env.key, garbage), 1, "not valid JSON")
    partial = env.write("p.json", json.dumps({"tree_size": 1}).encode())
    one_line_error(run("verify-sth", "--log-key", env.key, partial), 1, "lacks")
    one_line_error(
        run("verify-sth", "--log-key", env.key, str(env.dir / "no.json")), 2, "cannot read"
    )
    result = run("verify-sth", "--log-key", env.key, tampered, "--json")
    body = json.loads(result.stdout)
    assert result.exit_code == 1 and body["ok"] is False and body["valid"] is False


def test_verify_sth_reads_checkpoints(env: Env) -> None:
    note = note_from_sth(env.log.sth, env.log.origin, env.log.key.public)
    assert run("verify-sth", "--log-key", env.key, env.write("cp", note)).exit_code == 0
    forged = SignedTreeHead.sign(TreeHead(9, 1, bytes(32)), LogSigningKey.generate())
    bad = note_from_sth(forged, env.log.origin, env.log.key.public)
    one_line_error(
        run("verify-sth", "--log-key", env.key, env.write("bad", bad)), 1, "does not verify"
    )


def test_verify_sct_given_and_embedded(env: Env) -> None:
    pki = env.log.pki
    leaf = pki.issue_leaf(["v.example.com"])
    sct = env.log.submit(leaf)
    chain = env.pem("leaf.pem", leaf)
    sct_file = env.write("sct.json", json.dumps(sct.to_json()).encode())
    assert (
        run("verify-sct", "--log-key", env.key, "--chain", chain, "--sct", sct_file).exit_code == 0
    )
    bad = env.write(
        "bad.json", json.dumps({**sct.to_json(), "timestamp": sct.timestamp + 1}).encode()
    )
    one_line_error(
        run("verify-sct", "--log-key", env.key, "--chain", chain, "--sct", bad),
        1,
        "does not verify",
    )
    one_line_error(run("verify-sct", "--log-key", env.key, "--chain", chain), 1, "no embedded SCTs")
    precert = pki.issue_precert(["e.example.com"])
    final = pki.issue_final(precert[0], encode_sct_list([env.log.submit(precert, precert=True)]))
    result = run("verify-sct", "--log-key", env.key, "--chain", env.pem("final.pem", final))
    assert result.exit_code == 0 and "1 embedded SCT(s)" in result.stdout
    junk = env.write("junk.sct", b"\x00\x01")
    one_line_error(run("verify-sct", "--log-key", env.key, "--chain", chain, "--sct", junk), 1, "")
    assert run("verify-sct", "--log-key", env.key).exit_code == 2  # --chain is required


def test_prove_with_each_source_of_the_timestamp(env: Env) -> None:
    pki = env.log.pki
    leaf = pki.issue_leaf(["p.example.com"])
    sct = env.log.submit(leaf)
    cert, issuers = env.pem("cert.pem", leaf[:1]), env.pem("issuers.pem", leaf[1:])
    sct_file = env.write("sct.json", json.dumps(sct.to_json()).encode())
    base = ["prove", "--log", env.url, "--cert", cert, "--chain", issuers, "--log-key", env.key]
    given = json.loads(run(*base, "--sct", sct_file, "--json").stdout)
    assert given["valid"] and given["leaf_index"] == 3 and given["sct_source"] == "given"
    resubmitted = json.loads(run(*base, "--json").stdout)
    assert resubmitted["leaf_index"] == 3 and resubmitted["sct_source"] == "resubmitted"
    precert = pki.issue_precert(["e.example.com"])
    final = pki.issue_final(precert[0], encode_sct_list([env.log.submit(precert, precert=True)]))
    embedded = run("prove", "--log", env.url, "--cert", env.pem("final.pem", final), "--json")
    assert json.loads(embedded.stdout)["sct_source"] == "embedded"
    assert json.loads(embedded.stdout)["leaf_index"] == 4 and len(env.log.entries) == 5


def test_prove_refuses_a_bad_proof_or_an_absent_entry(env: Env) -> None:
    leaf = env.log.pki.issue_leaf(["p.example.com"])
    sct = env.log.submit(leaf)
    chain = env.pem("chain.pem", leaf)
    late = env.write("late.json", json.dumps({**sct.to_json(), "timestamp": 1}).encode())
    one_line_error(
        run("prove", "--log", env.url, "--cert", chain, "--sct", late), 1, "not in the log"
    )
    one_line_error(
        run("prove", "--log", env.url, "--cert", chain, "--sct", late, "--log-key", env.key),
        1,
        "does not verify",
    )
    head = env.log.sth.tree_head
    env.log.sth = SignedTreeHead.sign(TreeHead(head.tree_size, 5, bytes(32)), env.log.key)
    one_line_error(
        run("prove", "--log", env.url, "--cert", chain, "--log-key", env.key), 1, "another root"
    )
    missing = run("prove", "--log", env.url)  # click's own usage message
    assert missing.exit_code == 2 and "Missing option '--cert'" in missing.stderr


def test_get_entries_follows_truncation(env: Env) -> None:
    result = run("get-entries", "--log", env.url, "--start", "0", "--end", "2", "--json")
    entries = json.loads(result.stdout)["entries"]
    assert [e["names"] for e in entries] == [
        ["h0.example.com"],
        ["h1.example.com"],
        ["h2.example.com"],
    ]
    assert env.log.requests["/ct/v1/get-entries"] == 2  # max_get_entries is 2
    text = run("get-entries", "--log", env.url, "--start", "1", "--end", "1").stdout
    assert text.startswith("1 x509_entry 2025-01-01T00:00:00Z h1.example.com")
    one_line_error(
        run("get-entries", "--log", env.url, "--start", "2", "--end", "1"), 2, "start <= end"
    )
    size = len(json.loads(run("get-entries", "--log", env.url, "--start", "0", "--end", "99",
                              "--json").stdout)["entries"])  # fmt: skip
    assert size == 3  # asking past the tree size is truncated, not refused
    one_line_error(
        run("get-entries", "--log", env.url, "--start", str(size), "--end", "99"),
        1,
        f"the log has {size} entries",
    )
