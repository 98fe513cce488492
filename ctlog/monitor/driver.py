"""The asyncio driver of `MonitorCore`: fetch, feed in order, report, persist.

One `poll` takes the log's latest tree head to the core and, if it is newer, downloads the
entries up to it. Downloads run `concurrency` requests at a time, each for one chunk (a
get-entries page sized to what the log really returns, or one data tile), and are fed to
the core strictly in log order, so about `concurrency` chunks are held in memory (one more
while the rest of a truncated chunk is fetched).

Ordering contract (the core's): events are reported after the core accepted a chunk, and
the state is saved after reporting, at least every `SAVE_EVERY_ENTRIES` entries, after
every verified tree head and when the run stops for any reason. The core only ever holds a
consistent state, so whatever is saved resumes correctly: a restart continues at the saved
tree size, re-downloading nothing before it; matches are reported at least once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Protocol

from common.runtime import DataDir, ProgressReporter, progress
from ctlog.errors import UsageError
from ctlog.keys import LogPublicKey
from ctlog.monitor.core import Event, Match, MonitorCore, UnparsedEntry
from ctlog.monitor.names import NamePattern
from ctlog.monitor.sources import EntrySource
from ctlog.monitor.state import MonitorState
from ctlog.sth import SignedTreeHead

STATE_FILE = "monitor-state.json"
SAVE_EVERY_ENTRIES = 10_000  # bounds the work a crash repeats without an fsync per page
DEFAULT_CONCURRENCY = 4  # parallel requests: enough to hide latency, polite to the log
MAX_CONCURRENCY = 32  # past this a monitor is a load test


class MonitorSink(Protocol):
    """Where the driver reports what the core found."""

    def match(self, match: Match) -> None: ...

    def unparsed(self, entry: UnparsedEntry) -> None: ...

    def verified(self, sth: SignedTreeHead) -> None: ...


class StateStore:
    """The monitor state file in a locked `DataDir`, or nowhere (a one-off run)."""

    def __init__(self, data_dir: DataDir | None) -> None:
        self._dir = data_dir
        self.saves = 0

    def load(self, key: LogPublicKey, patterns: tuple[NamePattern, ...]) -> MonitorState:
        """The saved state for this log and watch list, or a fresh one."""
        raw = self._dir.read(STATE_FILE) if self._dir is not None else None
        if raw is None:
            return MonitorState.initial(key.log_id, patterns)
        state = MonitorState.from_json_bytes(raw)
        where = self._dir.path if self._dir is not None else "?"
        if state.log_id != key.log_id:
            raise UsageError(
                f"{where} holds the state of log {state.log_id.hex()}, not {key.log_id.hex()}; "
                "use another --state-dir"
            )
        if set(state.patterns) != set(patterns):
            saved = " ".join(str(p) for p in state.patterns)
            raise UsageError(
                f"{where} was built watching {saved}; watch the same names or use another "
                "--state-dir (earlier entries were not checked against new patterns)"
            )
        return state

    def save(self, state: MonitorState) -> None:
        if self._dir is not None:
            self._dir.write_atomic(STATE_FILE, state.to_json_bytes())
            self.saves += 1


class MonitorDriver:
    """Runs one `MonitorCore` against one `EntrySource`."""

    def __init__(
        self,
        core: MonitorCore,
        source: EntrySource,
        store: StateStore,
        sink: MonitorSink,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        show_progress: bool = True,
    ) -> None:
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise UsageError(f"concurrency must be 1..{MAX_CONCURRENCY}, got {concurrency}")
        self.core = core
        self._source = source
        self._store = store
        self._sink = sink
        self._concurrency = concurrency
        self._show_progress = show_progress
        self._unsaved = 0

    async def run(
        self,
        *,
        once: bool,
        interval_s: float,
        from_latest: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Poll until cancelled (or once); the state is saved however the run ends.

        `from_latest` starts a fresh monitor at the latest tree head (no earlier matches)."""
        try:
            if from_latest:
                await self.start_from_latest()
            while True:
                await self.poll()
                if once:
                    return
                await sleep(interval_s)
        finally:
            self._store.save(self.core.state)

    async def start_from_latest(self) -> None:
        """On a fresh state, begin at the log's latest tree head without its history."""
        state = self.core.state
        if state.tree_size or state.verified_sth is not None or state.target_sth is not None:
            return
        sth, entries = await self._source.start_range()
        self._report(self.core.start_at(sth, entries))

    async def poll(self) -> None:
        """Finish any pending tree head, else take the latest one and catch up to it."""
        if self.core.target is None:
            sth, proof = await self._source.latest(self.core)
            self._report(self.core.accept_sth(sth, proof))
        if self.core.target is not None:
            await self._catch_up()

    async def _catch_up(self) -> None:
        target = self.core.target
        if target is None:
            return
        start = self.core.state.tree_size
        with self._progress(target.tree_size - start) as bar:
            await self._download(start, target.tree_size, bar)

    async def _download(self, start: int, end: int, bar: ProgressReporter) -> None:
        """Fetch [start, end) in parallel chunks and feed them in order.

        A chunk may come back short (RFC 6962 §4.6 truncation): its remainder is asked for
        next, ahead of the chunks already in flight, which all lie after it.
        """
        pending: deque[tuple[int, int, asyncio.Task[list[bytes]]]] = deque()
        next_start = start
        try:
            while next_start < end or pending:
                width = self._concurrency if self._source.calibrated else 1
                while next_start < end and len(pending) < width:
                    chunk_end = self._source.chunk_end(next_start, end)
                    pending.append((next_start, chunk_end, self._fetch(next_start, chunk_end)))
                    next_start = chunk_end
                chunk_start, chunk_end, task = pending.popleft()
                leaf_inputs = await task
                self._feed(chunk_start, leaf_inputs, bar)
                got_end = chunk_start + len(leaf_inputs)
                if got_end < chunk_end and pending:
                    pending.appendleft((got_end, chunk_end, self._fetch(got_end, chunk_end)))
                elif got_end < chunk_end:
                    next_start = got_end  # nothing in flight: re-plan with the learned page
        finally:
            for _, _, task in pending:
                task.cancel()
            await asyncio.gather(*(task for _, _, task in pending), return_exceptions=True)

    def _fetch(self, start: int, end: int) -> asyncio.Task[list[bytes]]:
        return asyncio.create_task(self._source.fetch(start, end))

    def _feed(self, start: int, leaf_inputs: list[bytes], bar: ProgressReporter) -> None:
        self._report(self.core.feed(start, leaf_inputs))
        bar.advance(len(leaf_inputs))
        self._unsaved += len(leaf_inputs)
        if self._unsaved >= SAVE_EVERY_ENTRIES:
            self._save()

    def _report(self, events: list[Event]) -> None:
        verified = False
        for event in events:
            if isinstance(event, Match):
                self._sink.match(event)
            elif isinstance(event, UnparsedEntry):
                self._sink.unparsed(event)
            else:
                self._sink.verified(event.sth)
                verified = True
        if verified:
            self._save()

    def _save(self) -> None:
        self._store.save(self.core.state)
        self._unsaved = 0

    @contextlib.contextmanager
    def _progress(self, total: int) -> Iterator[ProgressReporter]:
        if not self._show_progress:
            yield _Quiet()
            return
        with progress(total, "verifying log entries") as bar:
            yield bar


class _Quiet:
    """A progress reporter that shows nothing."""

    completed = 0

    def advance(self, n: int = 1) -> None:
        self.completed += n


__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "SAVE_EVERY_ENTRIES",
    "STATE_FILE",
    "MonitorDriver",
    "MonitorSink",
    "StateStore",
]
