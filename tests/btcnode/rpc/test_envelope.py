"""The HTTP and JSON-RPC envelope as Core's httprpc.cpp answers it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from btcnode.rpc import RpcCredentials, RpcError
from btcnode.rpc.client import RpcTransportError
from btcnode.rpc.errors import RpcErrorCode
from tests.btcnode.rpc.harness import Harness, serve


def test_legacy_reply_has_result_error_and_id(rpc: Harness) -> None:
    status, headers, raw = rpc.post('{"method": "getblockcount", "params": [], "id": 7}')
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert raw == b'{"result":0,"error":null,"id":7}\n'


def test_v2_reply_has_only_result(rpc: Harness) -> None:
    status, reply = rpc.post_json({"jsonrpc": "2.0", "method": "getblockcount", "id": "x"})
    assert status == 200
    assert reply == {"jsonrpc": "2.0", "result": 0, "id": "x"}


def test_legacy_request_without_id_gets_a_reply_without_id(rpc: Harness) -> None:
    status, reply = rpc.post_json({"method": "getblockcount"})
    assert (status, reply) == (200, {"result": 0, "error": None})


def test_v2_notification_runs_and_gets_no_body(rpc: Harness) -> None:
    status, _, raw = rpc.post(json.dumps({"jsonrpc": "2.0", "method": "stop", "params": []}))
    assert (status, raw) == (204, b"")
    assert rpc.stops == [rpc.clock[0]]


def test_unknown_method_legacy_is_404(rpc: Harness) -> None:
    status, reply = rpc.post_json({"method": "getinfo", "id": 1})
    assert status == 404
    assert reply == {
        "result": None,
        "error": {"code": -32601, "message": "Method not found"},
        "id": 1,
    }


def test_unknown_method_v2_is_200_with_error_only(rpc: Harness) -> None:
    status, reply = rpc.post_json({"jsonrpc": "2.0", "method": "nope", "id": 1})
    assert status == 200
    assert reply == {
        "jsonrpc": "2.0",
        "error": {"code": -32601, "message": "Method not found"},
        "id": 1,
    }


def test_legacy_method_error_is_500(rpc: Harness) -> None:
    status, reply = rpc.post_json({"method": "getblockhash", "params": [5], "id": 2})
    assert status == 500
    assert reply["error"] == {"code": -8, "message": "Block height out of range"}
    assert reply["result"] is None and reply["id"] == 2


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ("{not json", 500, -32700, "Parse error"),
        ("", 500, -32700, "Parse error"),
        ("[1, 2", 500, -32700, "Parse error"),
        ('{"a": NaN}', 500, -32700, "Parse error"),
        ("17", 500, -32700, "Top-level object parse error"),
        ('"getblockcount"', 500, -32700, "Top-level object parse error"),
        ('{"id": 1}', 400, -32600, "Missing method"),
        ('{"id": 1, "method": 5}', 400, -32600, "Method must be a string"),
        (
            '{"id": 1, "method": "getblockcount", "params": 3}',
            400,
            -32600,
            "Params must be an array or object",
        ),
        (
            '{"id": 1, "jsonrpc": "3.0", "method": "getblockcount"}',
            400,
            -32600,
            "JSON-RPC version not supported",
        ),
        (
            '{"id": 1, "jsonrpc": 2, "method": "getblockcount"}',
            400,
            -32600,
            "jsonrpc field must be a string",
        ),
    ],
)
def test_malformed_requests(rpc: Harness, body: str, status: int, code: int, message: str) -> None:
    got_status, headers, raw = rpc.post(body)
    assert got_status == status
    assert headers["Content-Type"] == "application/json"
    reply = json.loads(raw)
    assert reply["error"] == {"code": code, "message": message}
    assert reply["result"] is None


def test_invalid_v2_request_keeps_its_id_and_version(rpc: Harness) -> None:
    status, reply = rpc.post_json({"jsonrpc": "2.0", "id": 9, "method": None})
    assert status == 400
    assert reply == {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "Missing method"},
        "id": 9,
    }


def test_batch_mixes_good_and_bad_calls(rpc: Harness) -> None:
    batch = [
        {"method": "getblockcount", "id": 1},
        {"method": "nosuchmethod", "id": 2},
        {"jsonrpc": "2.0", "method": "getblockhash", "params": [0], "id": 3},
        {"jsonrpc": "2.0", "method": "getblockhash", "params": [99], "id": 4},
        {"jsonrpc": "2.0", "method": "getblockcount"},  # a notification: no reply
        "not an object",
    ]
    status, reply = rpc.post_json(batch)
    assert status == 200
    genesis = rpc.node.params.genesis.header.hash_hex
    assert reply == [
        {"result": 0, "error": None, "id": 1},
        {"result": None, "error": {"code": -32601, "message": "Method not found"}, "id": 2},
        {"jsonrpc": "2.0", "result": genesis, "id": 3},
        {"jsonrpc": "2.0", "error": {"code": -8, "message": "Block height out of range"}, "id": 4},
        {"result": None, "error": {"code": -32600, "message": "Invalid Request object"}},
    ]


def test_batch_of_notifications_is_204_and_empty_batch_is_empty_array(rpc: Harness) -> None:
    note = {"jsonrpc": "2.0", "method": "getblockcount"}
    status, _, raw = rpc.post(json.dumps([note, note]))
    assert (status, raw) == (204, b"")
    status, _, raw = rpc.post("[]")
    assert (status, raw) == (200, b"[]\n")


def test_named_parameters(rpc: Harness) -> None:
    status, reply = rpc.post_json({"method": "getblockhash", "params": {"height": 0}, "id": 1})
    assert status == 200 and reply["result"] == rpc.node.params.genesis.header.hash_hex
    status, reply = rpc.post_json({"method": "getblockhash", "params": {"hieght": 0}, "id": 1})
    assert status == 500
    assert reply["error"] == {"code": -8, "message": "Unknown named parameter hieght"}


def test_wrong_argument_count_is_misc_error_with_help(rpc: Harness) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("getblockhash")
    assert info.value.code == RpcErrorCode.MISC_ERROR
    assert info.value.message.startswith("getblockhash height\n")
    with pytest.raises(RpcError) as info:
        rpc.call("getblockcount", 1)
    assert info.value.code == -1 and "getblockcount" in info.value.message


def test_wrong_argument_type_is_type_error(rpc: Harness) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("getblockhash", "0")
    assert info.value.code == RpcErrorCode.TYPE_ERROR
    assert info.value.message == (
        "Wrong type passed:\n{\n"
        '    "Position 1 (height)": "JSON value of type string is not of expected type number"'
        "\n}"
    )


def test_fractional_integer_is_out_of_range(rpc: Harness) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call("getblockhash", 0.5)
    assert (info.value.code, info.value.message) == (-1, "JSON integer out of range")


# -- HTTP level ------------------------------------------------------------------------------


def test_missing_auth_is_401_with_empty_body(rpc: Harness) -> None:
    status, headers, raw = rpc.post('{"method": "getblockcount"}', auth=False)
    assert (status, raw) == (401, b"")
    assert headers["WWW-Authenticate"] == 'Basic realm="jsonrpc"'


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + "YWxpY2U6d3Jvbmc=",  # alice:wrong
        "Basic !!!not base64",
        "Basic YWxpY2U=",  # "alice" without a colon
        "Bearer YWxpY2U6Y29ycmVjdCBob3JzZQ==",  # right credentials, wrong scheme
    ],
)
def test_bad_auth_is_401(rpc: Harness, header: str) -> None:
    status, headers, raw = rpc.post(
        '{"method": "stop"}', auth=False, headers={"Authorization": header}
    )
    assert (status, raw) == (401, b"")
    assert headers["WWW-Authenticate"] == 'Basic realm="jsonrpc"'
    assert rpc.stops == []


def test_client_reports_bad_credentials(rpc: Harness) -> None:
    with pytest.raises(RpcTransportError) as info:
        rpc.client(RpcCredentials("alice", "wrong")).call("getblockcount")
    assert info.value.status == 401


def test_get_is_405(rpc: Harness) -> None:
    status, _, raw = rpc.post("", method="GET")
    assert status == 405
    assert raw == b"JSONRPC server handles only POST requests"


def test_other_paths_are_404(rpc: Harness) -> None:
    status, _, _ = rpc.post('{"method": "getblockcount"}', path="/rest/chaininfo.json")
    assert status == 404


def test_wallet_path_runs_node_methods_and_refuses_wallet_ones(rpc: Harness) -> None:
    status, reply = rpc.post_json({"method": "getblockcount", "id": 1}, path="/wallet/w1")
    assert (status, reply["result"]) == (200, 0)
    status, reply = rpc.post_json({"method": "getbalance", "id": 1}, path="/wallet/w1")
    assert status == 500
    assert reply["error"] == {
        "code": -18,
        "message": "Requested wallet does not exist or is not loaded",
    }


@pytest.fixture
def small_rpc() -> Iterator[Harness]:
    yield from serve(max_request_bytes=1000)


def test_oversize_request_is_413(small_rpc: Harness) -> None:
    body = json.dumps({"method": "help", "params": ["x" * 2000], "id": 1})
    status, _, _ = small_rpc.post(body)
    assert status == 413
    status, reply = small_rpc.post_json({"method": "getblockcount", "id": 1})
    assert (status, reply["result"]) == (200, 0)


def test_default_request_bound_is_cores_max_size(rpc: Harness) -> None:
    from btcnode.rpc import MAX_REQUEST_BYTES

    assert MAX_REQUEST_BYTES == 32 * 1024 * 1024
    status, _, _ = rpc.post(b" " * (MAX_REQUEST_BYTES + 1))
    assert status == 413


def test_deep_nesting_is_a_parse_error(rpc: Harness) -> None:
    status, _, raw = rpc.post("[" * 100_000 + "]" * 100_000)
    assert status == 500
    assert json.loads(raw)["error"]["code"] == -32700


def test_huge_exponent_is_out_of_range_without_expanding_it(rpc: Harness) -> None:
    status, _, raw = rpc.post('{"method": "getblockhash", "params": [1e999999999], "id": 1}')
    assert status == 500
    assert json.loads(raw)["error"] == {"code": -1, "message": "JSON integer out of range"}
    status, _, raw = rpc.post('{"method": "getblockhash", "params": [' + "9" * 5000 + "]}")
    assert status == 500 and json.loads(raw)["error"]["code"] == -32700


def test_request_content_type_is_not_checked_as_in_core(rpc: Harness) -> None:
    status, _, raw = rpc.post(
        '{"method": "getblockcount", "id": 1}', headers={"Content-Type": "text/plain"}
    )
    assert (status, raw) == (200, b'{"result":0,"error":null,"id":1}\n')


def test_body_that_is_not_utf8_is_a_parse_error(rpc: Harness) -> None:
    status, _, raw = rpc.post(b'{"method": "\xff\xfe"}')
    assert status == 500
    assert json.loads(raw)["error"] == {"code": -32700, "message": "Parse error"}
