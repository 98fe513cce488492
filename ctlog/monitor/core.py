"""`MonitorCore`: the sans-I/O heart of a CT monitor (RFC 6962 §5.3).

The core holds a `MonitorState` and is fed two things by a driver: signed tree heads
(`accept_sth`) and contiguous runs of entries (`feed`). For each tree head it checks the
log's signature and, against the last verified tree head, the consistency proof (RFC 6962
§2.1.2) or, in tiles mode where logs serve no proofs, that the rebuilt tree will reproduce
it (`REBUILD`). It then hashes every entry into a compact range and, when the entries reach
the tree head's size, requires the range's root to equal the signed root. Any failure
raises `VerificationError` (or its `ProofError` / `SignatureError`) with evidence, and
leaves the state as it was: a call either fully applies or changes nothing.

Each call returns events in log order: `Match` for an entry whose certificate names match a
pattern, `UnparsedEntry` for one whose certificate could not be read (it is still hashed),
and `TreeHeadVerified` when a tree head has been reproduced. Driver contract: persist
`state` after a call returns and before acting on the next tree head; matches are reported
at least once (a crash between reporting and persisting repeats them).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ctlog.errors import CtlogError, ProofError, UsageError, VerificationError
from ctlog.keys import LogPublicKey
from ctlog.leaf import LogEntryType, MerkleTreeLeaf, PreCert
from ctlog.merkle import EMPTY_ROOT, hash_leaf, verify_consistency
from ctlog.merkle.compact import CompactRange
from ctlog.monitor.names import NamePattern, certificate_names, matching_names
from ctlog.monitor.state import MonitorState
from ctlog.sth import SignedTreeHead


class ConsistencyBy(enum.Enum):
    """How a new tree head is tied to the verified one when no proof is passed."""

    REBUILD = "rebuild"  # tiles mode: the rebuilt range must reach the new root


REBUILD = ConsistencyBy.REBUILD


@dataclass(frozen=True, slots=True)
class Match:
    """Entry `index` holds a certificate for `names`, of which `matched` hit a pattern."""

    index: int
    names: tuple[str, ...]
    entry_type: LogEntryType
    timestamp: int
    matched: tuple[str, ...]
    leaf_hash: bytes

    def to_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "names": list(self.names),
            "matched": list(self.matched),
            "entry_type": self.entry_type.name.lower(),
            "timestamp": self.timestamp,
            "leaf_hash": self.leaf_hash.hex(),
        }


@dataclass(frozen=True, slots=True)
class UnparsedEntry:
    """Entry `index` is in the tree, but its leaf or certificate could not be read."""

    index: int
    reason: str


@dataclass(frozen=True, slots=True)
class TreeHeadVerified:
    """The entries reproduce `sth`'s root: the monitor now stands at this tree head."""

    sth: SignedTreeHead


Event = Match | UnparsedEntry | TreeHeadVerified


class MonitorCore:
    """Verifies one log's tree heads and entries and matches certificates (sans-I/O)."""

    __slots__ = ("_key", "_state")

    def __init__(self, key: LogPublicKey, state: MonitorState) -> None:
        if state.log_id != key.log_id:
            raise UsageError(
                f"monitor state is for log {state.log_id.hex()}, not {key.log_id.hex()}"
            )
        self._key = key
        self._state = state

    @classmethod
    def start(cls, key: LogPublicKey, patterns: tuple[NamePattern, ...]) -> MonitorCore:
        return cls(key, MonitorState.initial(key.log_id, patterns))

    @property
    def key(self) -> LogPublicKey:
        return self._key

    @property
    def state(self) -> MonitorState:
        return self._state

    @property
    def target(self) -> SignedTreeHead | None:
        """The tree head the entries are being checked against, if one is pending."""
        return self._state.target_sth

    def consistency_request(self, sth: SignedTreeHead) -> tuple[int, int] | None:
        """The (first, second) sizes of the proof `accept_sth(sth, ...)` needs, if any."""
        verified = self._state.verified_sth
        if verified is None or self.target is not None:
            return None
        small, large = sorted((verified.tree_size, sth.tree_size))
        return (small, large) if 0 < small < large else None

    def accept_sth(
        self, sth: SignedTreeHead, proof: Sequence[bytes] | ConsistencyBy
    ) -> list[Event]:
        """Check a newly fetched tree head and, if it is newer, make it the target."""
        if self.target is not None:
            raise UsageError("finish the pending tree head before accepting another")
        sth.verify(self._key)
        verified = self._state.verified_sth
        if verified is not None:
            if sth.tree_size <= verified.tree_size:
                self._check_older(sth, verified, proof)
                return []
            if proof is not REBUILD:
                _check_consistency(verified, sth, proof)
        new_state = replace(self._state, target_sth=sth)
        return self._commit(new_state, [])

    def start_at(self, sth: SignedTreeHead, entries: CompactRange) -> list[Event]:
        """Begin at `sth` without its history: `entries` is the compact range of its leaves
        (see `ctlog.monitor.bootstrap`) and must reproduce its root. Entries before it are
        never matched. Only for a monitor that has seen nothing yet."""
        state = self._state
        if state.tree_size or state.verified_sth is not None or state.target_sth is not None:
            raise UsageError("only a monitor that has seen nothing can start at a tree head")
        if entries.begin != 0 or entries.end != sth.tree_size:
            raise UsageError(f"the range must cover [0, {sth.tree_size})")
        sth.verify(self._key)
        return self._commit(replace(state, entries=entries, target_sth=sth), [])

    def feed(self, start: int, leaf_inputs: Sequence[bytes]) -> list[Event]:
        """Hash and match entries `start`.. (the MerkleTreeLeaf bytes, in log order)."""
        target = self.target
        if target is None:
            raise UsageError("no tree head to check entries against: accept one first")
        if start != self._state.tree_size:
            raise UsageError(f"entries must continue at {self._state.tree_size}, not {start}")
        if start + len(leaf_inputs) > target.tree_size:
            raise UsageError(f"entries run past the target tree size {target.tree_size}")
        leaf_hashes = [hash_leaf(leaf_input) for leaf_input in leaf_inputs]
        events: list[Event] = []
        for offset, (leaf_input, leaf_hash) in enumerate(
            zip(leaf_inputs, leaf_hashes, strict=True)
        ):
            event = self._examine(start + offset, leaf_input, leaf_hash)
            if event is not None:
                events.append(event)
        entries = self._state.entries.extend(leaf_hashes)
        return self._commit(replace(self._state, entries=entries), events)

    def _commit(self, new_state: MonitorState, events: list[Event]) -> list[Event]:
        """Adopt `new_state`, first promoting its target if the entries have reached it."""
        target = new_state.target_sth
        if target is not None and new_state.tree_size == target.tree_size:
            _check_root(new_state, target)
            new_state = replace(new_state, verified_sth=target, target_sth=None)
            events.append(TreeHeadVerified(target))
        self._state = new_state
        return events

    def _check_older(
        self,
        sth: SignedTreeHead,
        verified: SignedTreeHead,
        proof: Sequence[bytes] | ConsistencyBy,
    ) -> None:
        """A tree head no larger than the verified one must be a prefix of it."""
        if sth.tree_size == verified.tree_size:
            if sth.root_hash != verified.root_hash:
                raise VerificationError(
                    f"the log signed two different roots for tree size {sth.tree_size}",
                    evidence={"sth1": verified.to_json(), "sth2": sth.to_json()},
                )
            if sth.timestamp > verified.timestamp:
                self._state = replace(self._state, verified_sth=sth)
        elif sth.tree_size == 0:
            if sth.root_hash != EMPTY_ROOT:
                raise VerificationError(
                    "the log signed a non-empty root for the empty tree",
                    evidence={"sth": sth.to_json()},
                )
        elif proof is not REBUILD:
            _check_consistency(sth, verified, proof)

    def _examine(self, index: int, leaf_input: bytes, leaf_hash: bytes) -> Event | None:
        try:
            entry = MerkleTreeLeaf.deserialize(leaf_input).timestamped_entry
            if isinstance(entry.signed_entry, PreCert):
                names = certificate_names(entry.signed_entry.tbs_certificate, is_tbs=True)
            else:
                names = certificate_names(entry.signed_entry)
        except CtlogError as exc:
            return UnparsedEntry(index, " ".join(str(exc).split()))
        matched = matching_names(self._state.patterns, names)
        if not matched:
            return None
        return Match(index, names, entry.entry_type, entry.timestamp, matched, leaf_hash)


def _check_consistency(
    older: SignedTreeHead, newer: SignedTreeHead, proof: Sequence[bytes] | ConsistencyBy
) -> None:
    """RFC 6962 §2.1.2: `proof` must show `older` is a prefix of `newer`."""
    if isinstance(proof, ConsistencyBy):
        raise UsageError("a consistency proof is needed here")
    try:
        verify_consistency(
            older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof
        )
    except ProofError as exc:
        raise ProofError(
            f"the log is inconsistent: {exc}",
            evidence={**exc.evidence, "sth1": older.to_json(), "sth2": newer.to_json()},
        ) from None


def _check_root(state: MonitorState, target: SignedTreeHead) -> None:
    """RFC 6962 §2.1: the entries' Merkle Tree Hash must be the signed root."""
    calculated = state.entries.root()
    if calculated != target.root_hash:
        previous = state.verified_sth.to_json() if state.verified_sth else None
        raise VerificationError(
            f"the log's entries do not reproduce its signed root at tree size {target.tree_size}",
            evidence={
                "tree_size": target.tree_size,
                "expected_root": target.root_hash.hex(),
                "calculated_root": calculated.hex(),
                "sth": target.to_json(),
                "previous_sth": previous,
            },
        )


__all__ = [
    "REBUILD",
    "ConsistencyBy",
    "Event",
    "Match",
    "MonitorCore",
    "TreeHeadVerified",
    "UnparsedEntry",
]
