"""A CT monitor (RFC 6962 §5.3): verify a log's tree heads and entries, report matches.

`MonitorCore` (sans-I/O) checks signatures, consistency and that the entries reproduce each
signed root, and matches certificate names against `NamePattern`s; `MonitorState` is what
it persists; `bootstrap` lets it start at a tree head without the history. `MonitorDriver`
runs it over asyncio against an RFC 6962 log (`Rfc6962Source`) or a static-ct log's tiles
(`TileSource`).
"""

from ctlog.monitor.bootstrap import (
    compact_range_from_last_leaf,
    compact_range_from_tiles,
    tiles_for_range,
)
from ctlog.monitor.core import (
    REBUILD,
    ConsistencyBy,
    Event,
    Match,
    MonitorCore,
    TreeHeadVerified,
    UnparsedEntry,
)
from ctlog.monitor.driver import MonitorDriver, MonitorSink, StateStore
from ctlog.monitor.names import NamePattern, PatternKind, certificate_names, parse_patterns
from ctlog.monitor.sources import EntrySource, Rfc6962Source, TileSource
from ctlog.monitor.state import MonitorState

__all__ = [
    "REBUILD",
    "ConsistencyBy",
    "EntrySource",
    "Event",
    "Match",
    "MonitorCore",
    "MonitorDriver",
    "MonitorSink",
    "MonitorState",
    "NamePattern",
    "PatternKind",
    "Rfc6962Source",
    "StateStore",
    "TileSource",
    "TreeHeadVerified",
    "UnparsedEntry",
    "certificate_names",
    "compact_range_from_last_leaf",
    "compact_range_from_tiles",
    "parse_patterns",
    "tiles_for_range",
]
