"""log.toml checks and `ctlog init`."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from common.errors import ConfigError
from ctlog.cli import main
from ctlog.log.config import load_log_config
from ctlog.log.files import log_toml, write_log_files
from ctlog.x509 import validate_chain
from ctlog.x509.pemfile import read_pem_chain

PORTS = [(9101, 9201), (9102, 9202)]


def config_with(tmp_path: Path, settings: dict[str, object], raft: dict[str, object]) -> Path:
    path = tmp_path / "log.toml"
    path.write_text(log_toml("t", "localhost/t", PORTS, settings, raft))  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("settings", "raft", "reason"),
    [
        ({"max_merge_delay_s": 10}, {}, "max_merge_delay_s must be at least 21 s"),
        ({"max_batch": 5000}, {}, "max_batch must be in 1..4096"),
        ({"max_get_entries": 0}, {}, "max_get_entries must be in 1..10000"),
        ({"not_after_start": "2020-01-01"}, {}, "needs a time zone"),
        ({"not_after_start": "soon"}, {}, "is not an RFC 3339 time"),
        (
            {"not_after_start": "2021-01-01T00:00:00Z", "not_after_end": "2020-01-01T00:00:00Z"},
            {},
            "not_after_start must be before not_after_end",
        ),
        ({"max_batchh": 5}, {}, "log.max_batchh: unknown key"),
        ({}, {"snapshot_entries": 100}, "never compacts its Raft log"),
        ({}, {"election_ticks": 1}, "heartbeat_ticks < election_ticks"),
    ],
)
def test_bad_settings_name_the_field(
    tmp_path: Path, settings: dict[str, object], raft: dict[str, object], reason: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_log_config(config_with(tmp_path, settings, raft))
    assert reason in str(info.value)


def test_origin_and_replicas_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "log.toml"
    path.write_text(log_toml("t", "has space", PORTS, {}, {}))
    with pytest.raises(ConfigError, match="must be a note key name"):
        load_log_config(path)
    path.write_text(log_toml("t", "o", [(9101, 9201), (9201, 9102)], {}, {}))
    with pytest.raises(ConfigError, match="every peer_port and http_port must be distinct"):
        load_log_config(path)
    config = load_log_config(config_with(tmp_path, {}, {}))
    with pytest.raises(ConfigError, match=r"replica 'n9' is not in log 't' \(n1, n2\)"):
        config.replica("n9")


def test_init_writes_a_working_log_directory(tmp_path: Path) -> None:
    out = tmp_path / "log"
    result = CliRunner().invoke(
        main, ["init", "--out", str(out), "--replicas", "3", "--base-port", "9300", "--json"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["urls"] == [f"http://127.0.0.1:{9300 + 100 + i}" for i in (1, 2, 3)]
    config = load_log_config(out / "log.toml")
    assert [r.peer_port for r in config.log.replicas] == [9301, 9302, 9303]
    for secret in ("log.key", "cluster.secret", "devpki/root-key.pem"):
        assert stat.S_IMODE((out / secret).stat().st_mode) == 0o600, secret
    assert config.read_roots().ders() == read_pem_chain(out / "devpki" / "root.pem")
    assert config.read_key().public.to_pem() == (out / "log.pub").read_bytes()
    assert len(read_pem_chain(out / "devpki" / "chain.pem")) == 2
    again = CliRunner().invoke(main, ["init", "--out", str(out)])
    assert again.exit_code == 2 and "log.toml exists" in again.output


def test_init_copies_given_roots_and_refuses_bad_ones(tmp_path: Path) -> None:
    first = write_log_files(tmp_path / "a", name="a", ports=PORTS[:1], now=datetime.now(UTC))
    roots = first.parent / "roots.pem"
    write_log_files(
        tmp_path / "b", name="b", ports=PORTS[:1], now=datetime.now(UTC), roots_pem=roots
    )
    assert (tmp_path / "b" / "roots.pem").read_bytes() == roots.read_bytes()
    assert not (tmp_path / "b" / "devpki").exists()
    junk = tmp_path / "junk.pem"
    junk.write_text("not a pem\n")
    result = CliRunner().invoke(main, ["init", "--out", str(tmp_path / "c"), "--roots", str(junk)])
    assert result.exit_code == 2 and "--roots" in result.output


def test_dev_cert_issues_chains_the_log_accepts(tmp_path: Path) -> None:
    out = tmp_path / "log"
    assert CliRunner().invoke(main, ["init", "--out", str(out)]).exit_code == 0
    config = load_log_config(out / "log.toml")
    for extra, precert in (([], False), (["--precert"], True)):
        chain_path = tmp_path / f"chain{len(extra)}.pem"
        args = ["dev-cert", "--pki", str(out / "devpki"), "--name", "new.example.test"]
        result = CliRunner().invoke(main, [*args, "--out", str(chain_path), *extra])
        assert result.exit_code == 0, result.output
        chain = read_pem_chain(chain_path)
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        validated = validate_chain(chain, config.read_roots(), now_ms=now_ms, precert=precert)
        assert validated.ders[-1] == config.read_roots().ders()[0]
    missing = CliRunner().invoke(
        main, ["dev-cert", "--pki", str(tmp_path), "--name", "x.test", "--out", "c.pem"]
    )
    assert missing.exit_code == 2 and "cannot issue from" in missing.output
