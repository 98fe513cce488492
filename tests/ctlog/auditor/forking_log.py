"""`ForkingLog`: a CT log test double that can show different trees to different clients.

The log keeps one leaf list per view. Forking, the views share the first `shared` leaves
and then grow apart (each view's leaves are tagged with the view number), and every view's
tree heads are signed with the same key: a split view. Honest, all views are one list.
`app(view)` serves RFC 6962 §4.3-4.5 (get-sth, get-sth-consistency, get-proof-by-hash) for
one view, so a test serves each view on its own port and points each auditor at one of them.
Trees and proofs come from `ctlog.merkle.reference` (straight from the RFC). The sim uses the
same object without HTTP. `refuse_proofs` makes get-sth-consistency answer 400.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ctlog.errors import InputError
from ctlog.keys import LogSigningKey
from ctlog.merkle import hash_leaf
from ctlog.merkle.reference import (
    reference_consistency_proof,
    reference_inclusion_proof,
    reference_root,
)
from ctlog.sth import SignedTreeHead, TreeHead
from tests.ctlog.fakelog import b64_list, error_response, query_ints

KEY_SEED_OFFSET = 1_000_003  # keeps derived private scalars away from tiny values


def signing_key_from_seed(seed: int) -> LogSigningKey:
    """A P-256 log key derived from `seed`, so a simulation replays with the same log id."""
    private = ec.derive_private_key(seed + KEY_SEED_OFFSET, ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return LogSigningKey.from_pem(pem)


@dataclass
class ForkingLog:
    """A log with `len(views)` views; see the module docstring."""

    key: LogSigningKey
    clock: Callable[[], int]  # milliseconds, for STH timestamps
    forking: bool
    views: list[list[bytes]]
    refuse_proofs: bool = False
    published: list[SignedTreeHead] = field(default_factory=list)
    requests: int = 0

    @classmethod
    def create(
        cls,
        key: LogSigningKey,
        clock: Callable[[], int],
        *,
        shared: int,
        forking: bool = True,
        view_count: int = 2,
    ) -> ForkingLog:
        prefix = [hash_leaf(b"shared-%d" % i) for i in range(shared)]
        if forking:
            views = [list(prefix) for _ in range(view_count)]
        else:
            views = [prefix] * view_count  # one tree seen through every view
        log = cls(key, clock, forking, views)
        log.published = [log._sign(v) for v in range(view_count)]
        return log

    def grow(self, view: int, count: int = 1) -> None:
        """Append `count` leaves to `view` (to the one tree, when honest) and publish."""
        leaves = self.views[view]
        tag = f"view{view}" if self.forking else "honest"
        for _ in range(count):
            leaves.append(hash_leaf(f"{tag}-leaf-{len(leaves)}".encode()))
        if self.forking:
            self.published[view] = self._sign(view)
        else:
            sth = self._sign(view)
            self.published = [sth] * len(self.views)

    def grow_all(self, count: int = 1) -> None:
        for view in range(len(self.views) if self.forking else 1):
            self.grow(view, count)

    def sth(self, view: int) -> SignedTreeHead:
        return self.published[view]

    def head_at(self, view: int, size: int) -> SignedTreeHead:
        """A signed head of `view` at an earlier `size` (as the log once published it)."""
        root = reference_root(self.views[view][:size])
        return SignedTreeHead.sign(TreeHead(size, self.clock(), root), self.key)

    def consistency(self, view: int, first: int, second: int) -> list[bytes]:
        """get-sth-consistency in `view`; `InputError` (400) like a log for bad sizes."""
        size = self.published[view].tree_size
        if self.refuse_proofs:
            raise InputError("consistency proofs are refused", http_status=400)
        if not 0 < first <= second <= size:
            raise InputError(f"need 0 < first <= second <= {size}", http_status=400)
        return reference_consistency_proof(first, self.views[view][:second])

    def proof_by_hash(self, view: int, leaf_hash: bytes, tree_size: int) -> tuple[int, list[bytes]]:
        leaves = self.views[view][:tree_size]
        if tree_size > self.published[view].tree_size or leaf_hash not in leaves:
            raise InputError("leaf not found in that tree", http_status=404)
        index = leaves.index(leaf_hash)
        return index, reference_inclusion_proof(index, leaves)

    def _sign(self, view: int) -> SignedTreeHead:
        leaves = self.views[view]
        head = TreeHead(len(leaves), self.clock(), reference_root(leaves))
        return SignedTreeHead.sign(head, self.key)

    # -- HTTP -------------------------------------------------------------------------------

    def app(self, view: int) -> web.Application:
        """RFC 6962 §4 reads of `view` under /ct/v1/."""

        async def get_sth(request: web.Request) -> web.Response:
            self.requests += 1
            return web.json_response(self.sth(view).to_json())

        async def get_consistency(request: web.Request) -> web.Response:
            self.requests += 1
            try:
                first, second = query_ints(request, "first", "second")
                proof = self.consistency(view, first, second)
            except InputError as exc:
                return error_response(exc.http_status, str(exc))
            return web.json_response({"consistency": b64_list(proof)})

        async def get_proof_by_hash(request: web.Request) -> web.Response:
            self.requests += 1
            try:
                leaf_hash = base64.b64decode(request.query.get("hash", ""), validate=True)
                (tree_size,) = query_ints(request, "tree_size")
                index, path = self.proof_by_hash(view, leaf_hash, tree_size)
            except ValueError:
                return error_response(400, "hash must be base64")
            except InputError as exc:
                return error_response(exc.http_status, str(exc))
            return web.json_response({"leaf_index": index, "audit_path": b64_list(path)})

        app = web.Application()
        app.router.add_get("/ct/v1/get-sth", get_sth)
        app.router.add_get("/ct/v1/get-sth-consistency", get_consistency)
        app.router.add_get("/ct/v1/get-proof-by-hash", get_proof_by_hash)
        return app


__all__ = ["ForkingLog", "signing_key_from_seed"]
