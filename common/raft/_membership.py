"""Single-server membership changes (Raft thesis §4.1) and the history of configurations.

A configuration takes effect as soon as its CONF_CHANGE entry is appended, committed or not,
so the configuration at any log index is the base (snapshot or bootstrap) configuration with
every CONF_CHANGE entry up to that index applied. `ConfHistory` keeps one (index, conf) pair per
CONF_CHANGE entry still in the log, so a truncated suffix can be undone and a compaction knows
the configuration to store in its snapshot.
"""

from __future__ import annotations

from bisect import bisect_right

from common.raft.codec import DecodeError, decode_conf_change
from common.raft.errors import InvalidConfChange
from common.raft.types import ConfChange, ConfChangeType, ConfState, Entry


def validate_conf_change(conf: ConfState, change: ConfChange) -> None:
    """Raise InvalidConfChange unless `change` makes sense for `conf` (leader-side check)."""
    node = change.node_id
    if change.type is ConfChangeType.ADD_LEARNER and node in conf.members:
        raise InvalidConfChange(change, f"{node} is already a member")
    if change.type is ConfChangeType.PROMOTE and node not in conf.learners:
        raise InvalidConfChange(change, f"{node} is not a learner")
    if change.type is ConfChangeType.REMOVE:
        if node not in conf.members:
            raise InvalidConfChange(change, f"{node} is not a member")
        if conf.voters == {node}:
            raise InvalidConfChange(change, f"{node} is the last voter")


def apply_conf_change(conf: ConfState, change: ConfChange) -> ConfState:
    """The configuration after `change`. Total, so every node derives the same result."""
    node = change.node_id
    voters, learners = conf.voters, conf.learners
    if change.type is ConfChangeType.ADD_LEARNER:
        if node in conf.members:
            return conf
        return ConfState(voters, learners | {node})
    if change.type is ConfChangeType.PROMOTE:
        return ConfState(voters | {node}, learners - {node})
    return ConfState(voters - {node}, learners - {node})


def conf_change_of(entry: Entry) -> ConfChange | None:
    """The change a CONF_CHANGE entry carries; None if its payload is not a valid change."""
    try:
        return decode_conf_change(entry.data)
    except DecodeError:
        return None  # every node ignores the same bad payload, so configurations still agree


class ConfHistory:
    """(index, conf) pairs, ascending; the first is the base configuration of the log."""

    __slots__ = ("_confs", "_indexes")

    def __init__(self, base_index: int, base: ConfState) -> None:
        self._indexes = [base_index]
        self._confs = [base]

    @property
    def current(self) -> ConfState:
        return self._confs[-1]

    @property
    def last_index(self) -> int:
        """Index of the latest CONF_CHANGE entry (or of the base)."""
        return self._indexes[-1]

    def at(self, index: int) -> ConfState:
        """The configuration in effect once the log reaches `index`."""
        pos = bisect_right(self._indexes, index)
        return self._confs[max(pos - 1, 0)]

    def apply(self, entry: Entry) -> bool:
        """Apply a CONF_CHANGE entry appended at the end of the log; True if conf changed."""
        change = conf_change_of(entry)
        if change is None:
            return False
        conf = apply_conf_change(self.current, change)
        self._indexes.append(entry.index)
        self._confs.append(conf)
        return conf != self._confs[-2]

    def truncate_from(self, index: int) -> bool:
        """Forget changes at `index` and later (their entries were replaced); True if any."""
        pos = bisect_right(self._indexes, index - 1)
        pos = max(pos, 1)
        if pos >= len(self._indexes):
            return False
        del self._indexes[pos:]
        del self._confs[pos:]
        return True

    def compact(self, index: int) -> None:
        """The log now starts after `index`: the conf at `index` becomes the base."""
        base = self.at(index)
        pos = bisect_right(self._indexes, index)
        self._indexes = [index, *self._indexes[pos:]]
        self._confs = [base, *self._confs[pos:]]
