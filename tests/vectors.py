"""The one loader of external test vectors (`../shared/vectors/`, see its README).

Tests must fail loudly when the vectors are missing, never skip: `vector_path` raises at
collection time with the path it looked for. `OPENTRUST_VECTORS` overrides the location.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"


def vectors_root() -> Path:
    root = Path(os.environ.get("OPENTRUST_VECTORS", DEFAULT_VECTORS))
    if not root.is_dir():
        raise FileNotFoundError(
            f"external test vectors not found at {root}; check out the shared vectors next to "
            "the project (../shared/vectors) or set OPENTRUST_VECTORS"
        )
    return root


def vector_path(*parts: str) -> Path:
    """The path of one vector file; raises if it does not exist."""
    path = vectors_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"test vector {path} is missing")
    return path


def load_json(*parts: str) -> Any:
    return json.loads(vector_path(*parts).read_text())


def read_bytes(*parts: str) -> bytes:
    return vector_path(*parts).read_bytes()
