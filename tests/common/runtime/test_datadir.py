"""DataDir: owner-only creation, the exclusive lock naming its holder, atomic small files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from common.errors import ConfigError, UsageError
from common.runtime import DataDir, DataDirLockedError
from tests.common.holder import held_by_another_process

HOLDER = """
import sys
from common.runtime import DataDir
with DataDir(sys.argv[1]):
    print("ready", flush=True)
    sys.stdin.read()
"""


def test_creates_an_owner_only_directory(tmp_path: Path) -> None:
    root = tmp_path / "a" / "node"
    with DataDir(root) as data_dir:
        assert data_dir.path == root
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        assert (root / "LOCK").read_text() == f"{os.getpid()}\n"
        raft = data_dir.sub("raft")
        assert raft == root / "raft" and raft.is_dir()
        assert data_dir.sub("chain/blocks") == root / "chain" / "blocks"
        assert stat.S_IMODE(raft.stat().st_mode) == 0o700


def test_second_holder_in_another_process_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "node"
    with held_by_another_process(HOLDER, root) as holder_pid:
        with pytest.raises(DataDirLockedError) as caught:
            DataDir(root)
        assert caught.value.pid == holder_pid
        assert caught.value.path == root
        assert str(caught.value) == (
            f"data directory {root} is in use by another process (pid {holder_pid})"
        )
        assert isinstance(caught.value, ConfigError)
    with DataDir(root):  # released when the holder closed it
        assert (root / "LOCK").read_text() == f"{os.getpid()}\n"


def test_second_holder_in_this_process_is_refused_until_close(tmp_path: Path) -> None:
    first = DataDir(tmp_path)
    with pytest.raises(DataDirLockedError) as caught:
        DataDir(tmp_path)
    assert caught.value.pid == os.getpid()
    first.close()
    first.close()
    DataDir(tmp_path).close()


def test_atomic_write_and_read(tmp_path: Path) -> None:
    with DataDir(tmp_path) as data_dir:
        assert data_dir.read("identity.json") is None
        data_dir.write_atomic("identity.json", b"one")
        data_dir.write_atomic("identity.json", b"two")
        assert data_dir.read("identity.json") == b"two"
        assert stat.S_IMODE((tmp_path / "identity.json").stat().st_mode) == 0o600
        assert sorted(p.name for p in tmp_path.iterdir()) == ["LOCK", "identity.json"]


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "LOCK", "a/../b"])
def test_bad_file_names_are_misuse(tmp_path: Path, name: str) -> None:
    with DataDir(tmp_path) as data_dir, pytest.raises(UsageError) as caught:
        data_dir.write_atomic(name, b"x")
    assert repr(name) in str(caught.value)


@pytest.mark.parametrize("name", ["", "..", "a/../b", "/abs", "LOCK"])
def test_bad_subdirectory_names_are_misuse(tmp_path: Path, name: str) -> None:
    with DataDir(tmp_path) as data_dir, pytest.raises(UsageError) as caught:
        data_dir.sub(name)
    assert repr(name) in str(caught.value)


def test_use_after_close_is_misuse(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    data_dir.close()
    with pytest.raises(UsageError) as caught:
        data_dir.read("x")
    assert str(caught.value) == f"data directory {tmp_path} is closed"
    assert repr(data_dir) == f"<DataDir {str(tmp_path)!r} closed>"


def test_write_requires_bytes(tmp_path: Path) -> None:
    with DataDir(tmp_path) as data_dir, pytest.raises(UsageError) as caught:
        data_dir.write_atomic("x", "text")  # type: ignore[arg-type]
    assert str(caught.value) == "data must be bytes, found str"
