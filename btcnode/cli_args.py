"""bitcoin-cli's command-line conventions, as pure functions: arguments in, JSON text out.

- `convert_positional` / `convert_named`: the strings after METHOD become JSON-RPC params as
  bitcoin-cli makes them (src/rpc/client.cpp): a parameter Core lists in its conversion
  table (`CONVERT_PARAMS`, e.g. getblock's `verbosity`) is parsed as JSON ("Error parsing
  JSON: ..." when it is not); every other parameter of a method in the table stays a
  string. For a method Core's table does not know (this node's own additions), a value
  that reads as a JSON number, true, false, null, array or object is converted and every
  other value stays a string.
- `format_result`: how bitcoin-cli prints a result: nothing for null, a string raw,
  anything else as UniValue's 2-space pretty JSON (`[` and `]` on their own lines even when
  empty), with numbers exactly as the server wrote them.
- `format_error`: Core's `error code: N` / `error message:` text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from btcnode.consensus.errors import ChainMisuse

__all__ = [
    "CONVERT_PARAMS",
    "CliArgumentError",
    "convert_named",
    "convert_positional",
    "format_error",
    "format_result",
    "parse_response",
]


class CliArgumentError(ChainMisuse):
    """An argument cannot be converted; the message is bitcoin-cli's."""


# (method, position, name) of every parameter bitcoin-cli parses as JSON (Core's
# vRPCConvertParams), for the node's methods; wallet methods are not served here.
_TABLE: tuple[tuple[str, int, str], ...] = (
    ("addnode", 2, "v2transport"),
    ("addpeeraddress", 1, "port"),
    ("addpeeraddress", 2, "tried"),
    ("combinerawtransaction", 0, "txs"),
    ("createmultisig", 0, "nrequired"),
    ("createmultisig", 1, "keys"),
    ("createrawtransaction", 0, "inputs"),
    ("createrawtransaction", 1, "outputs"),
    ("createrawtransaction", 2, "locktime"),
    ("createrawtransaction", 3, "replaceable"),
    ("decoderawtransaction", 1, "iswitness"),
    ("deriveaddresses", 1, "range"),
    ("disconnectnode", 1, "nodeid"),
    ("estimaterawfee", 0, "conf_target"),
    ("estimaterawfee", 1, "threshold"),
    ("estimatesmartfee", 0, "conf_target"),
    ("generateblock", 1, "transactions"),
    ("generateblock", 2, "submit"),
    ("generatetoaddress", 0, "nblocks"),
    ("generatetoaddress", 2, "maxtries"),
    ("generatetodescriptor", 0, "num_blocks"),
    ("generatetodescriptor", 2, "maxtries"),
    ("getblock", 1, "verbosity"),
    ("getblock", 1, "verbose"),
    ("getblockfrompeer", 1, "peer_id"),
    ("getblockhash", 0, "height"),
    ("getblockheader", 1, "verbose"),
    ("getblockstats", 0, "hash_or_height"),
    ("getblockstats", 1, "stats"),
    ("getblocktemplate", 0, "template_request"),
    ("getchaintxstats", 0, "nblocks"),
    ("getmempoolancestors", 1, "verbose"),
    ("getmempooldescendants", 1, "verbose"),
    ("getnetworkhashps", 0, "nblocks"),
    ("getnetworkhashps", 1, "height"),
    ("getnodeaddresses", 0, "count"),
    ("getrawmempool", 0, "verbose"),
    ("getrawmempool", 1, "mempool_sequence"),
    ("getrawtransaction", 1, "verbosity"),
    ("getrawtransaction", 1, "verbose"),
    ("gettxout", 1, "n"),
    ("gettxout", 2, "include_mempool"),
    ("gettxoutproof", 0, "txids"),
    ("gettxoutsetinfo", 1, "hash_or_height"),
    ("gettxoutsetinfo", 2, "use_index"),
    ("logging", 0, "include"),
    ("logging", 1, "exclude"),
    ("mockscheduler", 0, "delta_time"),
    ("prioritisetransaction", 1, "dummy"),
    ("prioritisetransaction", 2, "fee_delta"),
    ("pruneblockchain", 0, "height"),
    ("scantxoutset", 1, "scanobjects"),
    ("sendrawtransaction", 1, "maxfeerate"),
    ("sendrawtransaction", 2, "maxburnamount"),
    ("setban", 2, "bantime"),
    ("setban", 3, "absolute"),
    ("setmocktime", 0, "timestamp"),
    ("setnetworkactive", 0, "state"),
    ("signrawtransactionwithkey", 1, "privkeys"),
    ("signrawtransactionwithkey", 2, "prevtxs"),
    ("stop", 0, "wait"),
    ("submitpackage", 0, "package"),
    ("submitpackage", 1, "maxfeerate"),
    ("submitpackage", 2, "maxburnamount"),
    ("testmempoolaccept", 0, "rawtxs"),
    ("testmempoolaccept", 1, "maxfeerate"),
    ("verifychain", 0, "checklevel"),
    ("verifychain", 1, "nblocks"),
    ("waitforblock", 1, "timeout"),
    ("waitforblockheight", 0, "height"),
    ("waitforblockheight", 1, "timeout"),
    ("waitfornewblock", 0, "timeout"),
)
# Methods Core's client knows that take only strings (so no argument is converted).
_STRING_ONLY = frozenset(
    {
        "getbestblockhash",
        "getblockchaininfo",
        "getblockcount",
        "getchaintips",
        "getconnectioncount",
        "getdifficulty",
        "getmempoolentry",
        "getmempoolinfo",
        "getmininginfo",
        "getnetworkinfo",
        "getpeerinfo",
        "getrpcinfo",
        "help",
        "invalidateblock",
        "listbanned",
        "clearbanned",
        "ping",
        "reconsiderblock",
        "savemempool",
        "submitblock",
        "submitheader",
        "uptime",
        "validateaddress",
        "decodescript",
        "getaddednodeinfo",
    }
)
CONVERT_PARAMS: frozenset[tuple[str, int, str]] = frozenset(_TABLE)
_BY_POSITION = frozenset((method, position) for method, position, _ in _TABLE)
_BY_NAME = frozenset((method, name) for method, _, name in _TABLE)
_KNOWN = frozenset(method for method, _, _ in _TABLE) | _STRING_ONLY


def _parse_json_value(text: str) -> Any:
    """Core's ParseNonRFCJSONValue: any one JSON value, numbers kept exact."""
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        raise CliArgumentError(f"Error parsing JSON: {text}") from None


def _guess(text: str) -> Any:
    """For methods outside Core's table: a JSON number/literal/array/object, else the text."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except ValueError:
        return text
    return text if isinstance(value, str) else value


def _convert(method: str, converts: bool, text: str) -> Any:
    if method not in _KNOWN:
        return _guess(text)
    return _parse_json_value(text) if converts else text


def convert_positional(method: str, args: list[str]) -> list[Any]:
    """bitcoin-cli's RPCConvertValues."""
    return [_convert(method, (method, i) in _BY_POSITION, arg) for i, arg in enumerate(args)]


def convert_named(method: str, args: list[str]) -> dict[str, Any]:
    """bitcoin-cli -named's RPCConvertNamedValues: each argument is `name=value`."""
    params: dict[str, Any] = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep or not name:
            raise CliArgumentError(f"No '=' in named argument '{arg}'")
        if name in params:
            raise CliArgumentError(f"Parameter {name} specified multiple times")
        params[name] = _convert(method, (method, name) in _BY_NAME, value)
    return params


def request_body(method: str, params: list[Any] | dict[str, Any], request_id: int = 1) -> bytes:
    """A JSON-RPC 1.0 request as bitcoin-cli sends it."""
    body = {"jsonrpc": "1.0", "id": request_id, "method": method, "params": params}
    return _write(body, 0, 0).encode()


def parse_response(body: bytes) -> tuple[Any, Any]:
    """(result, error) of a JSON-RPC reply, numbers kept exact; `CliArgumentError` if the
    body is not a JSON-RPC reply object."""
    try:
        reply = json.loads(body, parse_float=Decimal)
    except ValueError:
        raise CliArgumentError(f"the server's reply is not JSON: {body[:80]!r}") from None
    if not isinstance(reply, dict) or not ("result" in reply or "error" in reply):
        raise CliArgumentError("the server's reply is not a JSON-RPC reply object")
    return reply.get("result"), reply.get("error")


def format_result(result: Any) -> str | None:
    """What bitcoin-cli prints for `result` (None: print nothing)."""
    if result is None:
        return None
    if isinstance(result, str):
        return result
    return _write(result, 2, 1)


def format_error(error: Any) -> str:
    """bitcoin-cli's ParseError text for a JSON-RPC error value."""
    if not isinstance(error, dict):
        return f"error: {_write(error, 0, 0)}"
    text = ""
    if error.get("code") is not None:
        text = f"error code: {_write(error['code'], 0, 0)}\n"
    if isinstance(error.get("message"), str):
        text += f"error message:\n{error['message']}"
    return text


def _write(value: Any, indent: int, level: int) -> str:
    """UniValue::write(indent) for a parsed JSON value (`Decimal` numbers as written)."""
    if isinstance(value, dict):
        colon = ": " if indent else ":"
        parts = [_string(str(k)) + colon + _write(v, indent, level + 1) for k, v in value.items()]
        return _container("{", "}", parts, indent, level)
    if isinstance(value, list):
        parts = [_write(v, indent, level + 1) for v in value]
        return _container("[", "]", parts, indent, level)
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):  # as the server wrote it: printf's lower-case exponent
        return str(value).replace("E", "e")
    return str(value)


def _container(open_: str, close: str, parts: list[str], indent: int, level: int) -> str:
    if not indent:
        return open_ + ",".join(parts) + close
    pad = " " * (indent * level)
    inner = ",\n".join(pad + part for part in parts)
    end = " " * (indent * (level - 1))
    return f"{open_}\n{inner}{chr(10) if parts else ''}{end}{close}"


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
