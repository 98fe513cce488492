"""The log state machine: sequencing, dedup, tree heads, restart and all-or-nothing batches."""

from __future__ import annotations

import hashlib

import pytest

from common.store import MemoryStore, WriteBatch
from ctlog.keys import LogSigningKey
from ctlog.leaf import (
    LogEntryType,
    MerkleTreeLeaf,
    decode_extra_data,
    decode_leaf_index_extension,
)
from ctlog.log.codec import encode_batch, encode_sth
from ctlog.log.entry import LoggedEntry
from ctlog.log.machine import (
    AlreadyApplied,
    BatchApplied,
    CommandRejected,
    LogStateMachine,
    SthApplied,
)
from ctlog.log.storage import CorruptLogState
from ctlog.merkle.reference import reference_root
from ctlog.sth import SignedTreeHead, TreeHead
from tests.ctlog.log.helpers import ISSUER, ROOT, precert_entry, x509_entry

KEY = LogSigningKey.generate()


class FailingStore(MemoryStore):
    """A store whose batch writes fail while `broken` is set (a full disk)."""

    broken = False

    def write(self, batch: WriteBatch, *, sync: bool = False) -> None:
        if self.broken:
            raise OSError("disk full")
        super().write(batch, sync=sync)


def machine(store: MemoryStore | None = None) -> LogStateMachine:
    return LogStateMachine(store if store is not None else MemoryStore(), KEY.public)


def test_a_batch_gets_consecutive_indexes_and_the_reference_root() -> None:
    sm = machine()
    entries = [x509_entry(0), precert_entry(1), x509_entry(2, timestamp=5_000)]
    result = sm.apply(1, encode_batch(entries))
    assert result == BatchApplied(
        (LoggedEntry(0, 1_000), LoggedEntry(1, 1_000), LoggedEntry(2, 5_000)), 3
    )
    leaves = [MerkleTreeLeaf(e.timestamped_entry(i)).serialize() for i, e in enumerate(entries)]
    hashes = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    assert sm.merkle.root() == reference_root(hashes)
    assert (sm.applied_index, sm.tree_size, sm.max_timestamp) == (1, 3, 5_000)


def test_stored_entries_give_back_leaf_input_extra_data_and_issuers() -> None:
    sm = machine()
    sm.apply(1, encode_batch([x509_entry(0), precert_entry(1)]))
    tile_leaf = sm.reader.tile_leaf(1)
    assert decode_leaf_index_extension(tile_leaf.timestamped_entry.extensions) == 1
    leaf_input, extra = sm.reader.leaf_input_and_extra_data(tile_leaf)
    assert MerkleTreeLeaf.deserialize(leaf_input).timestamped_entry == precert_entry(
        1
    ).timestamped_entry(1)
    assert decode_extra_data(LogEntryType.PRECERT_ENTRY, extra) == [b"\x30precert-1", ISSUER, ROOT]
    assert sm.reader.issuer(hashlib.sha256(ROOT).digest()) == ROOT
    leaf_hash = MerkleTreeLeaf.deserialize(leaf_input).leaf_hash()
    assert sm.reader.index_of_leaf_hash(leaf_hash) == 1
    assert list(sm.reader.tile_leaves_bytes(0, 2))[1] == tile_leaf.serialize()


def test_a_resubmitted_entry_gets_the_logged_index_and_timestamp() -> None:
    sm = machine()
    sm.apply(1, encode_batch([x509_entry(0, timestamp=100)]))
    # Same certificate, later timestamp, other chain: the logged entry answers.
    again = x509_entry(0, timestamp=900, issuers=(ROOT,))
    result = sm.apply(2, encode_batch([x509_entry(1, timestamp=200), again]))
    assert result == BatchApplied((LoggedEntry(1, 200), LoggedEntry(0, 100, duplicate=True)), 2)
    assert sm.logged(again.identity) == LoggedEntry(0, 100, duplicate=True)


def test_duplicates_inside_one_batch_share_the_first_entry() -> None:
    sm = machine()
    result = sm.apply(1, encode_batch([x509_entry(7, 10), x509_entry(7, 20), x509_entry(8, 30)]))
    assert isinstance(result, BatchApplied)
    assert result.entries == (
        LoggedEntry(0, 10),
        LoggedEntry(0, 10, duplicate=True),
        LoggedEntry(1, 30),
    )
    assert sm.tree_size == 2


def test_restart_keeps_state_and_skips_applied_indexes() -> None:
    store = MemoryStore()
    sm = machine(store)
    sm.apply(3, encode_batch([x509_entry(0)]))
    sth = publish(sm, 4, timestamp=2_000)
    restarted = machine(store)
    assert (restarted.applied_index, restarted.tree_size) == (4, 1)
    assert restarted.latest_sth == sth
    # The Raft log is replayed from the start after a restart: nothing applies twice.
    assert restarted.apply(3, encode_batch([x509_entry(1)])) is AlreadyApplied.SKIPPED
    assert restarted.apply(4, b"junk") is AlreadyApplied.SKIPPED
    assert restarted.tree_size == 1
    assert restarted.apply(5, encode_batch([x509_entry(1)])) == BatchApplied(
        (LoggedEntry(1, 1_000),), 2
    )


def test_a_batch_whose_write_fails_leaves_nothing() -> None:
    store = FailingStore()
    sm = machine(store)
    sm.apply(1, encode_batch([x509_entry(0)]))
    before = dict(store.iterate())
    root = sm.merkle.root()
    store.broken = True
    with pytest.raises(OSError, match="disk full"):
        sm.apply(2, encode_batch([x509_entry(n) for n in range(1, 300)]))
    assert dict(store.iterate()) == before
    assert (sm.applied_index, sm.tree_size, sm.merkle.root()) == (1, 1, root)
    assert sm.logged(x509_entry(1).identity) is None
    store.broken = False
    assert sm.apply(2, encode_batch([x509_entry(1)])) == BatchApplied((LoggedEntry(1, 1_000),), 2)
    assert machine(store).merkle.root() == sm.merkle.root()


def test_undecodable_commands_are_rejected_and_only_advance_the_index() -> None:
    sm = machine()
    result = sm.apply(1, b"\x92\x01\x02")  # [1, 2]: a BATCH tag, no lists
    assert isinstance(result, CommandRejected)
    assert "batch is [tag, [issuers], [entries]]" in result.reason
    assert (sm.applied_index, sm.tree_size) == (1, 0)


def publish(sm: LogStateMachine, index: int, *, timestamp: int, size: int | None = None):
    size = sm.tree_size if size is None else size
    sth = SignedTreeHead.sign(TreeHead(size, timestamp, sm.merkle.root(size)), KEY)
    assert sm.apply(index, encode_sth(sth)) == SthApplied(True)
    return sth


def test_tree_heads_are_published_only_when_valid_and_newer() -> None:
    sm = machine()
    sm.apply(1, encode_batch([x509_entry(0), x509_entry(1)]))
    first = publish(sm, 2, timestamp=5_000, size=1)
    root2 = sm.merkle.root(2)
    cases = {
        "beyond the applied": TreeHead(3, 6_000, root2),
        "not newer": TreeHead(2, 5_000, root2),
        "not the root": TreeHead(2, 6_000, sm.merkle.root(1)),
    }
    for index, (reason, head) in enumerate(cases.items(), start=3):
        result = sm.apply(index, encode_sth(SignedTreeHead.sign(head, KEY)))
        assert isinstance(result, SthApplied) and not result.accepted
        assert reason in result.reason
    forged = SignedTreeHead.sign(TreeHead(2, 6_000, root2), LogSigningKey.generate())
    result = sm.apply(6, encode_sth(forged))
    assert isinstance(result, SthApplied) and "does not verify" in result.reason
    assert sm.latest_sth == first
    assert publish(sm, 7, timestamp=6_000).tree_size == 2


def test_the_snapshot_marker_restores_only_covered_state() -> None:
    sm = machine()
    sm.apply(1, encode_batch([x509_entry(0)]))
    marker = sm.snapshot()
    sm.apply(2, encode_batch([x509_entry(1)]))
    sm.restore(marker)  # our own state covers it: nothing to do
    behind = machine()
    with pytest.raises(CorruptLogState, match="ahead of this replica") as info:
        behind.restore(marker)
    assert "copy a peer's data directory" in str(info.value)
    with pytest.raises(CorruptLogState, match="snapshot marker"):
        sm.restore(marker[:-1])
