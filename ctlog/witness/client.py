"""`request_cosignature`: ask a witness to cosign a checkpoint (C2SP tlog-witness client side).

One POST, no retries: a 409 needs a new consistency proof from the caller, which only the log
can build. Answers map to typed errors: 409 `OldSizeConflict` (with the witness's size when
the answer is `text/x.tlog.size`), 422 `ProofRejected`, 403 `SignatureRejected`, 404
`UnknownLog`, other 4xx `WitnessRejected`; 429, 5xx, timeouts and connection failures
`LogUnavailable`. A 200 body must be well-formed signature lines, and is returned as is.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from ctlog.client import read_bounded
from ctlog.errors import LogUnavailable, UsageError
from ctlog.note import Note
from ctlog.witness.errors import (
    OldSizeConflict,
    ProofRejected,
    SignatureRejected,
    UnknownLog,
    WitnessRejected,
)
from ctlog.witness.request import (
    ADD_CHECKPOINT_PATH,
    MAX_RESPONSE_BYTES,
    SIZE_CONTENT_TYPE,
    AddCheckpointRequest,
    parse_cosignature_lines,
    parse_size_body,
)

DEFAULT_TIMEOUT_S = 10.0  # a witness verifies one signature and fsyncs once; 10 s is generous
_REJECTIONS = {422: ProofRejected, 403: SignatureRejected, 404: UnknownLog}


async def request_cosignature(
    witness_url: str,
    old_size: int,
    proof: Sequence[bytes],
    note_bytes: bytes,
    *,
    session: aiohttp.ClientSession | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> bytes:
    """The witness's cosignature lines for the signed checkpoint `note_bytes`, given the
    consistency proof from `old_size` (the size the witness holds, 0 if it holds none)."""
    if not witness_url.startswith(("http://", "https://")):
        raise UsageError(f"witness URL must start with http:// or https://: {witness_url!r}")
    body = AddCheckpointRequest(old_size, tuple(proof), Note.parse(note_bytes)).serialize()
    url = witness_url.rstrip("/") + ADD_CHECKPOINT_PATH
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    owned = session is None
    http = session if session is not None else aiohttp.ClientSession()
    try:
        async with http.post(url, data=body, timeout=timeout) as resp:
            answer = await read_bounded(resp, MAX_RESPONSE_BYTES, f"witness {url}")
            return _interpret(url, resp.status, resp.headers.get("Content-Type", ""), answer)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise LogUnavailable(f"witness {url} unreachable: {type(exc).__name__} {exc}") from None
    finally:
        if owned:
            await http.close()


def _interpret(url: str, status: int, content_type: str, answer: bytes) -> bytes:
    if status == 200:
        parse_cosignature_lines(answer)
        return answer
    reason = answer[:200].decode("utf-8", errors="replace").strip() or f"HTTP {status}"
    if status == 409:
        size = parse_size_body(answer) if content_type == SIZE_CONTENT_TYPE else None
        shown = f"the witness holds size {size}" if size is not None else reason
        raise OldSizeConflict(f"witness {url}: conflict: {shown}", witness_size=size)
    if status in _REJECTIONS:
        raise _REJECTIONS[status](f"witness {url}: {reason}")
    if status == 429 or status >= 500:
        raise LogUnavailable(f"witness {url} answered HTTP {status}: {reason}")
    raise WitnessRejected(f"witness {url} answered HTTP {status}: {reason}", http_status=status)


def add_cosignatures(note_bytes: bytes, answer: bytes) -> bytes:
    """The checkpoint note with the witness's cosignature lines appended."""
    return Note.parse(note_bytes).with_signatures(*parse_cosignature_lines(answer)).format()


__all__ = ["DEFAULT_TIMEOUT_S", "add_cosignatures", "request_cosignature"]
