"""`FakeLog`: an honest, in-process CT log for tests (an aiohttp `web.Application`).

It validates submissions with `ctlog.x509.validate_chain` against one dev root, sequences
every accepted chain at once (a zero merge delay), signs a fresh tree head after each one,
and serves RFC 6962 §4 under `/ct/v1/` and the static-ct-api read path (`/checkpoint`,
`/tile/...`, `/issuer/...`; tiles exist for every sequenced entry, as a static-ct log
writes them before it publishes a checkpoint). Trees and proofs come from
`ctlog.merkle.reference`, written straight from the RFC, so the fake is slow (O(n) per
hash) but obviously right.

Test knobs, all plain attributes: `max_get_entries` truncates get-entries (RFC 6962 §4.6
allows it), `inject()` answers requests to a path with an error status (and a Retry-After),
`requests` counts requests per path, `served_entries` counts entries sent by get-entries,
and a test may overwrite `sth` or an item of `entries` to play a dishonest log. Time is a
counter that starts at the PKI's `now`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestServer

from ctlog.checkpoint import note_from_sth
from ctlog.devcerts import DevPki
from ctlog.errors import InputError
from ctlog.keys import LogSigningKey
from ctlog.leaf import MerkleTreeLeaf, TileLeaf, chain_fingerprints
from ctlog.merkle import hash_leaf
from ctlog.merkle.reference import (
    reference_consistency_proof,
    reference_inclusion_proof,
    reference_root,
)
from ctlog.merkle.tiles import TILE_HEIGHT, TILE_WIDTH, parse_tile_path
from ctlog.sct import SignedCertificateTimestamp, sign_sct
from ctlog.sth import SignedTreeHead, TreeHead
from ctlog.x509 import RootSet, ms_from_datetime, validate_chain

PKI_NOW = datetime(2025, 1, 1, tzinfo=UTC)  # a fixed "now" keeps the fake's certificates valid
DEFAULT_ORIGIN = "fakelog.test/log"  # static-ct-api: the submission prefix without a scheme
DEFAULT_MAX_GET_ENTRIES = 1000  # RFC 6962 §4.6: a log may cap entries per get-entries


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """One sequenced entry in both read forms, with the SCT the log issued for it."""

    leaf_input: bytes
    extra_data: bytes
    tile_leaf: TileLeaf
    sct: SignedCertificateTimestamp

    @property
    def leaf_hash(self) -> bytes:
        return hash_leaf(self.leaf_input)


@dataclass(slots=True)
class Fault:
    """Answer `times` requests whose path starts with `path` with `status`, once `after`
    such requests have been served normally."""

    path: str
    status: int
    times: int
    retry_after: str | None = None
    after: int = 0


@dataclass(slots=True)
class FakeLog:
    """An honest log of `pki`'s chains; see the module docstring."""

    pki: DevPki
    key: LogSigningKey = field(default_factory=LogSigningKey.generate)
    origin: str = DEFAULT_ORIGIN
    max_get_entries: int = DEFAULT_MAX_GET_ENTRIES
    entries: list[LoggedEntry] = field(default_factory=list)
    issuers: dict[bytes, bytes] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)
    served_entries: int = 0  # entries returned by get-entries, to show what was re-downloaded
    sth: SignedTreeHead = field(init=False)
    _clock_ms: int = field(init=False)
    _seen: dict[bytes, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._clock_ms = ms_from_datetime(self.pki.now)
        self.publish()

    def now_ms(self) -> int:
        """A clock that moves one millisecond per reading: deterministic and increasing."""
        self._clock_ms += 1
        return self._clock_ms

    @property
    def leaf_hashes(self) -> list[bytes]:
        return [entry.leaf_hash for entry in self.entries]

    def publish(self) -> SignedTreeHead:
        """Sign and serve a tree head over every entry."""
        root = reference_root(self.leaf_hashes)
        self.sth = SignedTreeHead.sign(TreeHead(len(self.entries), self.now_ms(), root), self.key)
        return self.sth

    def submit(
        self, chain_ders: Sequence[bytes], *, precert: bool = False
    ) -> SignedCertificateTimestamp:
        """add-chain / add-pre-chain: validate, sequence, publish; a repeat gets its old SCT."""
        roots = RootSet.from_ders([self.pki.root_der])
        chain = validate_chain(chain_ders, roots, now_ms=self._clock_ms, precert=precert)
        identity = bytes([chain.entry_type]) + chain.timestamped_entry(0).signed_entry_bytes()
        if identity in self._seen:
            return self.entries[self._seen[identity]].sct
        entry = chain.timestamped_entry(self.now_ms())
        sct = sign_sct(self.key, entry)
        leaf_input = MerkleTreeLeaf(entry).serialize()
        self.entries.append(
            LoggedEntry(leaf_input, chain.extra_data(), chain.tile_leaf(entry), sct)
        )
        self._seen[identity] = len(self.entries) - 1
        for der, fingerprint in zip(
            chain.issuer_ders, chain_fingerprints(chain.issuer_ders), strict=True
        ):
            self.issuers[fingerprint] = der
        self.publish()
        return sct

    def inject(
        self,
        path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        after: int = 0,
    ) -> None:
        self.faults.append(Fault(path, status, times, retry_after, after))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        for name in ("add-chain", "add-pre-chain"):
            app.router.add_post(f"/ct/v1/{name}", self._add_chain)
        app.router.add_get("/ct/v1/get-sth", self._get_sth)
        app.router.add_get("/ct/v1/get-sth-consistency", self._get_consistency)
        app.router.add_get("/ct/v1/get-proof-by-hash", self._get_proof_by_hash)
        app.router.add_get("/ct/v1/get-entries", self._get_entries)
        app.router.add_get("/ct/v1/get-roots", self._get_roots)
        app.router.add_get("/ct/v1/get-entry-and-proof", self._get_entry_and_proof)
        app.router.add_get("/checkpoint", self._get_checkpoint)
        app.router.add_get("/tile/{tail:.+}", self._get_tile)
        app.router.add_get("/issuer/{fingerprint}", self._get_issuer)
        return app

    # HTTP plumbing

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.requests[request.path] += 1
        for fault in self.faults:
            if fault.times > 0 and request.path.startswith(fault.path):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                return error_response(fault.status, "injected fault", headers)
        try:
            return await handler(request)
        except InputError as exc:
            return error_response(exc.http_status, str(exc))

    async def _add_chain(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
            chain = [base64.b64decode(item, validate=True) for item in body["chain"]]
        except (ValueError, KeyError, TypeError):
            return error_response(400, 'body must be {"chain": [base64 DER, ...]}')
        precert = request.path.endswith("add-pre-chain")
        return web.json_response(self.submit(chain, precert=precert).to_json())

    async def _get_sth(self, request: web.Request) -> web.Response:
        return web.json_response(self.sth.to_json())

    async def _get_consistency(self, request: web.Request) -> web.Response:
        first, second = query_ints(request, "first", "second")
        if not 0 < first <= second <= self.sth.tree_size:
            return error_response(400, f"need 0 < first <= second <= {self.sth.tree_size}")
        proof = reference_consistency_proof(first, self.leaf_hashes[:second])
        return web.json_response({"consistency": b64_list(proof)})

    async def _get_proof_by_hash(self, request: web.Request) -> web.Response:
        (tree_size,) = query_ints(request, "tree_size")
        try:
            leaf_hash = base64.b64decode(request.query.get("hash", ""), validate=True)
        except ValueError:
            return error_response(400, "hash is not base64")
        hashes = self.leaf_hashes[: min(tree_size, self.sth.tree_size)]
        if leaf_hash not in hashes or not 0 < tree_size <= self.sth.tree_size:
            return error_response(404, "leaf hash not found in that tree")
        index = hashes.index(leaf_hash)
        proof = reference_inclusion_proof(index, hashes)
        return web.json_response({"leaf_index": index, "audit_path": b64_list(proof)})

    async def _get_entries(self, request: web.Request) -> web.Response:
        start, end = query_ints(request, "start", "end")
        if not 0 <= start <= end or start >= self.sth.tree_size:
            return error_response(400, f"need 0 <= start <= end and start < {self.sth.tree_size}")
        end = min(end, self.sth.tree_size - 1, start + self.max_get_entries - 1)
        items = [_entry_json(entry) for entry in self.entries[start : end + 1]]
        self.served_entries += len(items)
        return web.json_response({"entries": items})

    async def _get_roots(self, request: web.Request) -> web.Response:
        return web.json_response({"certificates": b64_list([self.pki.root_der])})

    async def _get_entry_and_proof(self, request: web.Request) -> web.Response:
        index, tree_size = query_ints(request, "leaf_index", "tree_size")
        if not 0 <= index < tree_size <= self.sth.tree_size:
            return error_response(400, "need 0 <= leaf_index < tree_size <= the current tree size")
        proof = reference_inclusion_proof(index, self.leaf_hashes[:tree_size])
        body = {**_entry_json(self.entries[index]), "audit_path": b64_list(proof)}
        return web.json_response(body)

    async def _get_checkpoint(self, request: web.Request) -> web.Response:
        note = note_from_sth(self.sth, self.origin, self.key.public)
        return web.Response(body=note, content_type="text/plain", charset="utf-8")

    async def _get_tile(self, request: web.Request) -> web.Response:
        ref = parse_tile_path(request.path.lstrip("/"))
        span = 1 << (TILE_HEIGHT * (ref.level or 0))  # leaves under one hash of this tile
        first = ref.index * TILE_WIDTH
        if (first + ref.width) * span > len(self.entries):
            return error_response(404, "no such tile")
        if ref.level is None:
            leaves = self.entries[first : first + ref.width]
            body = b"".join(entry.tile_leaf.serialize() for entry in leaves)
        else:
            hashes = self.leaf_hashes
            body = b"".join(
                reference_root(hashes[(first + i) * span : (first + i + 1) * span])
                for i in range(ref.width)
            )
        return web.Response(body=body, content_type="application/octet-stream")

    async def _get_issuer(self, request: web.Request) -> web.Response:
        try:
            der = self.issuers[bytes.fromhex(request.match_info["fingerprint"])]
        except (ValueError, KeyError):
            return error_response(404, "unknown issuer")
        return web.Response(body=der, content_type="application/pkix-cert")


def query_ints(request: web.Request, *names: str) -> list[int]:
    """The named decimal query parameters; `InputError` if one is missing or not a number."""
    try:
        return [int(request.query[name]) for name in names]
    except (KeyError, ValueError):
        raise InputError(f"{', '.join(names)} must be decimal integers") from None


def b64_list(items: Sequence[bytes]) -> list[str]:
    """Byte strings as the base64 strings of an RFC 6962 JSON list."""
    return [base64.b64encode(item).decode() for item in items]


def _entry_json(entry: LoggedEntry) -> dict[str, str]:
    return {
        "leaf_input": base64.b64encode(entry.leaf_input).decode(),
        "extra_data": base64.b64encode(entry.extra_data).decode(),
    }


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """A CT log's JSON error answer (the form Trillian-based logs send)."""
    body = {"success": False, "error_message": message}
    return web.json_response(body, status=status, headers=headers)


def dev_pki() -> DevPki:
    """A fresh dev PKI at the fixed `PKI_NOW`."""
    return DevPki.create(PKI_NOW)


@contextlib.asynccontextmanager
async def serving(log: FakeLog) -> AsyncIterator[str]:
    """Serve `log` on 127.0.0.1 in the running event loop; yields its base URL."""
    async with TestServer(log.app(), host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


@contextlib.contextmanager
def serving_in_thread(log: FakeLog) -> Iterator[str]:
    """Serve `log` from a thread with its own event loop (for code that runs `asyncio.run`,
    such as the CLI); yields the base URL and stops the server on exit."""
    loop = asyncio.new_event_loop()
    started: list[str] = []
    ready = threading.Event()
    stop = asyncio.Event()

    async def main() -> None:
        async with serving(log) as url:
            started.append(url)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        if not ready.wait(timeout=10):
            raise RuntimeError("the fake log did not start")
        yield started[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


__all__ = [
    "PKI_NOW",
    "FakeLog",
    "Fault",
    "LoggedEntry",
    "b64_list",
    "dev_pki",
    "error_response",
    "query_ints",
    "serving",
    "serving_in_thread",
]
