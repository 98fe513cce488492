"""Raft consensus: a sans-I/O core (`core`), value types, a codec, storage and an asyncio driver."""

from common.raft.errors import (
    ConfChangeInProgress,
    CorruptState,
    NotLeader,
    ProposalDropped,
    RaftError,
)
from common.raft.params import RaftParams
from common.raft.types import (
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType,
    PersistentState,
    ReadState,
    Ready,
    Role,
    Snapshot,
    SnapshotMeta,
    SoftState,
)

__all__ = [
    "ConfChange",
    "ConfChangeInProgress",
    "ConfChangeType",
    "ConfState",
    "CorruptState",
    "Entry",
    "EntryType",
    "HardState",
    "Message",
    "MessageType",
    "NotLeader",
    "PersistentState",
    "ProposalDropped",
    "RaftError",
    "RaftParams",
    "ReadState",
    "Ready",
    "Role",
    "Snapshot",
    "SnapshotMeta",
    "SoftState",
]
