"""The node monitor: tip lines and the catch-up flush, sync lines, progress, peer changes."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from btcnode.consensus.params import REGTEST
from btcnode.daemon.monitor import NodeMonitor, peer_changes
from btcnode.daemon.services import NodeServices
from btcnode.p2p.control import ConnectionType, PeerInfo
from common.runtime import DataDir
from tests.btcnode.scenarios.helpers import T0, key, new_node, p2wpkh

MINER = key("miner")
PEER = PeerInfo(
    id=1,
    addr="127.0.0.1:1",
    addrbind="127.0.0.1:2",
    services=9,
    relaytxes=True,
    lastsend=0,
    lastrecv=0,
    bytessent=0,
    bytesrecv=0,
    conntime=0,
    timeoffset=0,
    pingtime=None,
    minping=None,
    version=70016,
    subver="/x/",
    inbound=False,
    startingheight=5,
    synced_headers=-1,
    synced_blocks=-1,
    inflight=(),
    connection_type=ConnectionType.MANUAL,
    misbehavior_score=0,
)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def services(tmp_path: Path) -> Iterator[NodeServices]:
    with DataDir(tmp_path / "regtest") as datadir:
        opened, _ = NodeServices.open(datadir, REGTEST, par=1, now=T0)
        try:
            yield opened
        finally:
            opened.close()


def _monitor(
    services: NodeServices, stream: io.StringIO | None = None
) -> tuple[NodeMonitor, list[Callable[[], None]]]:
    scheduled: list[Callable[[], None]] = []
    monitor = NodeMonitor(services, scheduled.append, stream or io.StringIO())
    services.node.subscribe(monitor.on_node_event)
    return monitor, scheduled


def _tips(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [r.event_fields["height"] for r in caplog.records if r.getMessage() == "new tip"]  # type: ignore[attr-defined]


def test_a_caught_up_node_logs_each_tip_and_flushes_once_after_the_change(
    services: NodeServices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _, scheduled = _monitor(services)
    services.node.generate(3, p2wpkh(MINER), T0)
    assert _tips(caplog) == [1, 2, 3]
    assert services.chainstate.unflushed_blocks == 3  # the write-back cache holds them
    assert len(scheduled) == 1  # one flush for the whole change
    scheduled[0]()
    assert services.chainstate.unflushed_blocks == 0


def test_while_syncing_no_tip_lines_no_flush_but_sync_lines_and_a_bar(
    services: NodeServices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    terminal = FakeTerminal()
    monitor, scheduled = _monitor(services, terminal)
    blocks = new_node().generate(12, p2wpkh(MINER), T0)
    services.chainstate.accept_headers([b.header for b in blocks], T0)
    services.node.submit_block(blocks[0], T0)
    monitor.tick(100.0)
    assert (_tips(caplog), scheduled) == ([], [])
    syncing = [r for r in caplog.records if r.getMessage() == "syncing"]
    assert [r.event_fields for r in syncing] == [  # type: ignore[attr-defined]
        {"height": 1, "headers": 12, "behind": 11}
    ]
    for block in blocks[1:]:
        services.node.submit_block(block, T0)
    monitor.tick(101.0)  # caught up: the bar closes
    assert "blocks / headers" in terminal.getvalue()
    assert _tips(caplog) == [12] and len(scheduled) == 1
    scheduled[0]()
    assert services.chainstate.unflushed_blocks == 0


def test_peers_are_logged_once_their_handshake_is_done(
    services: NodeServices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    class Peers:
        infos: list[PeerInfo] = []

        def peer_info(self) -> list[PeerInfo]:
            return self.infos

    monitor, _ = _monitor(services)
    peers = Peers()
    monitor.peer_control = peers  # type: ignore[assignment]
    peers.infos = [replace(PEER, version=0)]  # connected, no version yet
    monitor.tick(1.0)
    peers.infos = [PEER]
    monitor.tick(2.0)
    peers.infos = []
    monitor.tick(3.0)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("peer")]
    assert lines == ["peer connected", "peer disconnected"]


def test_peer_changes_diff_by_id() -> None:
    other = replace(PEER, id=2)
    assert peer_changes({1: PEER}, {2: other}) == ([other], [PEER])
    assert peer_changes({1: PEER}, {1: PEER}) == ([], [])
