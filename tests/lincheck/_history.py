"""Recorded KV client operations, as the linearizability checker takes them.

An `Operation` is one client call: what it asked (`op`, `key`, `input`, `input2`), what it got
(`output`), and when it was invoked and answered on one monotonic integer clock (`call`,
`ret`). `ret is None` means the client never got an answer (timeout, crash): the operation may
or may not have taken effect, at any time after `call`, and its `output` is ignored.

Invariants checked in `__post_init__` (a `HistoryError` otherwise):
- put/append carry `input` bytes; get/delete carry neither input; cas carries `input` = the
  expected value (None = "key absent") and `input2` = the new value (bytes);
- for an answered call, `ret >= call`; get's output is bytes or None (None = absent), cas's is a
  bool (success), put/append/delete's is None.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import UsageError

OP_NAMES = ("get", "put", "append", "delete", "cas")


class HistoryError(UsageError, ValueError):
    """An `Operation` was recorded with fields that contradict its kind or its times."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _check_optional_bytes(field: str, value: object) -> None:
    if value is not None and type(value) is not bytes:
        raise HistoryError(field, f"must be bytes or None, got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Operation:
    client: str
    op: str  # "get" | "put" | "append" | "delete" | "cas"
    key: str
    input: bytes | None  # put/append: the value; cas: the expected value (None = absent)
    input2: bytes | None  # cas: the new value; None for every other op
    output: object  # get: bytes | None; cas: bool; put/append/delete: None
    call: int  # invocation time on any monotonic integer clock
    ret: int | None  # answer time; None = never answered (may or may not have taken effect)

    def __post_init__(self) -> None:
        if self.op not in OP_NAMES:
            raise HistoryError("op", f"must be one of {OP_NAMES}, got {self.op!r}")
        if not isinstance(self.key, str) or not isinstance(self.client, str):
            raise HistoryError("key", "key and client must be str")
        if type(self.call) is not int:
            raise HistoryError("call", f"must be int, got {type(self.call).__name__}")
        if self.ret is not None and (type(self.ret) is not int or self.ret < self.call):
            raise HistoryError(
                "ret", f"must be None or an int >= call {self.call}, got {self.ret!r}"
            )
        self._check_inputs()
        if self.ret is not None:
            self._check_output()

    def _check_inputs(self) -> None:
        _check_optional_bytes("input", self.input)
        _check_optional_bytes("input2", self.input2)
        if self.op in ("put", "append") and self.input is None:
            raise HistoryError("input", f"{self.op} needs a value")
        if self.op in ("get", "delete") and self.input is not None:
            raise HistoryError("input", f"must be None for {self.op}")
        if self.op == "cas" and self.input2 is None:
            raise HistoryError("input2", "cas needs the new value")
        if self.op != "cas" and self.input2 is not None:
            raise HistoryError("input2", f"must be None for {self.op}")

    def _check_output(self) -> None:
        if self.op == "get":
            _check_optional_bytes("output", self.output)
        elif self.op == "cas":
            if type(self.output) is not bool:
                raise HistoryError("output", f"cas output must be bool, got {self.output!r}")
        elif self.output is not None:
            raise HistoryError("output", f"must be None for {self.op}, got {self.output!r}")

    def describe(self) -> str:
        """One line naming the operation, e.g. `c1 get('k') -> b'v' @[3, 5]`."""
        if self.op == "cas":
            args = f"{self.key!r}, {self.input!r}, {self.input2!r}"
        elif self.op in ("put", "append"):
            args = f"{self.key!r}, {self.input!r}"
        else:
            args = repr(self.key)
        if self.ret is None:
            return f"{self.client} {self.op}({args}) -> ? @[{self.call}, never returned]"
        shown = f" -> {self.output!r}" if self.op in ("get", "cas") else ""
        return f"{self.client} {self.op}({args}){shown} @[{self.call}, {self.ret}]"
