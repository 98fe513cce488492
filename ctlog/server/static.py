"""The C2SP static-ct-api read path of one replica, served from the same state as RFC 6962.

    GET /checkpoint                 the published tree head as a signed note (text/plain),
                                    its RFC6962NoteSignature converted from the STH's signature
    GET /tile/<L>/<N>[.p/<W>]       hash tiles (C2SP tlog-tiles)
    GET /tile/data/<N>[.p/<W>]      data tiles: the entries' TileLeaf structures, concatenated
    GET /issuer/<hex fingerprint>   an issuer certificate (application/pkix-cert)

Only tiles the published tree head covers are served (404 beyond); a partial tile may be
asked for at any width the published tree covers. Tiles and issuers are immutable, so they
are cacheable for long; the checkpoint is not cached.
"""

from __future__ import annotations

import re

from aiohttp import web

from ctlog.checkpoint import note_from_sth
from ctlog.errors import InputError
from ctlog.log.replica import LogReplica
from ctlog.merkle import TILE_WIDTH, parse_tile_path, tile_width

IMMUTABLE = "public, max-age=31536000, immutable"  # static-ct-api: long-lived caching
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")  # static-ct-api: lowercase hex SHA-256


class StaticApi:
    """Handlers bound to one replica."""

    def __init__(self, replica: LogReplica) -> None:
        self.replica = replica
        self.log = replica.machine
        self._checkpoint: tuple[object, bytes] | None = None  # (sth, note) cache

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/checkpoint", self.checkpoint)
        app.router.add_get("/tile/{path:.+}", self.tile)
        app.router.add_get("/issuer/{fingerprint}", self.issuer)

    async def checkpoint(self, request: web.Request) -> web.Response:
        sth = self.log.latest_sth
        if sth is None:
            raise InputError("the log has not published a tree head yet", http_status=404)
        if self._checkpoint is None or self._checkpoint[0] is not sth:
            origin = self.replica.config.log.origin
            self._checkpoint = (sth, note_from_sth(sth, origin, self.replica.key.public))
        return web.Response(
            body=self._checkpoint[1],
            content_type="text/plain",
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def tile(self, request: web.Request) -> web.Response:
        ref = parse_tile_path("tile/" + request.match_info["path"])
        size = self.log.published_size
        if ref.width > tile_width(ref.level or 0, ref.index, size):  # data tiles are level 0's
            raise InputError(
                f"{ref.path()} is beyond the published tree size {size}", http_status=404
            )
        if ref.level is None:
            first = ref.index * TILE_WIDTH
            body = b"".join(self.log.reader.tile_leaves_bytes(first, first + ref.width))
        else:
            body = self.log.merkle.hash_tile(ref.level, ref.index, ref.width)
        response = web.Response(
            body=body,
            content_type="application/octet-stream",
            headers={"Cache-Control": IMMUTABLE},
        )
        if ref.level is None:
            response.enable_compression()  # static-ct-api: data tiles SHOULD be compressed
        return response

    async def issuer(self, request: web.Request) -> web.Response:
        fingerprint = request.match_info["fingerprint"]
        if not _FINGERPRINT.fullmatch(fingerprint):
            raise InputError("an issuer is named by its lowercase hex SHA-256 fingerprint")
        der = self.log.reader.issuer(bytes.fromhex(fingerprint))
        if der is None:
            raise InputError(f"no issuer {fingerprint} in this log", http_status=404)
        return web.Response(
            body=der, content_type="application/pkix-cert", headers={"Cache-Control": IMMUTABLE}
        )


__all__ = ["IMMUTABLE", "StaticApi"]
