"""The auditor's TOML file: paths relative to the file, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from ctlog.auditor.config import load_auditor_config

GOOD = """
name = "a1"
data_dir = "a1-data"
poll_interval_s = 2.5

[[logs]]
url = "http://127.0.0.1:8000"
key_file = "keys/log.pem"

[[peers]]
name = "a2"
url = "http://127.0.0.1:8801"
"""


def test_relative_paths_are_taken_from_the_files_directory(tmp_path: Path) -> None:
    path = tmp_path / "a1.toml"
    path.write_text(GOOD)
    config = load_auditor_config(path)
    assert config.data_dir == tmp_path / "a1-data"
    assert config.logs[0].key_file == tmp_path / "keys" / "log.pem"
    assert (config.listen_host, config.listen_port) == ("127.0.0.1", 8800)
    assert config.poll_interval_s == 2.5 and config.gossip_interval_s == 5.0
    assert [p.name for p in config.peers] == ["a2"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (('url = "http://127.0.0.1:8000"', 'url = "ftp://x"'), "logs[0]: log url must start"),
        (('url = "http://127.0.0.1:8000"', f'url = "http://{"x" * 300}"'), "at most 256"),
        (("poll_interval_s = 2.5", "poll_interval_s = 0"), "poll_interval_s must be at least"),
        (
            (
                'url = "http://127.0.0.1:8801"',
                'url = "http://h"\n[[peers]]\nname = "a2"\nurl = "http://h"',
            ),
            "peer names must be distinct",
        ),
        (("poll_interval_s = 2.5", "pol_interval_s = 2.5"), "pol_interval_s: unknown key"),
        (("[[logs]]", "[[nologs]]"), "nologs: unknown key"),
    ],
)
def test_mistakes_name_the_field(tmp_path: Path, change: tuple[str, str], reason: str) -> None:
    path = tmp_path / "a1.toml"
    path.write_text(GOOD.replace(*change, 1))
    with pytest.raises(ConfigError) as info:
        load_auditor_config(path)
    assert reason in str(info.value) and str(path) in str(info.value)
