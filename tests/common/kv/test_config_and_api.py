"""Cluster configuration files and HTTP request parsing of the KV replica."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError, PeerError
from common.kv import KvOp
from common.kv.config import consecutive_ports, load_cluster_config, write_cluster_files
from common.kv.http_api import parse_command
from common.kv.json_values import read_value, value_fields


def test_generated_cluster_files_load(tmp_path: Path) -> None:
    path = write_cluster_files(tmp_path, name="t", ports=consecutive_ports(3, 7100))
    config = load_cluster_config(path)
    assert [n.id for n in config.cluster.nodes] == ["n1", "n2", "n3"]
    assert config.node("n2").client_url == "http://127.0.0.1:7202"
    assert config.bootstrap_conf().voters == frozenset({"n1", "n2", "n3"})
    assert len(config.read_secret()) >= 16
    assert (tmp_path / "cluster.secret").stat().st_mode & 0o077 == 0


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "cluster.secret").write_text("s" * 32)
    (tmp_path / "client.token").write_text("t" * 32)
    path = tmp_path / "cluster.toml"
    path.write_text(text)
    return path


def test_duplicate_ports_are_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[cluster]\nname = "x"\n[[cluster.nodes]]\nid = "a"\npeer_port = 1\nclient_port = 2\n'
        '[[cluster.nodes]]\nid = "b"\npeer_port = 2\nclient_port = 3\n',
    )
    with pytest.raises(ConfigError, match="must be distinct"):
        load_cluster_config(path)


def test_bad_field_type_names_the_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[cluster]\nname = "x"\n[[cluster.nodes]]\nid = "a"\npeer_port = "one"\nclient_port = 2\n',
    )
    with pytest.raises(ConfigError, match=r"cluster\.nodes\[0\]\.peer_port"):
        load_cluster_config(path)


def test_bad_raft_timing_is_a_config_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[cluster]\nname = "x"\n[[cluster.nodes]]\nid = "a"\npeer_port = 1\nclient_port = 2\n'
        "[raft]\nelection_ticks = 2\nheartbeat_ticks = 5\n",
    )
    with pytest.raises(ConfigError, match="heartbeat_ticks < election_ticks"):
        load_cluster_config(path)


def test_unknown_node_and_short_secret(tmp_path: Path) -> None:
    path = write_cluster_files(tmp_path, name="t", ports=consecutive_ports(1, 7100))
    config = load_cluster_config(path)
    with pytest.raises(ConfigError, match="'zz' is not in cluster 't'"):
        config.node("zz")
    (tmp_path / "cluster.secret").write_text("short")
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        config.read_secret()


def test_parse_command_accepts_text_and_base64() -> None:
    cmd = parse_command({"op": "cas", "key": "k", "value_b64": "AAE=", "expected": "old"})
    assert (cmd.op, cmd.value, cmd.expected) == (KvOp.CAS, b"\x00\x01", b"old")
    assert parse_command({"op": "cas", "key": "k", "value": "v"}).expected is None
    assert (
        parse_command({"op": "put", "key": "k", "value": "v", "client_id": "c", "seq": 4}).seq == 4
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object"),
        ({"op": "nope", "key": "k"}, "op must be one of"),
        ({"op": "put"}, "key must be"),
        ({"op": "put", "key": "k" * 5000}, "key must be"),
        ({"op": "put", "key": "k", "seq": -1}, "seq a non-negative integer"),
        ({"op": "put", "key": "k", "seq": True}, "seq a non-negative integer"),
        ({"op": "put", "key": "k", "value": 5}, "value must be a string"),
        ({"op": "put", "key": "k", "value_b64": "!!"}, "not valid base64"),
        ({"op": "put", "key": "\ud800"}, "key is not encodable as UTF-8"),
        ({"op": "put", "key": "k", "value": "\udfff"}, "value is not encodable as UTF-8"),
        ({"op": "cas", "key": "k", "expected": "\ud800"}, "expected is not encodable"),
        ({"op": "put", "key": "k", "client_id": "\ud800"}, "client_id is not encodable"),
    ],
)
def test_parse_command_rejects_bad_bodies(body: object, message: str) -> None:
    with pytest.raises(PeerError, match=message) as info:
        parse_command(body)
    assert info.value.http_status == 400


def test_values_are_text_or_base64() -> None:
    assert value_fields("value", b"hi") == {"value": "hi"}
    assert value_fields("value", b"\xff") == {"value_b64": "/w=="}
    assert value_fields("value", None) == {"value": None}
    for value in (b"hi", b"\xff", None):
        assert read_value(value_fields("expected", value), "expected") == value
