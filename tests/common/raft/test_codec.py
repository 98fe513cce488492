"""Round trips and strict rejection for the Raft wire codec."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import PeerError
from common.raft import codec
from common.raft.codec import DecodeError
from common.raft.errors import RaftError
from common.raft.types import (
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType,
    SnapshotMeta,
)

node_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
ints = st.integers(min_value=0, max_value=(1 << 63) - 1)
small = st.integers(min_value=0, max_value=10**6)
positive = st.integers(min_value=1, max_value=10**6)


@st.composite
def conf_states(draw: st.DrawFn) -> ConfState:
    voters = draw(st.frozensets(node_ids, max_size=5))
    learners = draw(st.frozensets(node_ids, max_size=3)) - voters
    return ConfState(voters, learners)


@st.composite
def entries_from(draw: st.DrawFn, first: int) -> tuple[Entry, ...]:
    n = draw(st.integers(min_value=0, max_value=5))
    return tuple(
        Entry(
            first + i,
            draw(positive),
            draw(st.sampled_from(EntryType)),
            draw(st.binary(max_size=40)),
        )
        for i in range(n)
    )


snapshot_metas = st.builds(SnapshotMeta, index=small, term=small, conf=conf_states())


@st.composite
def messages(draw: st.DrawFn) -> Message:
    log_index = draw(small)
    return Message(
        type=draw(st.sampled_from(MessageType)),
        src=draw(node_ids),
        dst=draw(node_ids),
        term=draw(ints),
        log_index=log_index,
        log_term=draw(small),
        entries=draw(entries_from(log_index + 1)),
        commit=draw(small),
        reject=draw(st.booleans()),
        hint_index=draw(small),
        hint_term=draw(small),
        context=draw(st.binary(max_size=20)),
        snapshot_meta=draw(st.none() | snapshot_metas),
        offset=draw(small),
        data=draw(st.binary(max_size=50)),
        done=draw(st.booleans()),
    )


@settings(max_examples=300)
@given(messages())
def test_message_round_trip(msg: Message) -> None:
    assert codec.decode_message(codec.encode_message(msg)) == msg


@given(positive, positive, st.sampled_from(EntryType), st.binary(max_size=100))
def test_entry_round_trip(index: int, term: int, etype: EntryType, data: bytes) -> None:
    e = Entry(index, term, etype, data)
    assert codec.decode_entry(codec.encode_entry(e)) == e


@given(small, st.one_of(st.just(""), node_ids), small)
def test_hard_state_round_trip(term: int, vote: str, commit: int) -> None:
    hs = HardState(term, vote, commit)
    assert codec.decode_hard_state(codec.encode_hard_state(hs)) == hs


@given(snapshot_metas)
def test_snapshot_meta_round_trip(meta: SnapshotMeta) -> None:
    assert codec.decode_snapshot_meta(codec.encode_snapshot_meta(meta)) == meta


@given(conf_states())
def test_conf_state_round_trip(conf: ConfState) -> None:
    assert codec.decode_conf_state(codec.encode_conf_state(conf)) == conf


@given(st.sampled_from(ConfChangeType), node_ids)
def test_conf_change_round_trip(ctype: ConfChangeType, node_id: str) -> None:
    change = ConfChange(ctype, node_id)
    assert codec.decode_conf_change(codec.encode_conf_change(change)) == change


APPEND = Message(
    MessageType.APPEND,
    "1",
    "2",
    3,
    log_index=4,
    log_term=2,
    entries=(Entry(5, 3, EntryType.NORMAL, b"x"), Entry(6, 3, EntryType.NOOP)),
    commit=4,
)


def _fields(msg: Message) -> list[object]:
    value = msgpack.unpackb(codec.encode_message(msg), raw=False)
    assert isinstance(value, list)
    return value


def _raises(buf: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        codec.decode_message(buf)
    return info.value


def test_decode_error_is_raft_and_peer_error() -> None:
    err = _raises(b"\xc1")
    assert isinstance(err, RaftError)
    assert isinstance(err, PeerError)
    assert err.http_status == 400
    assert err.field == "message"


def test_heartbeat_is_compact() -> None:
    hb = Message(MessageType.HEARTBEAT, "1", "2", 7, commit=12)
    assert len(codec.encode_message(hb)) <= 24


def test_rejects_trailing_bytes() -> None:
    err = _raises(codec.encode_message(APPEND) + b"\x00")
    assert "extra" in str(err).lower()


def test_rejects_truncated() -> None:
    buf = codec.encode_message(APPEND)
    for cut in range(len(buf)):
        err = _raises(buf[:cut])
        assert err.field


def test_rejects_garbage() -> None:
    for buf in (b"", b"\xff" * 8, b"\x92\x01", msgpack.packb({"type": 1})):
        _raises(buf)


def test_rejects_wrong_field_count() -> None:
    fields = _fields(APPEND)
    assert _raises(msgpack.packb(fields[:-1])).field == "message"
    assert _raises(msgpack.packb([*fields, 0])).field == "message"


def test_rejects_unknown_message_type() -> None:
    fields = _fields(APPEND)
    fields[0] = 99
    err = _raises(msgpack.packb(fields, use_bin_type=True))
    assert err.field == "type"
    assert "99" in str(err)


@pytest.mark.parametrize(
    ("position", "value", "field"),
    [
        (1, "", "src"),
        (2, "x" * 65, "dst"),
        (3, -1, "term"),
        (3, True, "term"),
        (3, 1.5, "term"),
        (8, 1, "reject"),
        (11, "text", "context"),
        (11, b"c" * (codec.MAX_READ_CONTEXT_BYTES + 1), "context"),
        (15, 0, "done"),
        (6, [[3, 9, b""]], "entries[0].type"),
        (6, [[3, 0]], "entries[0]"),
        (6, [[0, 0, b""]], "message"),
        (12, [1, 1, ["a", "a"], []], "snapshot_meta.voters"),
    ],
)
def test_rejects_bad_field(position: int, value: object, field: str) -> None:
    fields = _fields(APPEND)
    fields[position] = value
    assert _raises(msgpack.packb(fields, use_bin_type=True)).field == field


def test_rejects_oversize_buffer() -> None:
    err = _raises(b"\x00" * (codec.MAX_MESSAGE_BYTES + 1))
    assert "exceed" in str(err)


def test_rejects_too_many_entries() -> None:
    fields = _fields(APPEND)
    fields[6] = [[3, 0, b""]] * (codec.MAX_ENTRIES_PER_MESSAGE + 1)
    _raises(msgpack.packb(fields, use_bin_type=True))


def test_entries_get_implied_contiguous_indexes() -> None:
    decoded = codec.decode_message(codec.encode_message(APPEND))
    assert [e.index for e in decoded.entries] == [5, 6]


def test_encode_refuses_non_contiguous_entries() -> None:
    bad = Message(MessageType.APPEND, "1", "2", 1, log_index=0, entries=(Entry(2, 1),))
    with pytest.raises(ValueError, match="contiguous"):
        codec.encode_message(bad)


def test_entry_rejects_zero_index_and_trailing() -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode_entry(msgpack.packb([0, 1, 0, b""]))
    assert info.value.field == "entry"
    with pytest.raises(DecodeError):
        codec.decode_entry(codec.encode_entry(Entry(1, 1)) + b"\x00")


def test_hard_state_rejects_bad_vote() -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode_hard_state(msgpack.packb([1, 5, 0]))
    assert info.value.field == "hard_state.vote"


def test_conf_change_rejects_unknown_type() -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode_conf_change(msgpack.packb([7, "n1"]))
    assert info.value.field == "conf_change.type"


def test_conf_state_rejects_overlap() -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode_conf_state(msgpack.packb([["a"], ["a"]]))
    assert info.value.field == "conf_state"
