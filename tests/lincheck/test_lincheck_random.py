"""The checker on generated histories, and against a brute-force reference on small ones."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.lincheck import Operation, check_history

WRITE_OPS = ("put", "append", "delete", "cas")


def model_output(kind: str, state: bytes | None, op_input: bytes | None) -> object:
    if kind == "get":
        return state
    if kind == "cas":
        return state == op_input
    return None


def model_next(kind: str, state: bytes | None, op_input: bytes | None, new: bytes | None) -> object:
    if kind == "put":
        return op_input
    if kind == "append":
        assert op_input is not None
        return op_input if state is None else state + op_input
    if kind == "delete":
        return None
    if kind == "cas":
        return new if state == op_input else state
    return state


def random_history(
    rng: random.Random, n_ops: int, keys: int, clients: int, window: int, pending_rate: float
) -> list[Operation]:
    """A sequential run of the model, with each op's interval widened around its point.

    Op i takes effect at time 100 * i, inside its interval [call, ret], so the history is
    linearizable by construction. Pending writes took effect, or not, at random.
    """
    state: dict[str, bytes | None] = {}
    ops = []
    for i in range(n_ops):
        key = f"k{rng.randrange(keys)}"
        kind = rng.choice(("get", "get", *WRITE_OPS))
        current = state.get(key)
        op_input = f"{i}.".encode() if kind in ("put", "append", "cas") else None
        new = None
        if kind == "cas":
            new, op_input = op_input, rng.choice([current, current, None, b"0."])
        point = 100 * i
        call, ret = point - rng.randrange(window), point + rng.randrange(window)
        pending = kind != "get" and rng.random() < pending_rate
        output = None if pending else model_output(kind, current, op_input)
        if not pending or rng.random() < 0.5:
            state[key] = model_next(kind, current, op_input, new)  # type: ignore[assignment]
        client = f"c{i % clients}"
        ops.append(
            Operation(client, kind, key, op_input, new, output, call, None if pending else ret)
        )
    rng.shuffle(ops)  # the checker must not rely on the order of the records
    return ops


def corrupt_one_read(rng: random.Random, ops: list[Operation]) -> Operation | None:
    reads = [i for i, op in enumerate(ops) if op.op == "get" and op.ret is not None]
    if not reads:
        return None
    i = rng.choice(reads)
    ops[i] = dataclasses.replace(ops[i], output=b"\xffnever written")
    return ops[i]


@pytest.mark.parametrize("seed", range(40))
def test_generated_histories_are_accepted_and_a_corrupted_read_is_caught(seed: int) -> None:
    rng = random.Random(seed)
    ops = random_history(
        rng,
        n_ops=rng.randint(1, 120),
        keys=rng.randint(1, 4),
        clients=4,
        window=rng.choice([50, 150, 400]),
        pending_rate=0.1,
    )
    result = check_history(ops, timeout_s=None)
    assert result.ok is True, f"SEED={seed}: {result.explanation}"
    bad = corrupt_one_read(rng, ops)
    if bad is None:
        return
    result = check_history(ops, timeout_s=None)
    assert (result.ok, result.bad_key) == (False, bad.key), f"SEED={seed}"
    assert f"could not place: {bad.describe()}" in result.explanation, f"SEED={seed}"


def test_thousands_of_operations_over_tens_of_keys() -> None:
    rng = random.Random(2024)
    ops = random_history(rng, n_ops=4000, keys=30, clients=5, window=300, pending_rate=0.02)
    result = check_history(ops, timeout_s=None)
    assert result.ok is True, result.explanation
    assert result.explanation == "linearizable: 4000 operations on 30 keys"


def test_long_single_key_history() -> None:
    rng = random.Random(7)
    ops = random_history(rng, n_ops=2000, keys=1, clients=3, window=250, pending_rate=0.005)
    assert any(op.ret is None for op in ops)
    assert check_history(ops, timeout_s=None).ok is True
    bad = corrupt_one_read(rng, ops)
    assert bad is not None
    result = check_history(ops, timeout_s=None)
    assert (result.ok, result.bad_key) == (False, "k0")
    assert f"could not place: {bad.describe()}" in result.explanation


def brute_force(ops: list[Operation]) -> bool:
    """Linearizability straight from the definition: try every order of every allowed subset.

    Every answered op is in the order; a pending op may be left out. An op that answered before
    another was called must come first. Outputs of pending ops are not checked.
    """
    answered = [op for op in ops if op.ret is not None]
    pending = [op for op in ops if op.ret is None]
    for size in range(len(pending) + 1):
        for extra in itertools.combinations(pending, size):
            for order in itertools.permutations(answered + list(extra)):
                if _respects_real_time(order) and _matches_model(order):
                    return True
    return False


def _respects_real_time(order: tuple[Operation, ...]) -> bool:
    for a, b in itertools.combinations(order, 2):  # a is placed before b
        if b.ret is not None and b.ret < a.call:
            return False
    return True


def _matches_model(order: tuple[Operation, ...]) -> bool:
    state: dict[str, bytes | None] = {}
    for op in order:
        current = state.get(op.key)
        if op.ret is not None and op.output != model_output(op.op, current, op.input):
            return False
        state[op.key] = model_next(op.op, current, op.input, op.input2)  # type: ignore[assignment]
    return True


small_values = st.sampled_from([b"a", b"b"])


@st.composite
def small_histories(draw: st.DrawFn) -> list[Operation]:
    ops = []
    for n in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(("get", "get", *WRITE_OPS)))
        key = draw(st.sampled_from(["x", "x", "y"]))
        call = draw(st.integers(0, 8))
        ret = (
            draw(st.none() | st.integers(call, 10))
            if kind != "get"
            else draw(st.integers(call, 10))
        )
        op_input = draw(small_values) if kind in ("put", "append") else None
        new = None
        if kind == "cas":
            op_input, new = draw(st.none() | small_values), draw(small_values)
        output: object = None
        if kind == "get":
            output = draw(st.sampled_from([None, b"a", b"b", b"ab", b"ba", b"aa"]))
        elif kind == "cas":
            output = draw(st.booleans())
        ops.append(Operation(f"c{n}", kind, key, op_input, new, output, call, ret))
    return ops


@settings(max_examples=500, deadline=None)
@given(small_histories())
def test_agrees_with_brute_force_on_small_histories(ops: list[Operation]) -> None:
    result = check_history(ops, timeout_s=None)
    assert result.ok is brute_force(ops), result.explanation
