"""sendrawtransaction and testmempoolaccept (Core 28's rpc/mempool.cpp and
node/transaction.cpp BroadcastTransaction), with Core's codes:

- -22 the hex does not decode; -25 an OP_RETURN output burns more than `maxburnamount`;
- -27 "Transaction already in block chain" when an output of it is in the UTXO set;
- -25 missing or spent inputs (the reason, "bad-txns-inputs-missingorspent");
- -26 any other refusal, with the reject reason (e.g. "txn-mempool-conflict") followed by
  the evidence, as Core's `reason, debug` message;
- -25 "Fee exceeds maximum configured by user" above `maxfeerate` (0.10 BTC/kvB).

Unlike the P2P path, a transaction with missing inputs is refused, never kept as an orphan:
it is tried with `test_only` first (Core's RPC never uses the orphanage either).
Deviation: testmempoolaccept takes one transaction (Core validates up to 25 as a package).
"""

from __future__ import annotations

from typing import Any

from btcnode.consensus.errors import TxResult, ValidationError
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.script.ops import is_unspendable
from btcnode.consensus.tx import OutPoint, Tx
from btcnode.mempool import AcceptResult, FeeRate
from btcnode.rpc.args import parse_amount, parse_fee_rate
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.jsonfmt import Amount
from btcnode.rpc.rawtransactions import require_tx
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind

__all__ = ["DEFAULT_MAX_RAW_TX_FEE_RATE", "METHODS"]

CATEGORY = "rawtransactions"
DEFAULT_MAX_RAW_TX_FEE_RATE = 10_000_000  # sat/kvB: Core's 0.10 BTC/kvB for sendrawtransaction
MAX_PACKAGE_COUNT = 1  # Core takes 25 as a package; package validation is not here
_MAX_FEE_PARAM = Param(
    "maxfeerate",
    ParamKind.AMOUNT,
    "Reject transactions whose fee rate is higher than the specified value, expressed in "
    "BTC/kvB. Set to 0 to accept any fee rate.",
    default="0.10",
)


def _error_message(error: ValidationError) -> str:
    """Core's TxValidationState::ToString: `reason` or `reason, debug`."""
    return f"{error.reject_reason}, {error.debug}" if error.debug else error.reject_reason


def _refusal(result: AcceptResult) -> RpcError:
    """Core's HandleATMPError and the code each TransactionError maps to."""
    assert result.error is not None
    if result.error.result is TxResult.MISSING_INPUTS:
        return RpcError(RpcErrorCode.VERIFY_ERROR, _error_message(result.error))
    return RpcError(RpcErrorCode.VERIFY_REJECTED, _error_message(result.error))


def _max_fee_rate(value: Any) -> FeeRate:
    return FeeRate(DEFAULT_MAX_RAW_TX_FEE_RATE if value is None else parse_fee_rate(value))


def _check_burn(tx: Tx, max_burn: int) -> None:
    for out in tx.vout:
        if is_unspendable(out.script_pubkey) and out.value > max_burn:
            raise RpcError(
                RpcErrorCode.VERIFY_ERROR,
                "Unspendable output exceeds maximum configured by user (maxburnamount)",
            )


def sendrawtransaction(call: Call) -> Any:
    ctx = call.ctx
    node = ctx.node
    tx = require_tx(call.arg(0))
    max_fee_rate = _max_fee_rate(call.arg(1))
    _check_burn(tx, 0 if call.arg(2) is None else parse_amount(call.arg(2)))
    txid_hex = hash256_hex(tx.txid)
    chain = node.chainstate
    if any(chain.get_coin(OutPoint(tx.txid, n)) is not None for n in range(len(tx.vout))):
        raise RpcError(RpcErrorCode.VERIFY_ALREADY_IN_CHAIN, "Transaction already in block chain")
    if tx.txid in node.mempool:
        return txid_hex  # Core: already in the mempool is success (and a rebroadcast)
    now = ctx.clock()
    trial = node.mempool.accept(tx, chain, now, test_only=True)
    if not trial.accepted:
        raise _refusal(trial)
    assert trial.entry is not None
    if max_fee_rate.sat_per_kvb and trial.entry.fee > max_fee_rate.fee(tx.vsize):
        raise RpcError(
            RpcErrorCode.VERIFY_ERROR,
            "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
        )
    result = node.submit_transaction(tx, now)
    if not result.accepted:
        raise _refusal(result)
    return txid_hex


def _test_one(call: Call, tx: Tx, max_fee_rate: FeeRate) -> dict[str, Any]:
    node = call.ctx.node
    out: dict[str, Any] = {"txid": hash256_hex(tx.txid), "wtxid": hash256_hex(tx.wtxid)}
    result = node.mempool.accept(tx, node.chainstate, call.ctx.clock(), test_only=True)
    if not result.accepted or result.entry is None:
        assert result.error is not None
        out["allowed"] = False
        missing = result.error.result is TxResult.MISSING_INPUTS
        out["reject-reason"] = "missing-inputs" if missing else result.error.reject_reason
        return out
    entry = result.entry
    if max_fee_rate.sat_per_kvb and entry.fee > max_fee_rate.fee(entry.vsize):
        out["allowed"] = False
        out["reject-reason"] = "max-fee-exceeded"
        return out
    out["allowed"] = True
    out["vsize"] = entry.vsize
    out["fees"] = {
        "base": Amount(entry.fee),
        "effective-feerate": Amount(FeeRate.of(entry.fee, entry.vsize).sat_per_kvb),
        "effective-includes": [hash256_hex(tx.wtxid)],
    }
    return out


def testmempoolaccept(call: Call) -> Any:
    rawtxs = call.arg(0)
    if not 1 <= len(rawtxs) <= MAX_PACKAGE_COUNT:
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            f"Array must contain between 1 and {MAX_PACKAGE_COUNT} transactions "
            "(package validation is not supported by this node).",
        )
    max_fee_rate = _max_fee_rate(call.arg(1))
    results = []
    for raw in rawtxs:
        tx = require_tx(raw)
        results.append(_test_one(call, tx, max_fee_rate))
    return results


METHODS = (
    MethodSpec(
        "sendrawtransaction",
        CATEGORY,
        sendrawtransaction,
        "Submit a raw transaction (serialized, hex-encoded) to local node and network.",
        (
            Param(
                "hexstring",
                ParamKind.STR_HEX,
                "The hex string of the raw transaction",
                required=True,
            ),
            _MAX_FEE_PARAM,
            Param(
                "maxburnamount",
                ParamKind.AMOUNT,
                "Reject transactions with provably unspendable outputs (e.g. 'datacarrier' "
                "outputs that use the OP_RETURN opcode) greater than the specified value, "
                "expressed in BTC.",
                default="0.00",
            ),
        ),
    ),
    MethodSpec(
        "testmempoolaccept",
        CATEGORY,
        testmempoolaccept,
        "Returns result of mempool acceptance tests indicating if raw transaction(s) "
        "(serialized, hex-encoded) would be accepted by mempool.",
        (
            Param(
                "rawtxs",
                ParamKind.ARR,
                "An array of hex strings of raw transactions.",
                required=True,
            ),
            _MAX_FEE_PARAM,
        ),
    ),
)
