"""`MonitorDriver` against the fake log over HTTP: RFC 6962 and tiles, resume, detection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from common.runtime import DataDir
from ctlog.checkpoint import RFC6962NoteVerifier
from ctlog.client import LogClient
from ctlog.errors import LogUnavailable, ProofError, VerificationError
from ctlog.monitor.core import Match, MonitorCore, UnparsedEntry
from ctlog.monitor.driver import STATE_FILE, MonitorDriver, StateStore
from ctlog.monitor.names import parse_patterns
from ctlog.monitor.sources import EntrySource, Rfc6962Source, TileSource
from ctlog.monitor.state import MonitorState
from ctlog.sth import SignedTreeHead
from tests.ctlog.fakelog import FakeLog, dev_pki, serving

PATTERNS = parse_patterns(["*.example.com"])


class Collect:
    def __init__(self) -> None:
        self.matches: list[Match] = []
        self.unreadable: list[UnparsedEntry] = []
        self.verified_sths: list[SignedTreeHead] = []

    def match(self, match: Match) -> None:
        self.matches.append(match)

    def unparsed(self, entry: UnparsedEntry) -> None:
        self.unreadable.append(entry)

    def verified(self, sth: SignedTreeHead) -> None:
        self.verified_sths.append(sth)

    @property
    def indexes(self) -> list[int]:
        return [m.index for m in self.matches]


def grow(log: FakeLog, count: int) -> None:
    """Add `count` entries; every third one is watched."""
    start = len(log.entries)
    for i in range(start, start + count):
        zone = "example.com" if i % 3 == 0 else "other.net"
        log.submit(log.pki.issue_leaf([f"h{i}.{zone}"]))


@pytest.fixture
def fake() -> FakeLog:
    log = FakeLog(dev_pki(), max_get_entries=7)
    grow(log, 40)
    return log


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[DataDir]:
    with DataDir(tmp_path / "state") as data_dir:
        yield data_dir


def driver_for(
    fake: FakeLog, client: LogClient, data_dir: DataDir, sink: Collect, *, tiles: bool = False
) -> MonitorDriver:
    store = StateStore(data_dir)
    core = MonitorCore(fake.key.public, store.load(fake.key.public, PATTERNS))
    source: EntrySource
    if tiles:
        source = TileSource(client, RFC6962NoteVerifier(fake.key.public, fake.origin))
    else:
        source = Rfc6962Source(client)
    return MonitorDriver(core, source, store, sink, show_progress=False)


def saved(data_dir: DataDir) -> MonitorState:
    raw = data_dir.read(STATE_FILE)
    assert raw is not None
    return MonitorState.from_json_bytes(raw)


async def test_full_run_sizes_requests_to_the_logs_pages(fake: FakeLog, state_dir: DataDir) -> None:
    sink = Collect()
    async with serving(fake) as url, LogClient(url) as client:
        await driver_for(fake, client, state_dir, sink).run(once=True, interval_s=1)
    assert sink.indexes == list(range(0, 40, 3))
    assert sink.verified_sths == [fake.sth]
    assert fake.requests["/ct/v1/get-entries"] == 6  # ceil(40 / 7): no request asks twice
    assert fake.served_entries == 40
    assert saved(state_dir).verified_sth == fake.sth


async def test_tiles_give_the_same_matches(fake: FakeLog, state_dir: DataDir) -> None:
    grow(fake, 260)  # one full data tile and a partial one
    rfc, tiles = Collect(), Collect()
    async with serving(fake) as url, LogClient(url) as client:
        await driver_for(fake, client, state_dir, tiles, tiles=True).run(once=True, interval_s=1)
        core = MonitorCore.start(fake.key.public, PATTERNS)
        driver = MonitorDriver(
            core, Rfc6962Source(client), StateStore(None), rfc, show_progress=False
        )
        await driver.run(once=True, interval_s=1)
    assert tiles.matches == rfc.matches and len(tiles.matches) == 100
    assert tiles.verified_sths == [fake.sth]
    assert fake.requests["/tile/data/000"] == 1 and fake.requests["/tile/data/001.p/44"] == 1


async def test_interrupted_run_resumes_without_re_downloading(
    fake: FakeLog, state_dir: DataDir
) -> None:
    fake.inject("/ct/v1/get-entries", 503, times=100, after=3)
    first = Collect()
    async with serving(fake) as url:
        async with LogClient(url, max_attempts=2, backoff_s=0.001) as client:
            with pytest.raises(LogUnavailable):
                await driver_for(fake, client, state_dir, first).run(once=True, interval_s=1)
        interrupted = saved(state_dir)
        assert 7 <= interrupted.tree_size <= 21 and interrupted.target_sth == fake.sth
        assert first.indexes == list(range(0, interrupted.tree_size, 3))
        fake.faults.clear()
        served_before = fake.served_entries
        second = Collect()
        async with LogClient(url) as client:
            await driver_for(fake, client, state_dir, second).run(once=True, interval_s=1)
    # the second run fetched only what the first had not verified and saved
    assert fake.served_entries - served_before == 40 - interrupted.tree_size
    assert fake.requests["/ct/v1/get-sth"] == 1  # it finished the saved tree head first
    assert first.indexes + second.indexes == list(range(0, 40, 3))
    assert saved(state_dir).verified_sth == fake.sth


async def test_polling_follows_growth_with_consistency_proofs(
    fake: FakeLog, state_dir: DataDir
) -> None:
    sink = Collect()
    polls: list[float] = []

    class Stop(Exception):
        pass

    async def sleep(delay: float) -> None:
        polls.append(delay)
        if len(polls) == 2:
            raise Stop
        grow(fake, 5)

    async with serving(fake) as url, LogClient(url) as client:
        with pytest.raises(Stop):
            await driver_for(fake, client, state_dir, sink).run(
                once=False, interval_s=9, sleep=sleep
            )
    assert polls == [9, 9]
    assert [s.tree_size for s in sink.verified_sths] == [40, 45]
    assert fake.requests["/ct/v1/get-sth-consistency"] == 1
    assert sink.indexes == list(range(0, 45, 3))
    assert saved(state_dir).tree_size == 45


async def test_entries_that_miss_the_signed_root_stop_the_monitor(
    fake: FakeLog, state_dir: DataDir
) -> None:
    fake.entries[30] = fake.entries[31]  # the log serves other data than it signed
    sink = Collect()
    async with serving(fake) as url, LogClient(url) as client:
        with pytest.raises(VerificationError) as info:
            await driver_for(fake, client, state_dir, sink).run(once=True, interval_s=1)
    assert info.value.evidence["expected_root"] == fake.sth.root_hash.hex()
    assert info.value.evidence["calculated_root"] != fake.sth.root_hash.hex()
    assert sink.verified_sths == []
    after = saved(state_dir)  # still loadable, short of the bad tree head
    assert after.verified_sth is None and after.target_sth == fake.sth and after.tree_size == 35


async def test_an_inconsistent_later_tree_head_is_caught(fake: FakeLog, state_dir: DataDir) -> None:
    sink = Collect()
    async with serving(fake) as url, LogClient(url) as client:
        await driver_for(fake, client, state_dir, sink).run(once=True, interval_s=1)
        good = fake.sth
        fake.entries[2] = fake.entries[3]  # rewrite history, then grow and sign
        grow(fake, 1)
        with pytest.raises(ProofError) as info:
            await driver_for(fake, client, state_dir, sink).run(once=True, interval_s=1)
    assert info.value.evidence["sth1"] == good.to_json()
    assert info.value.evidence["sth2"] == fake.sth.to_json()
    assert saved(state_dir).verified_sth == good


async def test_tiles_mode_catches_a_rewritten_history(fake: FakeLog, state_dir: DataDir) -> None:
    sink = Collect()
    async with serving(fake) as url, LogClient(url) as client:
        await driver_for(fake, client, state_dir, sink, tiles=True).run(once=True, interval_s=1)
        fake.entries[2] = fake.entries[3]
        grow(fake, 1)
        with pytest.raises(VerificationError) as info:
            await driver_for(fake, client, state_dir, sink, tiles=True).run(once=True, interval_s=1)
    assert info.value.evidence["tree_size"] == 41


async def test_partial_tile_gone_falls_back_to_the_full_tile(state_dir: DataDir) -> None:
    log = FakeLog(dev_pki())
    grow(log, 30)
    old = log.sth
    grow(log, 256 - 30)
    log.sth = old  # the log has filled tile 0 and dropped its partial form
    log.inject("/tile/data/000.p/30", 404, times=5)
    sink = Collect()
    async with serving(log) as url, LogClient(url) as client:
        await driver_for(log, client, state_dir, sink, tiles=True).run(once=True, interval_s=1)
    assert sink.verified_sths == [old] and log.requests["/tile/data/000"] == 1


@pytest.mark.parametrize("tiles", [False, True], ids=["rfc6962", "tiles"])
async def test_from_latest_skips_history(fake: FakeLog, state_dir: DataDir, tiles: bool) -> None:
    grow(fake, 260)  # 300 entries: the tiles path needs a level-1 tile
    first = Collect()
    async with serving(fake) as url, LogClient(url) as client:
        driver = driver_for(fake, client, state_dir, first, tiles=tiles)
        await driver.run(once=True, interval_s=1, from_latest=True)
        assert first.matches == [] and first.verified_sths == [fake.sth]
        assert fake.served_entries == 0 and not any("/tile/data/" in p for p in fake.requests)
        grow(fake, 3)
        second = Collect()
        driver = driver_for(fake, client, state_dir, second, tiles=tiles)
        await driver.run(once=True, interval_s=1, from_latest=True)  # resumes: no effect now
    assert second.indexes == [300] and second.verified_sths == [fake.sth]
    assert saved(state_dir).tree_size == 303
