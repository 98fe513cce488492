"""When the leader signs a new tree head, and with what timestamp (pure).

Rules: a tree head covers the whole applied (committed) tree; a new one is due when the tree
grew since the last published head, when none was published yet, or when the last one is
older than `refresh_ms` (so monitors can tell a quiet log from a stalled one). Its timestamp
is the latest of the clock, every included entry's timestamp (RFC 6962 §3.5: an STH vouches
for entries up to its time) and one more than the previous head's, so timestamps strictly
grow along the published sequence even when clocks of successive leaders disagree.
"""

from __future__ import annotations

from ctlog.errors import UsageError
from ctlog.sth import TreeHead


def next_tree_head(
    *,
    tree_size: int,
    root_hash: bytes,
    max_entry_timestamp: int,
    last: TreeHead | None,
    now_ms: int,
    refresh_ms: int,
) -> TreeHead | None:
    """The tree head to sign now, or None when the last one still stands."""
    if last is not None and tree_size < last.tree_size:
        raise UsageError(f"the tree shrank from {last.tree_size} to {tree_size}")
    if last is not None and tree_size == last.tree_size:
        if last.root_hash != root_hash:
            raise UsageError(f"two roots for tree size {tree_size}")
        if now_ms - last.timestamp < refresh_ms:
            return None
    floor = 0 if last is None else last.timestamp + 1
    return TreeHead(tree_size, max(now_ms, max_entry_timestamp, floor), root_hash)


__all__ = ["next_tree_head"]
