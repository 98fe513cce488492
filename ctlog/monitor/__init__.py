"""A CT monitor (RFC 6962 §5.3): verify a log's tree heads and entries, report matches.

`MonitorCore` (sans-I/O) checks signatures, consistency and that the entries reproduce each
signed root, and matches certificate names against `NamePattern`s; `MonitorState` is what
it persists. `MonitorDriver` runs it over asyncio against an RFC 6962 log
(`Rfc6962Source`) or a static-ct log's tiles (`TileSource`).
"""

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
    "parse_patterns",
]
