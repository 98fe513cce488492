"""The auditor's saved state: its chains and STH pool, so a restart keeps what it has seen.

File format (JSON, written atomically by the driver): `{"version": 1, "logs": [{"log_id",
"verified": [observation...], "unsettled": [observation...]}], "pool": [{"log_id",
"seen": observation}]}`. Loading is strict and re-checks every signature against the
configured keys; logs no longer configured are skipped, stale pool entries dropped.
"""

from __future__ import annotations

import base64
import json

from ctlog.auditor.core import AuditorCore
from ctlog.auditor.observation import Observation
from ctlog.errors import InputError, SignatureError
from ctlog.sth import b64decode_strict, json_uint64
from ctlog.strict_json import exact_object, strict_loads

STATE_VERSION = 1  # bumped when the layout changes
MAX_STATE_BYTES = 64 * 1024 * 1024  # bounded by the pool and chain limits; far below this


def dump_state(core: AuditorCore) -> bytes:
    logs = [
        {
            "log_id": _b64(log_id),
            "verified": [seen.to_json() for seen in audit.verified_heads],
            "unsettled": [seen.to_json() for seen in audit.unsettled_heads],
        }
        for log_id, audit in core.audits.items()
    ]
    pool = [{"log_id": _b64(e.log_id), "seen": e.seen.to_json()} for e in core.pool.entries()]
    doc = {"version": STATE_VERSION, "logs": logs, "pool": pool}
    return json.dumps(doc, separators=(",", ":")).encode()


def load_state(core: AuditorCore, data: bytes, now_ms: int) -> None:
    """Restore `core` from `data`; `InputError` if the file is malformed or forged."""
    doc = exact_object(
        strict_loads(data, max_bytes=MAX_STATE_BYTES, what="auditor state"),
        {"version", "logs", "pool"},
        "auditor state",
    )
    if json_uint64(doc["version"], "version") != STATE_VERSION:
        raise InputError(f"auditor state version {doc['version']} is not {STATE_VERSION}")
    for i, item in enumerate(_array(doc["logs"], "logs")):
        what = f"logs[{i}]"
        log = exact_object(item, {"log_id", "verified", "unsettled"}, what)
        log_id = b64decode_strict(log["log_id"], f"{what}.log_id")
        verified = _heads(core, log_id, log["verified"], f"{what}.verified")
        unsettled = _heads(core, log_id, log["unsettled"], f"{what}.unsettled")
        if core.log_key(log_id) is not None:
            core.audits[log_id].restore(verified, unsettled)
    for i, item in enumerate(_array(doc["pool"], "pool")):
        entry = exact_object(item, {"log_id", "seen"}, f"pool[{i}]")
        log_id = b64decode_strict(entry["log_id"], f"pool[{i}].log_id")
        seen = Observation.from_json(entry["seen"], f"pool[{i}].seen")
        if core.check_sth(log_id, seen.sth, now_ms) is None:
            core.pool.add(log_id, seen)


def _heads(core: AuditorCore, log_id: bytes, value: object, what: str) -> list[Observation]:
    heads = [Observation.from_json(v, f"{what}[{i}]") for i, v in enumerate(_array(value, what))]
    key = core.log_key(log_id)
    if key is not None:
        for i, seen in enumerate(heads):
            try:
                seen.sth.verify(key)
            except SignatureError:
                raise InputError(f"{what}[{i}]: signature does not verify") from None
    return heads


def _array(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise InputError(f"{what} must be an array")
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


__all__ = ["MAX_STATE_BYTES", "STATE_VERSION", "dump_state", "load_state"]
