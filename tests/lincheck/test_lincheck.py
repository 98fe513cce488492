"""The linearizability checker on hand-written histories: accepted, rejected and explained."""

from __future__ import annotations

import pytest

from tests.lincheck import HistoryError, LinResult, Operation, check_history


def get(key: str, out: bytes | None, call: int, ret: int | None, client: str = "c1") -> Operation:
    return Operation(client, "get", key, None, None, out, call, ret)


def put(key: str, value: bytes, call: int, ret: int | None, client: str = "c1") -> Operation:
    return Operation(client, "put", key, value, None, None, call, ret)


def append(key: str, value: bytes, call: int, ret: int | None, client: str = "c1") -> Operation:
    return Operation(client, "append", key, value, None, None, call, ret)


def delete(key: str, call: int, ret: int | None, client: str = "c1") -> Operation:
    return Operation(client, "delete", key, None, None, None, call, ret)


def cas(
    key: str,
    expected: bytes | None,
    new: bytes,
    out: bool | None,
    call: int,
    ret: int | None,
    client: str = "c1",
) -> Operation:
    return Operation(client, "cas", key, expected, new, out, call, ret)


def assert_rejected(result: LinResult, key: str, culprit: Operation) -> None:
    assert result.ok is False, result.explanation
    assert result.bad_key == key
    assert f"could not place: {culprit.describe()}" in result.explanation


def test_empty_history_is_linearizable() -> None:
    result = check_history([])
    assert (result.ok, result.bad_key) == (True, None)


def test_sequential_history_of_every_op() -> None:
    ops = [
        get("x", None, 0, 1),
        put("x", b"a", 2, 3),
        get("x", b"a", 4, 5),
        append("x", b"b", 6, 7),
        get("x", b"ab", 8, 9),
        append("y", b"z", 10, 11),  # append to an absent key = the value
        get("y", b"z", 12, 13),
        delete("x", 14, 15),
        get("x", None, 16, 17),
        cas("x", None, b"1", True, 18, 19),
        cas("x", None, b"2", False, 20, 21),
        cas("x", b"1", b"3", True, 22, 23),
        get("x", b"3", 24, 25),
        put("x", b"", 26, 27),
        get("x", b"", 28, 29),  # empty is present, not absent
    ]
    result = check_history(ops)
    assert result.ok is True, result.explanation
    assert result.explanation == "linearizable: 15 operations on 2 keys"


def test_concurrent_writes_may_land_in_either_order() -> None:
    ops = [
        put("x", b"1", 0, 10, "c1"),
        put("x", b"2", 1, 9, "c2"),
        get("x", b"1", 11, 12, "c3"),  # so put 2 was linearized first
        append("y", b"a", 0, 5, "c1"),
        append("y", b"b", 0, 5, "c2"),
        get("y", b"ba", 6, 7, "c3"),
    ]
    assert check_history(ops).ok is True


def test_read_concurrent_with_a_write_may_see_either_value() -> None:
    for seen in (b"old", b"new"):
        ops = [
            put("x", b"old", 0, 1),
            put("x", b"new", 2, 10, "c1"),
            get("x", seen, 3, 4, "c2"),
        ]
        assert check_history(ops).ok is True, seen


def test_touching_intervals_count_as_concurrent() -> None:
    ops = [put("x", b"a", 0, 5), get("x", None, 5, 6, "c2")]
    assert check_history(ops).ok is True


def test_pending_write_that_took_effect() -> None:
    ops = [
        append("x", b"a", 0, None, "c1"),
        get("x", None, 5, 6, "c2"),  # not yet ...
        get("x", b"a", 7, 8, "c2"),  # ... and now it has
    ]
    assert check_history(ops).ok is True


def test_pending_write_that_never_took_effect() -> None:
    ops = [put("x", b"lost", 0, None), get("x", None, 100, 101, "c2"), get("x", None, 200, 201)]
    assert check_history(ops).ok is True


def test_pending_cas_and_read_ignore_their_output() -> None:
    ops = [
        put("x", b"0", 0, 1),
        cas("x", b"0", b"1", None, 2, None),
        get("x", b"nonsense", 3, None),
        get("x", b"1", 4, 5),
    ]
    assert check_history(ops).ok is True


def test_stale_read_is_rejected() -> None:
    stale = get("x", b"a", 4, 5, "c2")
    ops = [put("x", b"a", 0, 1), put("x", b"b", 2, 3), stale]
    result = check_history(ops)
    assert_rejected(result, "x", stale)
    assert "model state after it: b'b'" in result.explanation


def test_lost_append_is_rejected() -> None:
    missing = get("x", b"a", 4, 5, "c2")
    ops = [append("x", b"a", 0, 1), append("x", b"b", 2, 3), missing]
    assert_rejected(check_history(ops), "x", missing)


def test_duplicated_append_is_rejected() -> None:
    twice = get("x", b"aa", 2, 3, "c2")
    ops = [append("x", b"a", 0, 1), twice]
    assert_rejected(check_history(ops), "x", twice)


def test_read_of_a_value_never_written_is_rejected() -> None:
    invented = get("k2", b"zzz", 10, 11, "c3")
    ops = [put("k1", b"a", 0, 1), put("k2", b"b", 2, 30, "c2"), invented, get("k1", b"a", 12, 13)]
    assert_rejected(check_history(ops), "k2", invented)


def test_cas_that_succeeds_twice_on_the_same_expected_value_is_rejected() -> None:
    second = cas("x", b"0", b"2", True, 4, 5, "c2")
    ops = [put("x", b"0", 0, 1), cas("x", b"0", b"1", True, 2, 3), second]
    assert_rejected(check_history(ops), "x", second)


def test_concurrent_cas_cannot_both_succeed() -> None:
    ops = [
        put("x", b"0", 0, 1),
        cas("x", b"0", b"1", True, 2, 10, "c1"),
        cas("x", b"0", b"2", True, 3, 9, "c2"),
    ]
    result = check_history(ops)
    assert (result.ok, result.bad_key) == (False, "x")
    assert "could not place: c1 cas('x', b'0', b'1') -> True @[2, 10]" in result.explanation


def test_pending_write_cannot_be_seen_then_unseen() -> None:
    flip = get("x", None, 7, 8, "c2")
    ops = [append("x", b"a", 0, None), get("x", b"a", 5, 6, "c2"), flip]
    assert_rejected(check_history(ops), "x", flip)


def test_readers_disagreeing_on_the_order_of_concurrent_writes() -> None:
    # Both puts are over by time 10, so after it every read must see the same last value.
    other = get("x", b"2", 13, 14, "c4")
    ops = [
        put("x", b"1", 0, 10, "c1"),
        put("x", b"2", 0, 10, "c2"),
        get("x", b"1", 11, 12, "c3"),
        other,
        get("x", b"1", 15, 16, "c3"),
    ]
    assert_rejected(check_history(ops), "x", other)


def test_a_failure_names_the_bad_key_among_good_ones() -> None:
    bad = get("m", b"old", 50, 51)
    ops = [put(k, b"v", 0, 1) for k in "abcdefghij"]
    ops += [get(k, b"v", 2, 3) for k in "abcdefghij"]
    ops += [put("m", b"old", 0, 1), put("m", b"new", 10, 11), bad]
    result = check_history(ops)
    assert_rejected(result, "m", bad)
    assert result.explanation.startswith("key 'm': not linearizable (3 operations on this key).")


def test_explanation_lists_the_longest_partial_linearization() -> None:
    stale = get("x", b"1", 20, 21)
    ops = [put("x", b"1", 0, 1), append("x", b"2", 2, 3), append("x", b"3", 4, 5), stale]
    text = check_history(ops).explanation
    assert "Longest partial linearization of that prefix (3 of 4 operations):" in text
    assert "  1. c1 put('x', b'1') @[0, 1]" in text
    assert "  3. c1 append('x', b'3') @[4, 5]" in text
    assert "model state after it: b'123'" in text


def test_timeout_before_a_key_gives_an_undecided_result() -> None:
    ops = [put("a", b"1", 0, 1), get("b", None, 0, 1)]
    result = check_history(ops, timeout_s=0.0)
    assert (result.ok, result.bad_key) == (None, None)
    assert result.explanation == (
        "UNDECIDED: gave up after 0.0 s while checking key 'a' (1 operations);"
        " 0 of 2 keys were linearizable"
    )


def test_timeout_inside_a_search_gives_an_undecided_result() -> None:
    # 16 unanswered appends and a read no order can explain: refuting it means trying every
    # ordered subset of the appends (about 5.7e13), far beyond the time allowed.
    ops = [append("x", bytes([65 + i]), i, None, f"c{i}") for i in range(16)]
    ops += [put("a", b"1", 0, 1), get("x", b"never", 100, 101)]
    result = check_history(ops, timeout_s=0.2)
    assert (result.ok, result.bad_key) == (None, None)
    assert "while checking key 'x' (17 operations); 1 of 2 keys were linearizable" in (
        result.explanation
    )


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        (("c", "scan", "k", None, None, None, 0, 1), "op", "must be one of"),
        (("c", "put", "k", None, None, None, 0, 1), "input", "put needs a value"),
        (("c", "get", "k", b"v", None, None, 0, 1), "input", "must be None for get"),
        (("c", "cas", "k", b"v", None, True, 0, 1), "input2", "cas needs the new value"),
        (("c", "put", "k", b"v", b"w", None, 0, 1), "input2", "must be None for put"),
        (("c", "get", "k", None, None, "text", 0, 1), "output", "must be bytes or None, got str"),
        (("c", "cas", "k", None, b"v", 1, 0, 1), "output", "cas output must be bool, got 1"),
        (("c", "put", "k", b"v", None, b"v", 0, 1), "output", "must be None for put"),
        (("c", "put", "k", b"v", None, None, 5, 4), "ret", "must be None or an int >= call 5"),
        (("c", "put", "k", b"v", None, None, 0.5, 4), "call", "must be int, got float"),
    ],
)
def test_malformed_operations_are_refused(
    args: tuple[object, ...], field: str, reason: str
) -> None:
    with pytest.raises(HistoryError) as info:
        Operation(*args)  # type: ignore[arg-type]
    assert info.value.field == field
    assert info.value.reason.startswith(reason)
