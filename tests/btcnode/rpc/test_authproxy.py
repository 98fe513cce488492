"""A client written like Bitcoin Core's test_framework/authproxy.py: JSON-RPC 1.1 over one
persistent http.client connection, Basic auth, `Content-type: application/json`, and a
batch call; errors come back as the reply's `error` object with HTTP 404/500."""

from __future__ import annotations

import base64
import http.client
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from btcnode.rpc import RpcCredentials
from tests.btcnode.rpc.conftest import Funded
from tests.btcnode.rpc.harness import CREDENTIALS


class JSONRPCException(Exception):
    def __init__(self, error: dict[str, Any], http_status: int) -> None:
        super().__init__(error.get("message"))
        self.error = error
        self.http_status = http_status


class AuthServiceProxy:
    """The request and reply handling of Core's AuthServiceProxy, cut down."""

    def __init__(self, url: str, credentials: RpcCredentials) -> None:
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=30)
        token = base64.b64encode(f"{credentials.user}:{credentials.password}".encode())
        self._headers = {
            "Host": str(parts.hostname),
            "User-Agent": "AuthServiceProxy/0.1",
            "Authorization": b"Basic " + token,
            "Content-type": "application/json",
        }
        self._id = 0

    def _post(self, body: bytes) -> tuple[int, Any]:
        self._conn.request("POST", "/", body, self._headers)  # type: ignore[arg-type]
        response = self._conn.getresponse()
        content_type = response.getheader("Content-Type")
        if content_type != "application/json":
            raise JSONRPCException({"code": -342, "message": f"bad type {content_type}"}, 0)
        return response.status, json.loads(response.read().decode("utf8"), parse_float=Decimal)

    def call(self, method: str, *args: Any) -> Any:
        self._id += 1
        body = {"version": "1.1", "method": method, "params": list(args), "id": self._id}
        status, reply = self._post(json.dumps(body).encode())
        assert reply["id"] == self._id
        if reply["error"] is not None:
            raise JSONRPCException(reply["error"], status)
        assert status == 200
        return reply["result"]

    def batch(self, calls: list[dict[str, Any]]) -> Any:
        status, reply = self._post(json.dumps(calls).encode())
        assert status == 200
        return reply

    def close(self) -> None:
        self._conn.close()


def test_authproxy_calls_on_one_connection(funded: Funded) -> None:
    proxy = AuthServiceProxy(funded.rpc.url, CREDENTIALS)
    try:
        assert proxy.call("getblockcount") == 101
        assert proxy.call("getblockhash", 101) == funded.blocks[-1].header.hash_hex
        coinbase_txid = proxy.call("getblock", proxy.call("getblockhash", 1))["tx"][0]
        info = proxy.call("gettxout", coinbase_txid, 0)
        assert info["value"] == Decimal("50.00000000")
        with pytest.raises(JSONRPCException) as err:
            proxy.call("getblockhash", 1000)
        assert (err.value.error["code"], err.value.http_status) == (-8, 500)
        with pytest.raises(JSONRPCException) as err:
            proxy.call("nosuchmethod")
        assert (err.value.error["code"], err.value.http_status) == (-32601, 404)
        replies = proxy.batch(
            [
                {"version": "1.1", "method": "getblockcount", "params": [], "id": 0},
                {"version": "1.1", "method": "getblockhash", "params": [-1], "id": 1},
            ]
        )
        assert replies[0] == {"result": 101, "error": None, "id": 0}
        assert replies[1]["error"] == {"code": -8, "message": "Block height out of range"}
        assert proxy.call("getbestblockhash") == funded.blocks[-1].header.hash_hex
    finally:
        proxy.close()
