"""The command and result codec: round trips, canonical form and strict rejections."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import PeerError, UsageError
from common.kv import (
    MAX_CLIENT_ID_BYTES,
    MAX_KEY_BYTES,
    MAX_SEQ,
    MAX_VALUE_BYTES,
    KvCommand,
    KvCommandError,
    KvDecodeError,
    KvOp,
    KvResult,
    KvStatus,
    decode_command,
    decode_result,
    encode_command,
    encode_result,
)
from common.kv._codec import CODEC_VERSION, pack


def command_fields(cmd: KvCommand) -> list[object]:
    return [CODEC_VERSION, int(cmd.op), cmd.key, cmd.value, cmd.expected, cmd.client_id, cmd.seq]


values = st.binary(max_size=64)


@st.composite
def commands(draw: st.DrawFn) -> KvCommand:
    op = draw(st.sampled_from(KvOp))
    key = draw(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8))
    value = draw(values) if op in (KvOp.PUT, KvOp.APPEND, KvOp.CAS) else b""
    expected = draw(st.none() | values) if op is KvOp.CAS else None
    client_id = draw(st.sampled_from(["", "c1", "clerk-ü", "x" * MAX_CLIENT_ID_BYTES]))
    seq = draw(st.integers(1, MAX_SEQ)) if client_id else 0
    return KvCommand(op, key, value, expected, client_id, seq)


@st.composite
def results(draw: st.DrawFn) -> KvResult:
    status = draw(st.sampled_from(KvStatus))
    carries = status in (KvStatus.OK, KvStatus.CAS_FAILED)
    value = draw(st.none() | values) if carries else None
    return KvResult(status, value, draw(st.integers(0, MAX_SEQ)))


@given(commands())
def test_command_round_trip(cmd: KvCommand) -> None:
    buf = encode_command(cmd)
    assert decode_command(buf) == cmd
    assert encode_command(decode_command(buf)) == buf


@given(results())
def test_result_round_trip(r: KvResult) -> None:
    assert decode_result(encode_result(r)) == r


def test_command_repr_is_a_constructor_expression() -> None:
    cmd = KvCommand(KvOp.CAS, "k", b"new", b"old", "c1", 7)
    assert eval(repr(cmd)) == cmd  # the repr is "paste into a test"


def test_trailing_bytes_are_rejected() -> None:
    buf = encode_command(KvCommand(KvOp.PUT, "k", b"v"))
    with pytest.raises(KvDecodeError) as info:
        decode_command(buf + b"\x00")
    assert info.value.what == "command"
    assert "ExtraData" in info.value.reason
    assert info.value.http_status == 400
    assert isinstance(info.value, PeerError)


def test_result_trailing_bytes_are_rejected() -> None:
    with pytest.raises(KvDecodeError, match="ExtraData"):
        decode_result(encode_result(KvResult(KvStatus.OK, b"v", 3)) + b"\xc0")


GOOD = KvCommand(KvOp.CAS, "k", b"new", b"old", "c1", 5)


@pytest.mark.parametrize(
    ("position", "bad", "reason"),
    [
        (0, 2, "unknown codec version 2"),
        (0, True, "unknown codec version True"),
        (1, 5, "unknown op 5"),
        (1, -1, "unknown op -1"),
        (1, "PUT", "unknown op 'PUT'"),
        (1, True, "unknown op True"),
        (2, b"k", "key: must be str, got bytes"),
        (2, "", "key: must be 1..1024 bytes in UTF-8, got 0"),
        (3, "new", "value: must be bytes, got str"),
        (4, 7, "expected: must be bytes, got int"),
        (5, 3, "client_id: must be str, got int"),
        (6, 0, "seq: must be in [1, 9223372036854775807], got 0"),
        (6, 1.0, "seq: must be int, got float"),
        (6, False, "seq: must be int, got bool"),
        (6, -3, "seq: must be in [1, 9223372036854775807], got -3"),
        (6, MAX_SEQ + 1, "seq: must be in [1, 9223372036854775807], got 9223372036854775808"),
    ],
)
def test_wrong_field_is_rejected(position: int, bad: object, reason: str) -> None:
    fields = command_fields(GOOD)
    fields[position] = bad
    with pytest.raises(KvDecodeError) as info:
        decode_command(pack(fields))
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        ([CODEC_VERSION, 1, "k", b"v", None, ""], "expected an array of 7 items"),
        ([CODEC_VERSION, 1, "k", b"v", None, "", 0, 0], "expected an array of 7 items"),
        ({"op": 1}, "expected an array of 7 items"),
        (b"\x01", "expected an array of 7 items"),
        ([CODEC_VERSION, 0, "k", b"v", None, "", 0], "value: must be empty for GET"),
        ([CODEC_VERSION, 3, "k", b"", b"", "", 0], "expected: must be None for DELETE"),
        (
            [CODEC_VERSION, 1, "k", b"v", None, "", 4],
            "seq: must be 0 for a command without a session",
        ),
    ],
)
def test_wrong_shape_is_rejected(obj: object, reason: str) -> None:
    with pytest.raises(KvDecodeError) as info:
        decode_command(pack(obj))
    assert info.value.reason == reason


def test_oversize_key_and_value_are_rejected_before_allocation() -> None:
    long_key = [CODEC_VERSION, 1, "k" * (MAX_KEY_BYTES + 1), b"", None, "", 0]
    with pytest.raises(KvDecodeError, match="exceeds max_str_len"):
        decode_command(pack(long_key))
    big_value = [CODEC_VERSION, 1, "k", b"v" * (MAX_VALUE_BYTES + 1), None, "", 0]
    with pytest.raises(KvDecodeError, match="exceeds max_bin_len"):
        decode_command(pack(big_value))
    long_client = [CODEC_VERSION, 1, "k", b"", None, "c" * (MAX_CLIENT_ID_BYTES + 1), 1]
    with pytest.raises(KvDecodeError, match="client_id: is 65 bytes, more than 64"):
        decode_command(pack(long_client))


def test_limits_are_inclusive() -> None:
    key = "é" * (MAX_KEY_BYTES // 2)  # two bytes each in UTF-8
    cmd = KvCommand(KvOp.PUT, key, b"v" * MAX_VALUE_BYTES)
    assert decode_command(encode_command(cmd)) == cmd


def test_non_canonical_encoding_is_rejected() -> None:
    canonical = encode_command(KvCommand(KvOp.PUT, "k", b"v", client_id="c", seq=1))
    # seq 1 written as a uint16 (0xcd 0x0001) instead of a positive fixint
    longer = canonical[:-1] + b"\xcd\x00\x01"
    with pytest.raises(KvDecodeError) as info:
        decode_command(longer)
    assert info.value.reason == "not in canonical encoding"


def test_extension_types_and_garbage_are_rejected() -> None:
    ext = pack([CODEC_VERSION, 1, "k", msgpack.ExtType(1, b"v"), None, "", 0])
    with pytest.raises(KvDecodeError, match="max_ext_len"):
        decode_command(ext)
    for garbage in (b"", b"\xc1", b"\x97", b"\xff" * 10):
        with pytest.raises(KvDecodeError, match="not strict msgpack"):
            decode_command(garbage)


def test_decoding_non_bytes_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        decode_command(bytearray(encode_command(GOOD)))  # type: ignore[arg-type]
    assert isinstance(info.value, KvCommandError)
    assert info.value.field == "command"


def decodes_canonically_or_rejects(buf: bytes) -> None:
    """Any bytes either decode to what re-encodes to them, or raise KvDecodeError (only)."""
    try:
        cmd = decode_command(buf)
    except KvDecodeError as exc:
        assert exc.what == "command"
    else:
        assert encode_command(cmd) == buf
    try:
        result = decode_result(buf)
    except KvDecodeError as exc:
        assert exc.what == "result"
    else:
        assert encode_result(result) == buf


@given(st.binary(max_size=64))
def test_decoders_raise_only_kv_decode_error_on_random_bytes(buf: bytes) -> None:
    decodes_canonically_or_rejects(buf)


msgpack_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.floats()
    | st.text(max_size=4)
    | st.binary(max_size=4),
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=12,
)


@given(
    st.tuples(
        st.just(CODEC_VERSION) | msgpack_values,
        st.integers(0, len(KvOp)) | msgpack_values,
        *[msgpack_values] * 5,
    )
)
def test_decoders_raise_only_kv_decode_error_on_random_arrays(fields: tuple[object, ...]) -> None:
    try:
        buf = pack(fields)
    except (OverflowError, ValueError):
        return  # an int msgpack cannot carry
    decodes_canonically_or_rejects(buf)


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"op": 1, "key": "k"}, "op", "must be a KvOp, got 1"),
        (
            {"op": KvOp.PUT, "key": "\ud800"},
            "key",
            "is not encodable as UTF-8 (surrogates not allowed)",
        ),
        (
            {"op": KvOp.PUT, "key": "k", "value": bytearray(b"v")},
            "value",
            "must be bytes, got bytearray",
        ),
        (
            {"op": KvOp.PUT, "key": "k", "client_id": "c"},
            "seq",
            "must be in [1, 9223372036854775807], got 0",
        ),
        ({"op": KvOp.GET, "key": "k", "expected": b""}, "expected", "must be None for GET"),
    ],
)
def test_invalid_command_construction(kwargs: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(KvCommandError) as info:
        KvCommand(**kwargs)  # type: ignore[arg-type]
    assert (info.value.field, info.value.reason) == (field, reason)
    assert isinstance(info.value, ValueError)


def test_invalid_result_construction() -> None:
    with pytest.raises(KvCommandError) as info:
        KvResult(KvStatus.NOT_FOUND, b"v", 1)
    assert (info.value.field, info.value.reason) == ("value", "must be None for status NOT_FOUND")
    with pytest.raises(KvCommandError) as info:
        KvResult(KvStatus.OK, None, -1)
    assert info.value.field == "index"
    bad = pack([CODEC_VERSION, 9, None, 1])
    with pytest.raises(KvDecodeError) as decode_info:
        decode_result(bad)
    assert decode_info.value.reason == "unknown status 9"
