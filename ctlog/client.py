"""`LogClient`: an asyncio HTTP client of one CT log, RFC 6962 §4 and the static-ct read path.

RFC 6962 endpoints live under `<base>/ct/v1/`, static-ct tiles, checkpoint and issuers under
`<base>/`. Every request is retried with exponential backoff and jitter on 429, 5xx,
timeouts and connection errors (a `Retry-After` header sets the wait instead), and after
`max_attempts` tries raises `LogUnavailable`. Any other 4xx is the log's answer: it raises
`InputError` with that status and the log's one-line reason. Bodies are read up to
`MAX_RESPONSE_BYTES` and handed to the pure codecs of `ctlog._client_codec`.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType

import aiohttp

from ctlog import _client_codec as codec
from ctlog._client_codec import MAX_RESPONSE_BYTES, RawEntry
from ctlog.errors import InputError, LogUnavailable, UsageError
from ctlog.merkle import HASH_SIZE
from ctlog.merkle.tiles import TILE_WIDTH, data_tile_path, tile_path
from ctlog.sct import SignedCertificateTimestamp
from ctlog.sth import SignedTreeHead

READ_CHUNK_BYTES = 64 * 1024  # bodies are read in pieces so the size bound applies early
ERROR_BODY_BYTES = 16 * 1024  # enough of an error body for its one-line reason
CHECKPOINT_MAX_BYTES = 128 * 1024  # C2SP signed-note: a note is at most this long

Sleep = Callable[[float], Awaitable[None]]


class LogClient:
    """Talks to the log at `base_url`; use `async with` or call `close()`."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 10.0,
        max_attempts: int = 5,
        backoff_s: float = 0.2,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"log URL must start with http:// or https://, got {base_url!r}")
        if max_attempts < 1 or timeout_s <= 0 or backoff_s < 0:
            raise UsageError("max_attempts >= 1, timeout_s > 0 and backoff_s >= 0")
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.requests = 0  # every HTTP attempt made, retries included

    async def __aenter__(self) -> LogClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client opened it; idempotent."""
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    # RFC 6962 §4

    async def add_chain(self, chain_ders: Sequence[bytes]) -> SignedCertificateTimestamp:
        """RFC 6962 §4.1: submit a certificate chain (leaf first), get its SCT."""
        body = codec.encode_add_chain_request(chain_ders)
        return codec.parse_add_chain_response(await self._post("ct/v1/add-chain", body))

    async def add_pre_chain(self, chain_ders: Sequence[bytes]) -> SignedCertificateTimestamp:
        """RFC 6962 §4.2: submit a precertificate chain (precert first), get its SCT."""
        body = codec.encode_add_chain_request(chain_ders)
        return codec.parse_add_chain_response(await self._post("ct/v1/add-pre-chain", body))

    async def get_sth(self) -> SignedTreeHead:
        """RFC 6962 §4.3: the latest signed tree head (not verified here)."""
        return codec.parse_sth_response(await self._get("ct/v1/get-sth"))

    async def get_sth_consistency(self, first: int, second: int) -> list[bytes]:
        """RFC 6962 §4.4: the consistency proof between tree sizes `first` and `second`."""
        if not 0 <= first <= second:
            raise UsageError(f"consistency needs 0 <= first <= second, got {first}, {second}")
        params = {"first": str(first), "second": str(second)}
        return codec.parse_consistency_response(
            await self._get("ct/v1/get-sth-consistency", params)
        )

    async def get_proof_by_hash(self, leaf_hash: bytes, tree_size: int) -> tuple[int, list[bytes]]:
        """RFC 6962 §4.5: (leaf index, audit path) of `leaf_hash` in the tree of `tree_size`."""
        if len(leaf_hash) != HASH_SIZE or tree_size < 1:
            raise UsageError("get-proof-by-hash needs a 32-byte leaf hash and tree_size >= 1")
        params = {"hash": base64.b64encode(leaf_hash).decode(), "tree_size": str(tree_size)}
        return codec.parse_proof_by_hash_response(
            await self._get("ct/v1/get-proof-by-hash", params)
        )

    async def get_entries(self, start: int, end: int) -> list[RawEntry]:
        """RFC 6962 §4.6: entries `start`..`end`, both inclusive. A log may return fewer
        (always a prefix, never none); callers ask again for the rest."""
        codec.check_entries_range(start, end)
        params = {"start": str(start), "end": str(end)}
        body = await self._get("ct/v1/get-entries", params)
        return codec.parse_entries_response(body, end - start + 1)

    async def get_roots(self) -> list[bytes]:
        """RFC 6962 §4.7: the root certificates the log accepts, DER."""
        return codec.parse_roots_response(await self._get("ct/v1/get-roots"))

    async def get_entry_and_proof(
        self, leaf_index: int, tree_size: int
    ) -> tuple[RawEntry, list[bytes]]:
        """RFC 6962 §4.8: one entry and its audit path in the tree of `tree_size`."""
        if not 0 <= leaf_index < tree_size:
            raise UsageError(f"leaf_index {leaf_index} is outside a tree of size {tree_size}")
        params = {"leaf_index": str(leaf_index), "tree_size": str(tree_size)}
        return codec.parse_entry_and_proof_response(
            await self._get("ct/v1/get-entry-and-proof", params)
        )

    # static-ct-api read path

    async def get_checkpoint(self) -> bytes:
        """static-ct-api §Checkpoints: the signed checkpoint note (not verified here)."""
        return await self._get("checkpoint", limit=CHECKPOINT_MAX_BYTES)

    async def get_hash_tile(self, level: int, index: int, width: int = TILE_WIDTH) -> bytes:
        """static-ct-api §Merkle Tree: `width` hashes of tile (`level`, `index`)."""
        body = await self._get(tile_path(level, index, width), limit=width * HASH_SIZE)
        return codec.check_hash_tile(body, width)

    async def get_data_tile(self, index: int, width: int = TILE_WIDTH) -> bytes:
        """static-ct-api §Log entries: the raw data tile (parse with `parse_data_tile`)."""
        return await self._get(data_tile_path(index, width))

    async def get_issuer(self, fingerprint: bytes) -> bytes:
        """static-ct-api §Issuers: the issuer certificate DER with this SHA-256."""
        if len(fingerprint) != HASH_SIZE:
            raise UsageError("an issuer fingerprint is a 32-byte SHA-256")
        return codec.check_issuer(await self._get(f"issuer/{fingerprint.hex()}"), fingerprint)

    # HTTP with retries

    async def _get(
        self, path: str, params: Mapping[str, str] | None = None, *, limit: int | None = None
    ) -> bytes:
        return await self._request("GET", path, params=params, limit=limit)

    async def _post(self, path: str, body: bytes) -> bytes:
        return await self._request("POST", path, body=body)

    def _session_for_request(self) -> aiohttp.ClientSession:
        if self._session is None:
            if not self._owns_session:
                raise UsageError("this LogClient is closed")
            self._session = aiohttp.ClientSession()
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        limit: int | None = None,
    ) -> bytes:
        url = f"{self.base_url}/{path}"
        reason = "no attempt made"
        for attempt in range(1, self._max_attempts + 1):
            wait_s: float | None = None
            try:
                status, data, retry_after = await self._attempt(method, url, params, body, limit)
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                if status == 200:
                    return data
                if not codec.is_retryable(status):
                    raise InputError(
                        f"{path} answered HTTP {status}: {codec.error_message(data)}",
                        http_status=status,
                    )
                reason = f"HTTP {status}"
                wait_s = codec.retry_after_s(retry_after, time.time())
            if attempt < self._max_attempts:
                if wait_s is None:
                    wait_s = codec.backoff_s(attempt, self._backoff_s, self._rng.random())
                await self._sleep(wait_s)
        raise LogUnavailable(f"{url} failed {self._max_attempts} times, last: {reason}")

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        limit: int | None,
    ) -> tuple[int, bytes, str | None]:
        """One HTTP exchange: (status, body up to the bound, Retry-After header)."""
        self.requests += 1
        headers = {"Content-Type": "application/json"} if body is not None else None
        session = self._session_for_request()
        async with session.request(
            method, url, params=params, data=body, headers=headers, timeout=self._timeout
        ) as resp:
            if resp.status != 200:
                data = await resp.content.read(ERROR_BODY_BYTES)
            else:
                data = await read_bounded(resp, limit or MAX_RESPONSE_BYTES, url)
            return resp.status, data, resp.headers.get("Retry-After")


async def read_bounded(resp: aiohttp.ClientResponse, limit: int, sender: str) -> bytes:
    """The (decompressed) body, refusing (`InputError`) anything longer than `limit` bytes.

    `sender` names who answered, for the error: a URL, or "witness <url>".
    """
    if resp.content_length is not None and resp.content_length > limit:
        raise InputError(f"{sender} sent {resp.content_length} bytes, more than {limit}")
    chunks: list[bytes] = []
    total = 0
    while chunk := await resp.content.read(READ_CHUNK_BYTES):
        total += len(chunk)
        if total > limit:
            raise InputError(f"{sender} sent more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


__all__ = ["LogClient", "RawEntry", "read_bounded"]
