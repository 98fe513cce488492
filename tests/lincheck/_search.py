"""Wing & Gong's linearizability search with Lowe's memoization, for one key (as in Porcupine).

The history becomes a doubly linked list of call and return events sorted by time (a call sorts
before a return at the same time, so touching intervals count as concurrent). From a
configuration, the operations that may be linearized next are the calls that precede the first
remaining return; the search tries each (step the model, `lift` the call and its return out of
the list) depth first, and backtracks when none works. The search succeeds as soon as every
answered operation is linearized: operations that never returned (pending) may take effect
later, or never.

A configuration is (answered ops linearized, pending ops linearized, model state), the sets as
int bitsets. Lowe's cache never explores a configuration twice; it is extended here with
subsumption: a configuration is also skipped when one with the same answered set and state but
a SUBSET of its pending ops was seen, since every completion of the bigger one completes the
smaller one too (pending ops are never required). Trying answered ops before pending ones makes
the smaller configurations come first, which keeps unanswered writes (e.g. puts later
overwritten) from doubling the search each. The cost still grows quickly with the number of
unanswered writes to one key whose effects stay distinguishable (appends): keep them few.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from tests.lincheck._model import State, Step, step

DEADLINE_CHECK_STEPS = 1 << 10  # read the clock once per this many search steps


class Verdict(Enum):
    LINEARIZABLE = "linearizable"
    NOT_LINEARIZABLE = "not linearizable"
    GAVE_UP = "gave up"


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    partial: tuple[int, ...] = ()  # the longest partial linearization found (indexes into ops)
    state: State = None  # the model state after `partial`
    blocked: int = -1  # the operation whose return was reached without it being placed


class _EventList:
    """Node 0 is the head; nodes 1..2n are the events in time order; -1 ends the list."""

    def __init__(self, ops: Sequence[Step]) -> None:
        last = max((op.ret for op in ops if op.ret is not None), default=0)
        far = max(last, max((op.call for op in ops), default=0)) + 1
        events = sorted(
            [(op.call, 0, i) for i, op in enumerate(ops)]
            + [(far if op.ret is None else op.ret, 1, i) for i, op in enumerate(ops)]
        )
        size = len(events) + 1
        self.next = [*range(1, size), -1]
        self.prev = list(range(-1, size - 1))
        self.op_of = [-1] * size
        self.match = [-1] * size  # call node -> its return node; -1 for return nodes
        call_node = [0] * len(ops)
        for node, (_, is_return, i) in enumerate(events, start=1):
            self.op_of[node] = i
            if is_return:
                self.match[call_node[i]] = node
            else:
                call_node[i] = node

    def lift(self, node: int) -> None:
        """Remove a call node and its return node from the list."""
        nxt, prv = self.next, self.prev
        nxt[prv[node]] = nxt[node]
        prv[nxt[node]] = prv[node]
        ret = self.match[node]
        nxt[prv[ret]] = nxt[ret]
        if nxt[ret] != -1:
            prv[nxt[ret]] = prv[ret]

    def unlift(self, node: int) -> None:
        """Undo `lift(node)`; lifts are undone in reverse order."""
        nxt, prv = self.next, self.prev
        ret = self.match[node]
        nxt[prv[ret]] = ret
        if nxt[ret] != -1:
            prv[nxt[ret]] = ret
        nxt[prv[node]] = node
        prv[nxt[node]] = node


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


@dataclass(slots=True)
class _Frame:
    """One level of the depth-first search: the ops it may linearize next, and how it got here."""

    candidates: list[int]  # call nodes, answered ops first
    via: int  # the call node linearized to reach this level (-1 at the root)
    state_before: State  # the model state before `via`
    tried: int = 0


class _Search:
    def __init__(self, ops: Sequence[Step]) -> None:
        self.ops = ops
        self.events = _EventList(ops)
        self.remaining = sum(1 for op in ops if op.ret is not None)
        self.answered = 0  # bitset of linearized answered ops
        self.pending = 0  # bitset of linearized pending ops
        self.state: State = None
        self.seen: dict[tuple[int, State], list[int]] = {}  # -> pending bitsets seen with it
        self.frames = [_Frame(self._candidates(), -1, None)]
        self.best = Outcome(Verdict.NOT_LINEARIZABLE)

    def _candidates(self) -> list[int]:
        """Calls before the first remaining return: answered ops first, then pending ones."""
        events, ops = self.events, self.ops
        answered: list[int] = []
        pending: list[int] = []
        node = events.next[0]
        while node != -1 and events.match[node] != -1:
            (answered if ops[events.op_of[node]].ret is not None else pending).append(node)
            node = events.next[node]
        return answered + pending

    def _subsumed(self, answered: int, pending: int, state: State) -> bool:
        """Record the configuration; True if it, or one with fewer pending ops, was seen."""
        seen = self.seen.setdefault((answered, state), [])
        if any(other & ~pending == 0 for other in seen):
            return True
        seen.append(pending)
        return False

    def _descend(self, node: int) -> bool:
        """Linearize the op at call `node` next if the model and the cache allow it."""
        i = self.events.op_of[node]
        op = self.ops[i]
        possible, new_state = step(self.state, op)
        if not possible:
            return False
        answered, pending = self.answered, self.pending
        if op.ret is None:
            pending |= 1 << i
        else:
            answered |= 1 << i
        if self._subsumed(answered, pending, new_state):
            return False
        self.frames.append(_Frame([], node, self.state))
        self.answered, self.pending, self.state = answered, pending, new_state
        self.events.lift(node)
        self.remaining -= op.ret is not None
        self.frames[-1].candidates = self._candidates()
        return True

    def _backtrack(self) -> None:
        """Leave the current level: remember it if it is the deepest failure, undo its op."""
        frame = self.frames.pop()
        if len(self.frames) > len(self.best.partial) or self.best.blocked == -1:
            first_return = self.events.next[0]
            while self.events.match[first_return] != -1:
                first_return = self.events.next[first_return]
            partial = tuple(self.events.op_of[f.via] for f in self.frames[1:]) + (
                (self.events.op_of[frame.via],) if frame.via != -1 else ()
            )
            blocked = self.events.op_of[first_return]
            self.best = Outcome(Verdict.NOT_LINEARIZABLE, partial, self.state, blocked)
        if frame.via == -1:
            return
        i = self.events.op_of[frame.via]
        if self.ops[i].ret is None:
            self.pending ^= 1 << i
        else:
            self.answered ^= 1 << i
            self.remaining += 1
        self.state = frame.state_before
        self.events.unlift(frame.via)

    def run(self, deadline: float | None) -> Outcome:
        steps = 0
        while self.remaining:
            steps += 1
            if steps % DEADLINE_CHECK_STEPS == 0 and _past(deadline):
                return Outcome(Verdict.GAVE_UP)
            frame = self.frames[-1]
            if frame.tried == len(frame.candidates):
                self._backtrack()
                if not self.frames:
                    return self.best
                continue
            frame.tried += 1
            self._descend(frame.candidates[frame.tried - 1])
        return Outcome(Verdict.LINEARIZABLE)


def search(ops: Sequence[Step], deadline: float | None) -> Outcome:
    """Decide whether `ops` (all on one key, starting from an absent key) are linearizable."""
    return _Search(ops).run(deadline)
