"""Snapshots: size, determinism, strict restore, and agreement with a reference model."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.kv import (
    MAX_VALUE_BYTES,
    KvCommand,
    KvDecodeError,
    KvOp,
    KvResult,
    KvStateMachine,
    KvStatus,
    decode_command,
    encode_command,
)
from common.kv._codec import CODEC_VERSION, pack


class ReferenceKv:
    """The KV semantics written straight from the spec: a dict and a dict of sessions."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.sessions: dict[str, tuple[int, KvResult]] = {}

    def apply(self, index: int, data: bytes) -> KvResult:
        try:
            cmd = decode_command(data)
        except KvDecodeError:
            return KvResult(KvStatus.BAD_COMMAND, index=index)
        if cmd.client_id in self.sessions:
            last_seq, last_result = self.sessions[cmd.client_id]
            if cmd.seq == last_seq:
                return last_result
            if cmd.seq < last_seq:
                return KvResult(KvStatus.STALE_REQUEST, index=index)
        result = self.execute(index, cmd)
        if cmd.client_id:
            self.sessions[cmd.client_id] = (cmd.seq, result)
        return result

    def execute(self, index: int, cmd: KvCommand) -> KvResult:
        old = self.data.get(cmd.key)
        match cmd.op:
            case KvOp.GET:
                status = KvStatus.OK if old is not None else KvStatus.NOT_FOUND
                return KvResult(status, old, index)
            case KvOp.PUT:
                self.data[cmd.key] = cmd.value
            case KvOp.APPEND:
                self.data[cmd.key] = (old or b"") + cmd.value
            case KvOp.DELETE:
                if self.data.pop(cmd.key, None) is None:
                    return KvResult(KvStatus.NOT_FOUND, index=index)
            case KvOp.CAS:
                if old != cmd.expected:
                    return KvResult(KvStatus.CAS_FAILED, old, index)
                self.data[cmd.key] = cmd.value
        return KvResult(KvStatus.OK, index=index)


CLIENTS = ["", "c1", "c2", "c3", "c4"]


@st.composite
def entry_logs(draw: st.DrawFn) -> list[bytes]:
    """Entry payloads: commands with retries, stale and skipped seqs, and some garbage."""
    last_seq = dict.fromkeys(CLIENTS, 0)
    entries = []
    for _ in range(draw(st.integers(0, 40))):
        if draw(st.integers(0, 19)) == 0:
            entries.append(draw(st.binary(max_size=6)))
            continue
        op = draw(st.sampled_from(KvOp))
        key = draw(st.sampled_from("abc"))
        value = draw(st.binary(max_size=3)) if op in (KvOp.PUT, KvOp.APPEND, KvOp.CAS) else b""
        expected = draw(st.none() | st.binary(max_size=3)) if op is KvOp.CAS else None
        client = draw(st.sampled_from(CLIENTS))
        seq = 0
        if client:
            seq = max(1, last_seq[client] + draw(st.sampled_from([-1, 0, 1, 1, 1, 2])))
            last_seq[client] = max(last_seq[client], seq)
        entries.append(encode_command(KvCommand(op, key, value, expected, client, seq)))
    return entries


@settings(max_examples=200, deadline=None)
@given(entry_logs())
def test_machine_agrees_with_the_reference(entries: list[bytes]) -> None:
    sm, ref = KvStateMachine(), ReferenceKv()
    for index, data in enumerate(entries, start=1):
        assert sm.apply(index, data) == ref.apply(index, data)
    assert {key: sm.get(key) for key in ref.data} == ref.data
    assert len(sm) == len(ref.data)
    assert all(sm.session_seq(c) == seq for c, (seq, _) in ref.sessions.items())


@settings(max_examples=200, deadline=None)
@given(entry_logs(), st.data())
def test_snapshot_restore_then_replay_gives_equal_digests(
    entries: list[bytes], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(entries)), label="cut")
    max_sessions = data.draw(st.integers(1, 5), label="max_sessions")
    primary = KvStateMachine(max_sessions=max_sessions)
    for index, entry in enumerate(entries[:cut], start=1):
        primary.apply(index, entry)
    image = primary.snapshot()
    follower = KvStateMachine(max_sessions=max_sessions)
    follower.restore(image)
    assert follower.snapshot() == image
    assert follower.applied_index == primary.applied_index == cut
    for index, entry in enumerate(entries[cut:], start=cut + 1):
        assert follower.apply(index, entry) == primary.apply(index, entry)
    assert follower.digest() == primary.digest()
    assert primary.digest() == hashlib.sha256(primary.snapshot()).digest()


def test_snapshot_of_one_short_key_and_one_session_is_small() -> None:
    # MIT 6.824 TestSnapshotSize: 200 put/get rounds on one key by one clerk stay <= 500 bytes.
    sm = KvStateMachine()
    index = 0
    for seq in range(1, 401, 2):
        for op, value, s in ((KvOp.PUT, b"x" * 4, seq), (KvOp.GET, b"", seq + 1)):
            index += 1
            sm.apply(index, encode_command(KvCommand(op, "x", value, client_id="clerk-1", seq=s)))
    assert len(sm) == 1
    assert sm.session_seq("clerk-1") == 400
    assert len(sm.snapshot()) <= 500


def test_equal_states_have_equal_bytes_whatever_the_insertion_order() -> None:
    one, two = KvStateMachine(), KvStateMachine()
    for index, key in enumerate("abc", start=1):
        one.apply(index, encode_command(KvCommand(KvOp.PUT, key, b"v")))
    for index, key in enumerate("cba", start=1):
        two.apply(index, encode_command(KvCommand(KvOp.PUT, key, b"v")))
    assert one.snapshot() == two.snapshot()


def image(
    applied: object = 9,
    data: object = None,
    sessions: object = None,
    version: object = CODEC_VERSION,
) -> bytes:
    data = {"a": b"1", "b": b"2"} if data is None else data
    sessions = [["c1", 2, 0, None, 4], ["c2", 1, 2, b"1", 7]] if sessions is None else sessions
    return pack([version, applied, data, sessions])


def test_handmade_image_is_accepted() -> None:
    sm = KvStateMachine()
    sm.restore(image())
    assert (sm.applied_index, sm.get("a"), sm.get("b"), len(sm)) == (9, b"1", b"2", 2)
    assert (sm.session_seq("c1"), sm.session_seq("c2")) == (2, 1)
    assert sm.snapshot() == image()


# [1, 9, {"a": b"1", "a": b"2"}, []]: a map that names the key "a" twice
DUPLICATE_KEY_IMAGE = b"\x94\x01\x09\x82\xa1a\xc4\x011\xa1a\xc4\x012\x90"


@pytest.mark.parametrize(
    ("buf", "reason"),
    [
        (b"", "not strict msgpack (ValueError"),
        (image() + b"\x00", "not strict msgpack (ExtraData"),
        (image(version=2), "unknown codec version 2"),
        (pack([1, 9, {}]), "expected an array of 4 items"),
        (image(applied=-1), "applied_index: must be in [0, 9223372036854775807], got -1"),
        (image(applied=True), "applied_index: must be int, got bool"),
        (image(data=[["a", b"1"]]), "data: must be a map, got list"),
        (image(data={"": b"1"}), "data key: must be 1..1024 bytes in UTF-8, got 0"),
        (image(data={"a": "1"}), "value of 'a': must be bytes, got str"),
        (
            image(data={"b": b"2", "a": b"1"}),
            "not in canonical encoding (unsorted or duplicate keys)",
        ),
        (DUPLICATE_KEY_IMAGE, "not in canonical encoding (unsorted or duplicate keys)"),
        (image(sessions={}), "sessions: must be an array, got dict"),
        (image(sessions=[["c1", 1, 0, None]]), "session: must be an array of 5 items"),
        (image(sessions=[["", 1, 0, None, 1]]), "session client_id: empty or repeated: ''"),
        (
            image(sessions=[["c", 1, 0, None, 1], ["c", 2, 0, None, 2]]),
            "session client_id: empty or repeated: 'c'",
        ),
        (
            image(sessions=[["c", 0, 0, None, 1]]),
            "session seq: must be in [1, 9223372036854775807], got 0",
        ),
        (image(sessions=[["c", 1, 0, None, 10]]), "session index: must be in [1, 9], got 10"),
        (
            image(sessions=[["c", 1, 0, None, 5], ["d", 1, 0, None, 5]]),
            "session index: must be in [6, 9], got 5",
        ),
        (image(sessions=[["c", 1, 1, b"x", 1]]), "value: must be None for status NOT_FOUND"),
        (image(sessions=[["c", 1, 7, None, 1]]), "unknown status 7"),
    ],
)
def test_restore_rejects_and_keeps_the_state(buf: bytes, reason: str) -> None:
    sm = KvStateMachine()
    sm.apply(1, encode_command(KvCommand(KvOp.PUT, "keep", b"me", client_id="c", seq=3)))
    before = sm.snapshot()
    with pytest.raises(KvDecodeError) as info:
        sm.restore(buf)
    assert info.value.reason.startswith(reason)
    assert info.value.http_status == 400
    assert sm.snapshot() == before


def test_restore_rejects_more_sessions_than_configured() -> None:
    sm = KvStateMachine(max_sessions=1)
    with pytest.raises(KvDecodeError) as info:
        sm.restore(image())
    assert info.value.reason == "sessions: 2 sessions, more than 1"


def test_restore_bounds_value_size() -> None:
    too_big = image(data={"a": b"v" * (MAX_VALUE_BYTES + 1)})
    with pytest.raises(KvDecodeError, match="exceeds max_bin_len"):
        KvStateMachine().restore(too_big)


@given(st.binary(max_size=48))
def test_restore_of_random_bytes_raises_only_kv_decode_error(buf: bytes) -> None:
    sm = KvStateMachine()
    try:
        sm.restore(buf)
    except KvDecodeError as exc:
        assert exc.what == "snapshot"
        assert sm.applied_index == 0
    else:
        assert sm.snapshot() == buf
