"""Argument parsing shared by the methods, with Core's messages and codes (rpc/util.cpp).

Each helper takes the decoded JSON value of one argument (types already checked by the
table where Core checks them) and returns the domain value, or raises `RpcError` as Core
does: hashes and hex -8, integers out of range -1, wrong JSON types -3, amounts -3,
addresses -5.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from btcnode.address import AddressError, script_for_address
from btcnode.consensus.params import COIN, MAX_MONEY, ChainParams
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.registry import json_type_name

__all__ = [
    "get_bool",
    "get_int",
    "get_str",
    "parse_amount",
    "parse_destination",
    "parse_fee_rate",
    "parse_hash",
    "parse_hex",
    "parse_verbosity",
]

HASH_HEX_CHARS = 64
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # UniValue getInt<int>
AMOUNT_DECIMALS = 8
_FIXED_POINT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")  # ParseFixedPoint
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


def _type_error(value: Any, expected: str) -> RpcError:
    found = json_type_name(value)
    return RpcError(
        RpcErrorCode.TYPE_ERROR, f"JSON value of type {found} is not of expected type {expected}"
    )


def get_int(value: Any, low: int = INT32_MIN, high: int = INT32_MAX) -> int:
    """UniValue::getInt: a JSON number that is an integer in range."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _type_error(value, "number")
    if isinstance(value, Decimal):  # bounded before int(): 1e999999999 must not expand
        if not low <= value <= high or value != value.to_integral_value():
            raise RpcError(RpcErrorCode.MISC_ERROR, "JSON integer out of range")
        value = int(value)
    if not low <= value <= high:
        raise RpcError(RpcErrorCode.MISC_ERROR, "JSON integer out of range")
    return value


def get_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _type_error(value, "bool")
    return value


def get_str(value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error(value, "string")
    return value


def parse_hash(value: Any, name: str) -> bytes:
    """Core's ParseHashV: 64 hex digits in display order, returned in internal order."""
    text = get_str(value)
    if len(text) != HASH_HEX_CHARS:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            f"{name} must be of length {HASH_HEX_CHARS} (not {len(text)}, for '{text}')",
        )
    if not _HEX.fullmatch(text):
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER, f"{name} must be hexadecimal string (not '{text}')"
        )
    return bytes.fromhex(text)[::-1]


def parse_hex(value: Any, name: str) -> bytes:
    """Core's ParseHexV."""
    text = get_str(value)
    if not _HEX.fullmatch(text):
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER, f"{name} must be hexadecimal string (not '{text}')"
        )
    return bytes.fromhex(text)


def parse_amount(value: Any) -> int:
    """Core's AmountFromValue: a number or numeric string in BTC, to satoshis."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Amount is not a number or string")
    text = str(value)
    if not _FIXED_POINT.fullmatch(text):
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Invalid amount")
    try:
        scaled = Decimal(text).scaleb(AMOUNT_DECIMALS)
    except InvalidOperation:
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Invalid amount") from None
    if scaled != scaled.to_integral_value() or abs(scaled) >= 10**18:
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Invalid amount")
    sats = int(scaled)
    if not 0 <= sats <= MAX_MONEY:
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Amount out of range")
    return sats


def parse_fee_rate(value: Any) -> int:
    """Core's ParseFeeRate: BTC/kvB to sat/kvB, below 1 BTC/kvB."""
    rate = parse_amount(value)
    if rate >= COIN:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Fee rates larger than or equal to 1BTC/kvB are not accepted",
        )
    return rate


def parse_verbosity(value: Any, default: int, *, allow_bool: bool = True) -> int:
    """Core's ParseVerbosity: null is the default, a bool is 0/1, else an integer."""
    if value is None:
        return default
    if isinstance(value, bool):
        if not allow_bool:
            raise RpcError(
                RpcErrorCode.TYPE_ERROR, "Verbosity was boolean but only integer allowed"
            )
        return int(value)
    return get_int(value)


def parse_destination(value: Any, params: ChainParams, message: str) -> bytes:
    """The output script of an address argument; -5 `message` (Core's wording per method)
    followed by what is wrong with it."""
    try:
        return script_for_address(get_str(value), params)
    except AddressError as err:
        raise RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, f"{message}: {err.message}") from None
