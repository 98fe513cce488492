"""Config loading: errors name the file and the field path; unknown keys are rejected."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from common.errors import ConfigError, UsageError
from common.runtime import ConfigFieldError, load_toml_config, parse_config


class Mode(enum.Enum):
    FAST = "fast"
    SAFE = "safe"


@dataclass(frozen=True, slots=True)
class Peer:
    host: str
    port: int
    voter: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be within 1..65535, found {self.port}")


@dataclass(frozen=True, slots=True)
class Cluster:
    name: str
    peers: tuple[Peer, ...]
    spares: list[Peer] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Limits:
    ratio: float = 0.5
    pair: tuple[int, str] = (1, "a")
    labels: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Config:
    cluster: Cluster
    limits: Limits = field(default_factory=Limits)
    token_file: str | None = None
    data_dir: Path = Path("data")
    mode: Mode = Mode.SAFE
    log: Literal["info", "debug"] = "info"
    port_or_name: int | str = 0


GOOD = """
[cluster]
name = "devnet"

[[cluster.peers]]
host = "a"
port = 1

[[cluster.peers]]
host = "b"
port = 2
voter = false

[limits]
ratio = 2
pair = [3, "x"]
labels = { red = 1 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cluster.toml"
    path.write_text(text)
    return path


def field_error(tmp_path: Path, text: str) -> ConfigFieldError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFieldError) as caught:
        load_toml_config(path, Config)
    assert caught.value.source == str(path)
    assert str(caught.value).startswith(f"{path}: {caught.value.field}: ")
    return caught.value


def test_loads_nested_tables_lists_and_defaults(tmp_path: Path) -> None:
    config = load_toml_config(write(tmp_path, GOOD), Config)
    assert config == Config(
        cluster=Cluster("devnet", (Peer("a", 1), Peer("b", 2, voter=False))),
        limits=Limits(ratio=2.0, pair=(3, "x"), labels={"red": 1}),
    )
    assert isinstance(config.limits.ratio, float)
    assert config.token_file is None and config.data_dir == Path("data")


def test_optionals_paths_enums_literals_and_unions(tmp_path: Path) -> None:
    text = GOOD.replace(
        "[cluster]\n",
        'token_file = "t"\ndata_dir = "/var/x"\nmode = "fast"\nlog = "debug"\n'
        'port_or_name = "n1"\n[cluster]\nspares = [{ host = "c", port = 3 }]\n',
    )
    config = load_toml_config(write(tmp_path, text), Config)
    assert config.token_file == "t"
    assert config.data_dir == Path("/var/x")
    assert config.mode is Mode.FAST
    assert config.log == "debug"
    assert config.port_or_name == "n1"
    assert config.cluster.spares == [Peer("c", 3)]


def test_wrong_type_in_a_list_names_the_index(tmp_path: Path) -> None:
    error = field_error(tmp_path, GOOD.replace("port = 2", 'port = "two"'))
    assert error.field == "cluster.peers[1].port"
    assert error.problem == "expected int, found string 'two'"


def test_bool_is_not_an_int(tmp_path: Path) -> None:
    error = field_error(tmp_path, GOOD.replace("port = 1", "port = true"))
    assert (error.field, error.problem) == (
        "cluster.peers[0].port",
        "expected int, found boolean True",
    )


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    error = field_error(tmp_path, GOOD.replace("voter = false", "votr = false"))
    assert error.field == "cluster.peers[1].votr"
    assert error.problem == "unknown key (known keys here: host, port, voter)"


def test_unknown_section_is_rejected(tmp_path: Path) -> None:
    error = field_error(tmp_path, GOOD + "\n[extra]\nx = 1\n")
    assert error.field == "extra"
    assert "unknown key" in error.problem


def test_missing_required_key(tmp_path: Path) -> None:
    error = field_error(tmp_path, GOOD.replace('name = "devnet"', ""))
    assert (error.field, error.problem) == ("cluster.name", "required key is missing")


def test_post_init_error_names_the_table(tmp_path: Path) -> None:
    error = field_error(tmp_path, GOOD.replace("port = 2", "port = 70000"))
    assert error.field == "cluster.peers[1]"
    assert error.problem == "port must be within 1..65535, found 70000"


def test_literal_enum_and_tuple_length(tmp_path: Path) -> None:
    error = field_error(tmp_path, 'log = "trace"\n' + GOOD)
    assert (error.field, error.problem) == (
        "log",
        "expected one of 'info', 'debug', found string 'trace'",
    )
    error = field_error(tmp_path, 'mode = "slow"\n' + GOOD)
    assert (error.field, error.problem) == (
        "mode",
        "expected one of 'fast', 'safe', found string 'slow'",
    )
    error = field_error(tmp_path, GOOD.replace('pair = [3, "x"]', "pair = [3]"))
    assert (error.field, error.problem) == ("limits.pair", "expected 2 items, found 1")


def test_table_where_array_expected(tmp_path: Path) -> None:
    text = '[cluster]\nname = "x"\npeers = { host = "a" }\n'
    error = field_error(tmp_path, text)
    assert error.field == "cluster.peers"
    assert error.problem == "expected array, found table {'host': 'a'}"


def test_union_mismatch_lists_the_arms(tmp_path: Path) -> None:
    error = field_error(tmp_path, "port_or_name = 1.5\n" + GOOD)
    assert (error.field, error.problem) == ("port_or_name", "expected int or str, found float 1.5")


def test_long_values_are_shortened(tmp_path: Path) -> None:
    error = field_error(tmp_path, GOOD.replace("port = 1", f'port = "{"9" * 500}"'))
    assert error.field == "cluster.peers[0].port"
    assert error.problem == f"expected int, found string '{'9' * 56}..."


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[cluster]\nname = "x"\nport = = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_toml_config(path, Config)
    assert str(caught.value).startswith(f"{path}: invalid TOML: ")
    assert "line 3" in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_toml_config(tmp_path / "nope.toml", Config)
    assert (
        str(caught.value)
        == f"cannot read config file {tmp_path / 'nope.toml'}: No such file or directory"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(ConfigError) as caught:
        load_toml_config(path, Config)
    assert "not UTF-8" in str(caught.value)


def test_parse_config_from_a_mapping() -> None:
    data = {"cluster": {"name": "n", "peers": [{"host": "h", "port": 9}]}, "token_file": None}
    config = parse_config(data, Config, source="--set")
    assert config.cluster.peers == (Peer("h", 9),)
    assert config.token_file is None
    with pytest.raises(ConfigFieldError) as caught:
        parse_config({"cluster": []}, Config, source="--set")
    assert str(caught.value) == "--set: cluster: expected table, found array []"


def test_schema_must_be_a_dataclass() -> None:
    with pytest.raises(UsageError) as caught:
        parse_config({}, dict)
    assert "dataclass" in str(caught.value)
    assert not isinstance(caught.value, ConfigFieldError)


@dataclass(frozen=True)
class Unsupported:
    value: bytes = b""


def test_unsupported_field_type_is_a_schema_bug() -> None:
    with pytest.raises(UsageError) as caught:
        parse_config({"value": "x"}, Unsupported)
    assert "unsupported type" in str(caught.value)
    assert "value" in str(caught.value)
