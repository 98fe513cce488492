"""The RFC 6962 §4 API of one replica, with the exact JSON field names of the RFC.

    POST /ct/v1/add-chain            {"chain": [...]}  → SCT (§4.1)
    POST /ct/v1/add-pre-chain        {"chain": [...]}  → SCT (§4.2)
    GET  /ct/v1/get-sth                                → STH (§4.3)
    GET  /ct/v1/get-sth-consistency  ?first&second     → {"consistency"} (§4.4)
    GET  /ct/v1/get-proof-by-hash    ?hash&tree_size   → {"leaf_index", "audit_path"} (§4.5)
    GET  /ct/v1/get-entries          ?start&end        → {"entries": [{"leaf_input",
                                                           "extra_data"}]} (§4.6)
    GET  /ct/v1/get-roots                              → {"certificates"} (§4.7)
    GET  /ct/v1/get-entry-and-proof  ?leaf_index&tree_size → {"leaf_input", "extra_data",
                                                           "audit_path"} (§4.8)

Reads answer from this replica's applied state, bounded by the published tree head it holds:
no entry, proof or size beyond that tree head is served.
"""

from __future__ import annotations

import base64
import json

from aiohttp import web

from ctlog.errors import InputError, LogUnavailable
from ctlog.log.entry import PreparedEntry
from ctlog.log.replica import LogReplica
from ctlog.sct import sign_sct
from ctlog.server.params import (
    chain_from_body,
    check_tree_size,
    entry_range,
    query_hash,
    query_uint,
)
from ctlog.server.validation import ChainValidator
from ctlog.sth import SignedTreeHead


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def read_json(request: web.Request) -> object:
    """The JSON request body; aiohttp refuses bodies above the app's client_max_size (413)."""
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"the request body is not JSON: {exc}") from None


class Rfc6962Api:
    """Handlers bound to one replica."""

    def __init__(self, replica: LogReplica, validator: ChainValidator) -> None:
        self.replica = replica
        self.validator = validator
        self.log = replica.machine
        self._roots_json = {"certificates": [b64(der) for der in replica.roots.ders()]}

    def add_routes(self, app: web.Application) -> None:
        router = app.router
        router.add_post("/ct/v1/add-chain", self.add_chain)
        router.add_post("/ct/v1/add-pre-chain", self.add_pre_chain)
        router.add_get("/ct/v1/get-sth", self.get_sth)
        router.add_get("/ct/v1/get-sth-consistency", self.get_sth_consistency)
        router.add_get("/ct/v1/get-proof-by-hash", self.get_proof_by_hash)
        router.add_get("/ct/v1/get-entries", self.get_entries)
        router.add_get("/ct/v1/get-roots", self.get_roots)
        router.add_get("/ct/v1/get-entry-and-proof", self.get_entry_and_proof)

    # ----- submissions -----
    async def add_chain(self, request: web.Request) -> web.Response:
        return await self._add(request, precert=False)

    async def add_pre_chain(self, request: web.Request) -> web.Response:
        return await self._add(request, precert=True)

    async def _add(self, request: web.Request, *, precert: bool) -> web.Response:
        chain = chain_from_body(await read_json(request))
        now = self.replica.now_ms()
        validated = await self.validator.validate(chain, now_ms=now, precert=precert)
        entry = PreparedEntry.from_chain(validated, now)
        logged = await self.replica.submit(entry)
        sct = sign_sct(self.replica.key, entry.logged_entry(logged))
        return web.json_response(sct.to_json())

    # ----- reads -----
    def published(self) -> SignedTreeHead:
        sth = self.log.latest_sth
        if sth is None:
            raise LogUnavailable("the log has not published a tree head yet")
        return sth

    async def get_sth(self, request: web.Request) -> web.Response:
        return web.json_response(self.published().to_json())

    async def get_sth_consistency(self, request: web.Request) -> web.Response:
        first, second = query_uint(request.query, "first"), query_uint(request.query, "second")
        check_tree_size("second", second, self.log.published_size)
        check_tree_size("first", first, second, limit_name="second")  # RFC 6962 §2.1.2
        proof = self.log.merkle.consistency_proof(first, second)
        return web.json_response({"consistency": [b64(node) for node in proof]})

    async def get_proof_by_hash(self, request: web.Request) -> web.Response:
        leaf_hash = query_hash(request.query, "hash")
        tree_size = query_uint(request.query, "tree_size")
        check_tree_size("tree_size", tree_size, self.log.published_size)
        index = self.log.reader.index_of_leaf_hash(leaf_hash)
        if index is None or index >= tree_size:
            raise InputError(
                f"no entry with that leaf hash in the tree of size {tree_size}", http_status=404
            )
        proof = self.log.merkle.inclusion_proof(index, tree_size)
        return web.json_response({"leaf_index": index, "audit_path": [b64(n) for n in proof]})

    async def get_entries(self, request: web.Request) -> web.Response:
        start, end = query_uint(request.query, "start"), query_uint(request.query, "end")
        limit = self.replica.config.log.max_get_entries
        span = entry_range(start, end, tree_size=self.log.published_size, max_entries=limit)
        entries = []
        for raw in self.log.reader.tile_leaves_bytes(span.start, span.end + 1):
            tile_leaf = self.log.reader.parse_tile_leaf(raw)
            leaf_input, extra_data = self.log.reader.leaf_input_and_extra_data(tile_leaf)
            entries.append({"leaf_input": b64(leaf_input), "extra_data": b64(extra_data)})
        return web.json_response({"entries": entries})

    async def get_roots(self, request: web.Request) -> web.Response:
        return web.json_response(self._roots_json)

    async def get_entry_and_proof(self, request: web.Request) -> web.Response:
        index = query_uint(request.query, "leaf_index")
        tree_size = query_uint(request.query, "tree_size")
        check_tree_size("tree_size", tree_size, self.log.published_size)
        if index >= tree_size:
            raise InputError(f"leaf_index {index} is not below tree_size {tree_size}")
        leaf_input, extra_data = self.log.reader.leaf_input_and_extra_data(
            self.log.reader.tile_leaf(index)
        )
        proof = self.log.merkle.inclusion_proof(index, tree_size)
        return web.json_response(
            {
                "leaf_input": b64(leaf_input),
                "extra_data": b64(extra_data),
                "audit_path": [b64(node) for node in proof],
            }
        )


__all__ = ["Rfc6962Api", "b64", "read_json"]
