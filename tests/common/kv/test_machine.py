"""The KV state machine: each op and status, sessions, eviction and bad entries."""

from __future__ import annotations

import pytest

from common.errors import UsageError
from common.kv import (
    MAX_VALUE_BYTES,
    KvCommand,
    KvOp,
    KvResult,
    KvStateMachine,
    KvStatus,
    encode_command,
)


class Log:
    """Feeds commands to a state machine at consecutive indexes, like a Raft driver."""

    def __init__(self, sm: KvStateMachine | None = None) -> None:
        self.sm = sm if sm is not None else KvStateMachine()
        self.index = self.sm.applied_index

    def run(self, op: KvOp, key: str, value: bytes = b"", **kw: object) -> KvResult:
        return self.raw(encode_command(KvCommand(op, key, value, **kw)))  # type: ignore[arg-type]

    def raw(self, data: bytes) -> KvResult:
        self.index += 1
        return self.sm.apply(self.index, data)


def test_get_put_append_delete() -> None:
    log = Log()
    assert log.run(KvOp.GET, "k") == KvResult(KvStatus.NOT_FOUND, None, 1)
    assert log.run(KvOp.PUT, "k", b"a") == KvResult(KvStatus.OK, None, 2)
    assert log.run(KvOp.GET, "k") == KvResult(KvStatus.OK, b"a", 3)
    assert log.run(KvOp.APPEND, "k", b"bc") == KvResult(KvStatus.OK, None, 4)
    assert log.sm.get("k") == b"abc"
    assert log.run(KvOp.APPEND, "new", b"x") == KvResult(KvStatus.OK, None, 5)
    assert log.sm.get("new") == b"x"  # append to an absent key = the value
    assert len(log.sm) == 2
    assert log.run(KvOp.DELETE, "k") == KvResult(KvStatus.OK, None, 6)
    assert log.run(KvOp.DELETE, "k") == KvResult(KvStatus.NOT_FOUND, None, 7)
    assert log.sm.get("k") is None
    assert len(log.sm) == 1
    assert log.sm.applied_index == 7


def test_put_of_empty_value_is_present() -> None:
    log = Log()
    log.run(KvOp.PUT, "k", b"")
    assert log.run(KvOp.GET, "k") == KvResult(KvStatus.OK, b"", 2)


def test_cas() -> None:
    log = Log()
    assert log.run(KvOp.CAS, "k", b"1", expected=b"0") == KvResult(KvStatus.CAS_FAILED, None, 1)
    assert log.run(KvOp.CAS, "k", b"1", expected=None) == KvResult(KvStatus.OK, None, 2)
    assert log.run(KvOp.CAS, "k", b"2", expected=None) == KvResult(KvStatus.CAS_FAILED, b"1", 3)
    assert log.run(KvOp.CAS, "k", b"2", expected=b"0") == KvResult(KvStatus.CAS_FAILED, b"1", 4)
    assert log.run(KvOp.CAS, "k", b"2", expected=b"1") == KvResult(KvStatus.OK, None, 5)
    assert log.sm.get("k") == b"2"
    log.run(KvOp.PUT, "e", b"")
    assert log.run(KvOp.CAS, "e", b"x", expected=None).status is KvStatus.CAS_FAILED
    assert log.run(KvOp.CAS, "e", b"x", expected=b"").status is KvStatus.OK


def test_append_beyond_value_limit_is_a_bad_command_without_effect() -> None:
    log = Log()
    log.run(KvOp.PUT, "k", b"a" * MAX_VALUE_BYTES)
    before = log.sm.digest()
    result = log.run(KvOp.APPEND, "k", b"b")
    assert result == KvResult(KvStatus.BAD_COMMAND, None, 2)
    assert log.sm.get("k") == b"a" * MAX_VALUE_BYTES
    assert log.sm.digest() != before  # only the applied index moved
    assert log.sm.applied_index == 2


@pytest.mark.parametrize("data", [b"", b"\x00", b"garbage", b"\x97\x01", b"\xc1" * 3])
def test_garbage_entry_is_bad_command_and_changes_nothing_but_the_index(data: bytes) -> None:
    log = Log()
    log.run(KvOp.PUT, "k", b"v", client_id="c", seq=1)
    before = KvStateMachine()
    before.restore(log.sm.snapshot())
    result = log.raw(data)
    assert result == KvResult(KvStatus.BAD_COMMAND, None, 2)
    assert log.sm.get("k") == b"v"
    assert log.sm.session_seq("c") == 1
    before.mark_applied(2)
    assert log.sm.digest() == before.digest()


def test_duplicate_apply_is_exactly_once() -> None:
    log = Log()
    first = log.run(KvOp.APPEND, "k", b"x", client_id="c", seq=1)
    again = log.run(KvOp.APPEND, "k", b"x", client_id="c", seq=1)
    assert first == again == KvResult(KvStatus.OK, None, 1)  # cached result, original index
    assert log.sm.get("k") == b"x"
    got = log.run(KvOp.GET, "k", client_id="c", seq=2)
    log.run(KvOp.APPEND, "k", b"y", client_id="other", seq=1)
    assert log.run(KvOp.GET, "k", client_id="c", seq=2) == got == KvResult(KvStatus.OK, b"x", 3)
    assert log.sm.applied_index == 5


def test_duplicate_cas_returns_its_first_outcome() -> None:
    log = Log()
    log.run(KvOp.PUT, "k", b"0")
    ok = log.run(KvOp.CAS, "k", b"1", expected=b"0", client_id="c", seq=1)
    assert ok == KvResult(KvStatus.OK, None, 2)
    assert log.run(KvOp.CAS, "k", b"1", expected=b"0", client_id="c", seq=1) == ok
    assert log.sm.get("k") == b"1"


def test_stale_request() -> None:
    log = Log()
    log.run(KvOp.PUT, "k", b"a", client_id="c", seq=1)
    log.run(KvOp.PUT, "k", b"b", client_id="c", seq=5)  # gaps are allowed
    stale = log.run(KvOp.PUT, "k", b"old", client_id="c", seq=4)
    assert stale == KvResult(KvStatus.STALE_REQUEST, None, 3)
    assert log.sm.get("k") == b"b"
    assert log.sm.session_seq("c") == 5
    assert log.run(KvOp.PUT, "k", b"b", client_id="c", seq=5) == KvResult(KvStatus.OK, None, 2)


def test_commands_without_session_are_not_deduplicated() -> None:
    log = Log()
    log.run(KvOp.APPEND, "k", b"x")
    log.run(KvOp.APPEND, "k", b"x")
    assert log.sm.get("k") == b"xx"
    assert log.sm.session_seq("") == 0


def feed_eviction_log(sm: KvStateMachine) -> Log:
    log = Log(sm)
    log.run(KvOp.APPEND, "k", b"a", client_id="a", seq=1)  # index 1
    log.run(KvOp.APPEND, "k", b"b", client_id="b", seq=1)  # index 2
    log.run(KvOp.APPEND, "k", b"a", client_id="a", seq=1)  # 3: a retry does not refresh a
    log.run(KvOp.APPEND, "k", b"c", client_id="c", seq=1)  # 4: evicts a (last applied at 1)
    log.run(KvOp.APPEND, "k", b"b", client_id="b", seq=2)  # 5: b now last applied at 5
    log.run(KvOp.APPEND, "k", b"d", client_id="d", seq=1)  # 6: evicts c (last applied at 4)
    return log


def test_session_eviction_order_is_by_last_applied_index() -> None:
    log = feed_eviction_log(KvStateMachine(max_sessions=2))
    assert [log.sm.session_seq(c) for c in "abcd"] == [0, 2, 0, 1]
    assert log.sm.get("k") == b"abcbd"


def test_session_eviction_is_deterministic_across_replicas() -> None:
    one = feed_eviction_log(KvStateMachine(max_sessions=2)).sm
    two = feed_eviction_log(KvStateMachine(max_sessions=2)).sm
    assert one.snapshot() == two.snapshot()
    restored = KvStateMachine(max_sessions=2)
    restored.restore(one.snapshot())
    Log(one).run(KvOp.PUT, "z", b"1", client_id="e", seq=1)  # evicts b in both
    Log(restored).run(KvOp.PUT, "z", b"1", client_id="e", seq=1)
    assert one.digest() == restored.digest()
    assert (one.session_seq("b"), one.session_seq("d")) == (0, 1)


def test_evicted_client_is_applied_again_at_least_once_caveat() -> None:
    log = feed_eviction_log(KvStateMachine(max_sessions=2))
    # a's session is gone: its late retry of seq 1 is applied a second time ...
    assert log.run(KvOp.APPEND, "k", b"a", client_id="a", seq=1).status is KvStatus.OK
    assert log.sm.get("k") == b"abcbda"
    # ... and so is a later command with seq > 1, which starts a new session.
    assert log.run(KvOp.PUT, "x", b"1", client_id="c", seq=9).status is KvStatus.OK
    assert log.sm.session_seq("c") == 9


def test_index_must_grow() -> None:
    sm = KvStateMachine()
    data = encode_command(KvCommand(KvOp.PUT, "k", b"v"))
    sm.apply(3, data)  # gaps are entries without a command (NOOP, CONF_CHANGE)
    for bad in (3, 2, 0, -1):
        with pytest.raises(UsageError, match=rf"must be in \(3, .*got {bad}"):
            sm.apply(bad, data)
    with pytest.raises(UsageError):
        sm.mark_applied(3)
    sm.mark_applied(4)
    assert sm.applied_index == 4
    assert sm.get("k") == b"v"


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="max_sessions must be a positive int, got 0"):
        KvStateMachine(max_sessions=0)
    sm = KvStateMachine()
    with pytest.raises(UsageError, match="entry data must be bytes, got str"):
        sm.apply(1, "text")  # type: ignore[arg-type]
    assert sm.applied_index == 0
