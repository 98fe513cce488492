"""The runtime every peer process stands on (`opentrust kv serve`, `ctlog serve`, ...).

- `load_toml_config` / `parse_config`: TOML or mappings into frozen dataclass schemas, with
  errors that name the file and the field path.
- `DataDir`: the process's locked data directory, with atomic small-file writes.
- `open_node_data_dir` / `check_identity`: a data directory bound to its group and node id.
- `setup_logging` / `log_event`: human lines on a terminal, JSON lines otherwise.
- `run_until_signalled`: an asyncio main with graceful SIGTERM/SIGINT shutdown.
- `add_health_routes`: `GET /healthz` and `GET /status` on an aiohttp app.
- `progress`: a progress bar on a terminal, rate-limited log lines otherwise.
"""

from common.runtime._config import ConfigFieldError, load_toml_config, parse_config
from common.runtime._datadir import DataDir, DataDirError, DataDirLockedError, write_file_atomic
from common.runtime._health import add_health_routes
from common.runtime._identity import IDENTITY_FILE, check_identity, open_node_data_dir
from common.runtime._logging import JsonLineFormatter, log_event, setup_logging
from common.runtime._progress import ProgressReporter, progress
from common.runtime._signals import (
    EXIT_FAILURE,
    EXIT_FORCED,
    EXIT_OK,
    EXIT_USAGE,
    run_until_signalled,
)

__all__ = [
    "EXIT_FAILURE",
    "EXIT_FORCED",
    "EXIT_OK",
    "EXIT_USAGE",
    "IDENTITY_FILE",
    "ConfigFieldError",
    "DataDir",
    "DataDirError",
    "DataDirLockedError",
    "JsonLineFormatter",
    "ProgressReporter",
    "add_health_routes",
    "check_identity",
    "load_toml_config",
    "log_event",
    "open_node_data_dir",
    "parse_config",
    "progress",
    "run_until_signalled",
    "setup_logging",
    "write_file_atomic",
]
