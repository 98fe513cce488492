"""The shared core of opentrust: storage, networking, simulation, Raft and the replicated KV store.

Sub-packages: `common.store`, `common.net`, `common.raft`, `common.kv`, `common.runtime`.
Each declares its public names in `__all__`.
"""

from common.errors import CommonError, ConfigError, PeerError, UsageError

__all__ = ["CommonError", "ConfigError", "PeerError", "UsageError"]
