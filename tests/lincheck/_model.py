"""The sequential model of one key, and the compact form of operations the search steps.

State: the key's value, `bytes`, or None when absent. get returns it; put sets it; append
concatenates (append to an absent key = the value); delete makes it absent; cas(expected, new)
succeeds iff the value equals `expected` (None = absent) and then sets `new`. An operation that
never returned is unconstrained in its output: stepping it always succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.lincheck._history import OP_NAMES, Operation

GET, PUT, APPEND, DELETE, CAS = range(len(OP_NAMES))
_KINDS = {name: kind for kind, name in enumerate(OP_NAMES)}

State = bytes | None


@dataclass(frozen=True, slots=True)
class Step:
    """One operation as the search sees it; `source` is the recorded `Operation`."""

    kind: int
    arg: bytes | None
    arg2: bytes | None
    output: object
    call: int
    ret: int | None  # None = pending: may take effect at any time after `call`, or never
    source: Operation

    @classmethod
    def of(cls, op: Operation) -> Step:
        return cls(_KINDS[op.op], op.input, op.input2, op.output, op.call, op.ret, op)

    def pending(self) -> Step:
        """The same call, as if its answer had not arrived (yet)."""
        return Step(self.kind, self.arg, self.arg2, None, self.call, None, self.source)


def step(state: State, op: Step) -> tuple[bool, State]:
    """Apply `op` to `state`: (whether its recorded output is possible, the next state)."""
    kind = op.kind
    if kind == GET:
        return op.ret is None or op.output == state, state
    if kind == PUT:
        return True, op.arg
    if kind == APPEND:
        assert op.arg is not None  # Operation guarantees it
        return True, op.arg if state is None else state + op.arg
    if kind == DELETE:
        return True, None
    succeeded = state == op.arg
    if op.ret is not None and op.output is not succeeded:
        return False, state
    return True, op.arg2 if succeeded else state
