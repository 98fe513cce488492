"""createrawtransaction's inputs and outputs (Core's rawtransaction_util.cpp
ConstructTransaction, AddInputs, ParseOutputs), with Core's messages.

Outputs are an object `{address: amount, "data": hex}` or an array of one-key objects;
addresses must be this network's (-5 "Invalid Bitcoin address: ..."), amounts are Core's
AmountFromValue, `data` becomes an OP_RETURN output. Version 2, as Core 28 creates.
"""

from __future__ import annotations

from typing import Any

from btcnode.consensus.params import ChainParams
from btcnode.consensus.script.opcodes import Op
from btcnode.consensus.script.ops import push_data
from btcnode.consensus.tx import MAX_SEQUENCE_NONFINAL, SEQUENCE_FINAL, OutPoint, Tx, TxIn, TxOut
from btcnode.mempool import signals_opt_in
from btcnode.mempool.entry import MAX_BIP125_RBF_SEQUENCE
from btcnode.rpc.args import (
    get_bool,
    get_int,
    parse_amount,
    parse_destination,
    parse_hash,
    parse_hex,
)
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.registry import json_type_name

__all__ = ["construct_transaction"]

TX_VERSION = 2  # Core 28's CURRENT_VERSION for created transactions
LOCKTIME_MAX = 0xFFFFFFFF


def _invalid(message: str) -> RpcError:
    return RpcError(RpcErrorCode.INVALID_PARAMETER, message)


def _expect(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind):
        raise RpcError(
            RpcErrorCode.TYPE_ERROR,
            f"JSON value of type {json_type_name(value)} is not of expected type {name}",
        )
    return value


def _input(item: Any, default_sequence: int) -> TxIn:
    obj = _expect(item, dict, "object")
    txid = parse_hash(obj.get("txid"), "txid")
    vout = obj.get("vout")
    if isinstance(vout, bool) or vout is None or json_type_name(vout) != "number":
        raise _invalid("Invalid parameter, missing vout key")
    n = get_int(vout)
    if n < 0:
        raise _invalid("Invalid parameter, vout cannot be negative")
    sequence = default_sequence
    if json_type_name(obj.get("sequence")) == "number":
        sequence = get_int(obj["sequence"], -(2**63), 2**63 - 1)
        if not 0 <= sequence <= SEQUENCE_FINAL:
            raise _invalid("Invalid parameter, sequence number is out of range")
    return TxIn(OutPoint(txid, n), b"", sequence)


def _output_pairs(outputs: Any) -> list[tuple[str, Any]]:
    if outputs is None:
        raise _invalid("Invalid parameter, output argument must be non-null")
    if isinstance(outputs, dict):
        return list(outputs.items())
    pairs: list[tuple[str, Any]] = []
    for item in _expect(outputs, list, "array"):
        if not isinstance(item, dict):
            raise _invalid("Invalid parameter, key-value pair not an object as expected")
        if len(item) != 1:
            raise _invalid("Invalid parameter, key-value pair must contain exactly one key")
        pairs.extend(item.items())
    return pairs


def _outputs(outputs: Any, params: ChainParams) -> tuple[TxOut, ...]:
    has_data = False
    destinations: set[bytes] = set()
    result = []
    for key, value in _output_pairs(outputs):
        if key == "data":
            if has_data:
                raise _invalid("Invalid parameter, duplicate key: data")
            has_data = True
            data = parse_hex(value, "Data")
            result.append(TxOut(0, bytes((Op.OP_RETURN,)) + push_data(data)))
            continue
        script = parse_destination(key, params, f"Invalid Bitcoin address: {key}")
        if script in destinations:
            raise _invalid(f"Invalid parameter, duplicated address: {key}")
        destinations.add(script)
        result.append(TxOut(parse_amount(value), script))
    return tuple(result)


def construct_transaction(
    inputs: Any, outputs: Any, locktime: Any, replaceable: Any, params: ChainParams
) -> Tx:
    """Core's ConstructTransaction."""
    lock_time = 0
    if locktime is not None:
        lock_time = get_int(locktime, -(2**63), 2**63 - 1)
        if not 0 <= lock_time <= LOCKTIME_MAX:
            raise _invalid("Invalid parameter, locktime out of range")
    rbf = False if replaceable is None else get_bool(replaceable)
    if rbf:
        default_sequence = MAX_BIP125_RBF_SEQUENCE
    else:
        default_sequence = MAX_SEQUENCE_NONFINAL if lock_time else SEQUENCE_FINAL
    vin = tuple(_input(item, default_sequence) for item in _expect(inputs, list, "array"))
    tx = Tx(TX_VERSION, vin, _outputs(outputs, params), lock_time)
    if rbf and vin and not signals_opt_in(tx):
        raise _invalid(
            "Invalid parameter combination: Sequence number(s) contradict replaceable option"
        )
    return tx
