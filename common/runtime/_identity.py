"""A peer's data directory bound to its group and node: `identity.json`.

On first start the directory records the name of the group the node belongs to (a KV cluster,
a CT log) and the node id; a later start whose configuration names another group or node is
refused, so a replica never runs on another replica's data.
"""

from __future__ import annotations

import json
from pathlib import Path

from common.errors import ConfigError
from common.runtime._datadir import DataDir

__all__ = ["IDENTITY_FILE", "check_identity", "open_node_data_dir"]

IDENTITY_FILE = "identity.json"


def check_identity(data_dir: DataDir, cluster: str, node_id: str) -> None:
    """Refuse a data directory that belongs to another cluster or node."""
    wanted = {"cluster": cluster, "node_id": node_id}
    raw = data_dir.read(IDENTITY_FILE)
    if raw is None:
        data_dir.write_atomic(IDENTITY_FILE, json.dumps(wanted).encode())
        return
    try:
        stored = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{data_dir.path / IDENTITY_FILE} is not valid JSON: {exc}") from exc
    if stored != wanted:
        raise ConfigError(
            f"data directory {data_dir.path} belongs to cluster {stored.get('cluster')!r} "
            f"node {stored.get('node_id')!r}, but this process was started as cluster "
            f"{cluster!r} node {node_id!r}; use the right --id or another data_dir"
        )


def open_node_data_dir(path: Path, cluster: str, node_id: str) -> DataDir:
    """Lock the data directory at `path` and check it belongs to `cluster` and `node_id`."""
    data_dir = DataDir(path)
    try:
        check_identity(data_dir, cluster, node_id)
    except BaseException:
        data_dir.close()
        raise
    return data_dir
