"""bitcoin-cli's argument conversion and output, as `btcnode rpc` applies them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from btcnode.cli_args import (
    CliArgumentError,
    convert_named,
    convert_positional,
    format_error,
    format_result,
    parse_response,
    request_body,
)

HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


@pytest.mark.parametrize(
    ("method", "args", "expected"),
    [
        ("getblockhash", ["5"], [5]),
        ("getblock", [HASH, "2"], [HASH, 2]),
        ("getblock", [HASH, "true"], [HASH, True]),
        ("getrawmempool", ["false", "true"], [False, True]),
        ("generatetoaddress", ["101", "bcrt1qxyz"], [101, "bcrt1qxyz"]),
        ("sendrawtransaction", ["0200ab", "0.1"], ["0200ab", Decimal("0.1")]),
        ("testmempoolaccept", ['["00", "01"]'], [["00", "01"]]),
        ("createrawtransaction", ["[]", '{"data":"00"}'], [[], {"data": "00"}]),
        ("gettxout", [HASH, "0", "null"], [HASH, 0, None]),
        # a parameter Core does not convert stays a string even if it looks like JSON
        ("getmempoolentry", ["123"], ["123"]),
        ("addnode", ["127.0.0.1:18444", "add"], ["127.0.0.1:18444", "add"]),
        # a method Core's table does not know: JSON-looking values convert
        (
            "mynewmethod",
            ["5", "true", "null", "[1]", "word", '"quoted"'],
            [5, True, None, [1], "word", '"quoted"'],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_positional_arguments_convert_as_bitcoin_cli(
    method: str, args: list[str], expected: list[Any]
) -> None:
    assert convert_positional(method, args) == expected


def test_a_converted_parameter_that_is_not_json_is_core_s_error() -> None:
    with pytest.raises(CliArgumentError) as caught:
        convert_positional("getblockhash", ["five"])
    assert str(caught.value) == "Error parsing JSON: five"


def test_named_arguments() -> None:
    assert convert_named("getblock", [f"blockhash={HASH}", "verbosity=0"]) == {
        "blockhash": HASH,
        "verbosity": 0,
    }
    assert convert_named("echo", ["x=a=b"]) == {"x": "a=b"}
    with pytest.raises(CliArgumentError, match="No '=' in named argument 'oops'"):
        convert_named("getblock", ["oops"])
    with pytest.raises(CliArgumentError, match="specified multiple times"):
        convert_named("getblock", ["verbosity=1", "verbosity=2"])


def test_results_print_like_bitcoin_cli() -> None:
    assert format_result(None) is None
    assert format_result(HASH) == HASH  # strings raw, no quotes
    assert format_result(101) == "101"
    assert format_result(True) == "true"
    assert format_result([]) == "[\n]"
    assert format_result({}) == "{\n}"
    result, _ = parse_response(
        b'{"result":{"chain":"regtest","blocks":1,"fee":0.00010000,"warnings":[],'
        b'"tips":[{"a":null}]},"error":null,"id":1}'
    )
    assert format_result(result) == (
        "{\n"
        '  "chain": "regtest",\n'
        '  "blocks": 1,\n'
        '  "fee": 0.00010000,\n'
        '  "warnings": [\n'
        "  ],\n"
        '  "tips": [\n'
        "    {\n"
        '      "a": null\n'
        "    }\n"
        "  ]\n"
        "}"
    )


def test_numbers_print_as_the_server_wrote_them() -> None:
    result, _ = parse_response(
        b'{"result":{"difficulty":4.656542373906925e-10,"big":1e+20,"fee":0.00010000},'
        b'"error":null,"id":1}'
    )
    assert format_result(result) == (
        '{\n  "difficulty": 4.656542373906925e-10,\n  "big": 1e+20,\n  "fee": 0.00010000\n}'
    )


def test_errors_print_core_s_text() -> None:
    error = {"code": -8, "message": "Block height out of range"}
    assert format_error(error) == "error code: -8\nerror message:\nBlock height out of range"
    assert format_error("boom") == 'error: "boom"'


def test_replies_that_are_not_json_rpc_are_refused() -> None:
    with pytest.raises(CliArgumentError, match="not JSON"):
        parse_response(b"<html>")
    with pytest.raises(CliArgumentError, match="not a JSON-RPC reply"):
        parse_response(b"[1]")


def test_the_request_body_is_json_rpc_1_0_with_exact_numbers() -> None:
    body = json.loads(request_body("sendrawtransaction", ["00", Decimal("0.10")]))
    assert body == {
        "jsonrpc": "1.0",
        "id": 1,
        "method": "sendrawtransaction",
        "params": ["00", 0.1],
    }
    assert b"0.10" in request_body("x", [Decimal("0.10")])
