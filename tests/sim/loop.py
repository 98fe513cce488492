"""A single-threaded discrete-event loop in simulated milliseconds.

Timers sit in a heap ordered by `(time, seq)`; `seq` is a global counter, so events due at the
same millisecond run in the order they were scheduled and a run is fully determined by the
inputs. Other event sources (the simulated network) plug in as `EventSource`s: the loop jumps
straight to the earliest due event of any source, so idle time costs nothing.

Concurrent activities (clerks, the 6.824 clients, partitioners) are generator processes: a
process yields a `Future` to wait for it, or an `int` to sleep that many milliseconds, and the
loop resumes it with the future's value. A process that raises stops the loop: the exception
is re-raised by the `run_*` call in progress, so a failed check inside a client fails the test.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from typing import Any, Protocol

__all__ = ["TIMEOUT", "EventSource", "Future", "Process", "SimLoop"]


class _Timeout:
    """The value a `with_timeout` future takes when the deadline passes first."""

    def __repr__(self) -> str:
        return "TIMEOUT"


TIMEOUT: Any = _Timeout()

Process = Generator[Any, Any, Any]
"""A simulated activity: yields a `Future` (wait) or an int (sleep ms); may return a value."""


class Future:
    """A value that becomes available later in simulated time; set at most once."""

    __slots__ = ("_callbacks", "done", "value")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self._callbacks: list[Callable[[Any], object]] = []

    def set(self, value: Any = None) -> bool:
        """Complete the future; returns False (and does nothing) if it was already done."""
        if self.done:
            return False
        self.done = True
        self.value = value
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(value)
        return True

    def add_callback(self, callback: Callable[[Any], object]) -> None:
        if self.done:
            callback(self.value)
        else:
            self._callbacks.append(callback)


class EventSource(Protocol):
    """Something besides timers that has events due at simulated times (the network)."""

    def next_due(self) -> int | None: ...

    def run_due(self, now: int) -> None: ...


class SimLoop:
    """The clock and scheduler of one simulation run."""

    def __init__(self) -> None:
        self.now = 0
        self._timers: list[tuple[int, int, Callable[[], object]]] = []
        self._seq = 0
        self._sources: list[EventSource] = []
        self._failure: BaseException | None = None
        self.events_run = 0

    # -- scheduling -------------------------------------------------------------------------

    def add_source(self, source: EventSource) -> None:
        self._sources.append(source)

    def call_at(self, when: int, callback: Callable[[], object]) -> None:
        """Run `callback` at simulated time `when` (never earlier than now)."""
        self._seq += 1
        heapq.heappush(self._timers, (max(when, self.now), self._seq, callback))

    def call_later(self, delay_ms: int, callback: Callable[[], object]) -> None:
        self.call_at(self.now + delay_ms, callback)

    def sleep(self, delay_ms: int) -> Future:
        """A future that completes `delay_ms` from now."""
        fut = Future()
        self.call_later(delay_ms, fut.set)
        return fut

    def with_timeout(self, fut: Future, timeout_ms: int) -> Future:
        """A future with `fut`'s value, or `TIMEOUT` if `timeout_ms` passes first."""
        out = Future()
        fut.add_callback(out.set)
        self.call_later(timeout_ms, lambda: out.set(TIMEOUT))
        return out

    def spawn(self, proc: Process) -> Future:
        """Start a process now; the returned future completes with its return value."""
        result = Future()
        self._resume(proc, result, None)
        return result

    def _resume(self, proc: Process, result: Future, value: Any) -> None:
        if self._failure is not None:
            return
        try:
            waited = proc.send(value)
        except StopIteration as stop:
            result.set(stop.value)
            return
        except BaseException as exc:  # a failed check inside a process fails the run
            self._failure = exc
            return
        if isinstance(waited, int):
            waited = self.sleep(waited)
        if not isinstance(waited, Future):
            self._failure = TypeError(f"a process yielded {waited!r}; expected Future or int")
            return
        waited.add_callback(lambda v: self._resume(proc, result, v))

    # -- running ----------------------------------------------------------------------------

    def _next_time(self) -> int | None:
        best = self._timers[0][0] if self._timers else None
        for source in self._sources:
            due = source.next_due()
            if due is not None and (best is None or due < best):
                best = due
        return best

    def _run_one(self, when: int) -> None:
        self.now = when
        self.events_run += 1
        for source in self._sources:
            due = source.next_due()
            if due is not None and due <= when:
                source.run_due(when)
                return
        _, _, callback = heapq.heappop(self._timers)
        callback()

    def _raise_failure(self) -> None:
        failure = self._failure
        if failure is not None:
            raise failure

    def run_until(self, deadline: int, until: Callable[[], bool] | None = None) -> bool:
        """Run events up to simulated time `deadline`, or until `until()` holds.

        Returns True if `until` held (or was not given); the clock ends at `deadline` when the
        condition never held. `until` is checked before the first event and after each one.
        """
        while True:
            self._raise_failure()
            if until is not None and until():
                return True
            when = self._next_time()
            if when is None or when > deadline:
                self.now = max(self.now, deadline)
                return until is None
            self._run_one(when)

    def run_for(self, duration_ms: int, until: Callable[[], bool] | None = None) -> bool:
        return self.run_until(self.now + duration_ms, until)

    def run_process(self, proc: Process, limit_ms: int) -> Any:
        """Run the loop until `proc` returns (its value) or `limit_ms` passes (TIMEOUT)."""
        fut = self.spawn(proc)
        if not self.run_for(limit_ms, lambda: fut.done):
            return TIMEOUT
        return fut.value
