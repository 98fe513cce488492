"""Cookie files and HTTP Basic checks (Core's GenerateAuthCookie and RPCAuthorized)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from btcnode.consensus.errors import ChainMisuse
from btcnode.rpc.auth import (
    COOKIE_USER,
    RpcCredentials,
    basic_authorization,
    delete_cookie,
    generate_cookie,
    is_authorized,
    read_cookie,
)


def test_cookie_is_written_atomically_owner_only_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / ".cookie"
    credentials = generate_cookie(path)
    text = path.read_text()
    assert re.fullmatch(r"__cookie__:[0-9a-f]{64}", text)
    assert text == f"{COOKIE_USER}:{credentials.password}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (tmp_path / ".cookie.tmp").exists()
    assert read_cookie(path) == credentials


def test_a_new_cookie_replaces_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / ".cookie"
    first = generate_cookie(path)
    (tmp_path / ".cookie.tmp").write_text("left over from a crash")
    second = generate_cookie(path)
    assert first.password != second.password
    assert read_cookie(path) == second


def test_delete_cookie(tmp_path: Path) -> None:
    path = tmp_path / ".cookie"
    generate_cookie(path)
    delete_cookie(path)
    assert not path.exists()
    delete_cookie(path)  # already gone: nothing to do


@pytest.mark.parametrize("content", [b"", b"no colon here", b"\xff\xfe:x", b"a:" + b"x" * 2000])
def test_read_cookie_refuses_what_is_not_a_cookie(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / ".cookie"
    path.write_bytes(content)
    with pytest.raises(ChainMisuse):
        read_cookie(path)


def test_read_cookie_takes_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / ".cookie"
    path.write_text("user:pass:with:colons\nsecond line\n")
    assert read_cookie(path) == RpcCredentials("user", "pass:with:colons")


def test_repr_hides_the_password() -> None:
    credentials = RpcCredentials("alice", "s3cret-value")
    assert "s3cret-value" not in repr(credentials)
    assert "s3cret-value" not in str(credentials)
    assert "alice" in repr(credentials)


def test_user_with_colon_is_refused() -> None:
    with pytest.raises(ChainMisuse):
        RpcCredentials("a:b", "x")


def test_is_authorized() -> None:
    alice = RpcCredentials("alice", "pw")
    bob = RpcCredentials("bob", "other")
    assert is_authorized(basic_authorization(alice), [bob, alice])
    assert is_authorized(basic_authorization(alice) + "  ", [alice])  # Core trims
    assert not is_authorized(basic_authorization(RpcCredentials("alice", "pw2")), [alice, bob])
    assert not is_authorized(basic_authorization(RpcCredentials("bob", "pw")), [alice])
    assert not is_authorized(None, [alice])
    assert not is_authorized("basic " + basic_authorization(alice)[6:], [alice])
    assert not is_authorized("Basic %%%", [alice])
    assert not is_authorized(basic_authorization(alice), [])
