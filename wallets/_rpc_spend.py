"""The wallet RPC methods that spend: listunspent, sendtoaddress and
signrawtransactionwithwallet, with Core's shapes and codes (wallet/rpc/spend.cpp, coins.cpp).

Deviations: sendtoaddress pays the fee on top (subtractfeefromamount=true is refused) and
takes fee_rate in sat/vB or the node's estimate (conf_target and estimate_mode are refused);
comments are not kept. signrawtransactionwithwallet signs only the wallet's own coins
(prevtxs refused) with SIGHASH_ALL; an input it cannot sign keeps what it had, and one left
with no script at all is reported in `errors` as Core does.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.tx import Tx, TxIn, TxOut
from btcnode.mempool.feerate import FeeRate
from btcnode.rpc.args import get_bool, get_int, get_str, parse_amount, parse_destination
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.jsonfmt import Amount
from btcnode.rpc.rawtransactions import require_tx
from btcnode.rpc.registry import Call
from btcnode.signing import p2wpkh_script_for
from wallets._rpc_manager import LoadedWallet, WalletManager, WalletRpcCode
from wallets.accounts import AddressType
from wallets.builder import DustOutput, FeeRateTooLow
from wallets.coinselect import InsufficientFunds
from wallets.psbt import Psbt
from wallets.psbt_roles import create_psbt, final_txin, finalize_psbt, update_input
from wallets.wallet import Wallet, WalletCoin

__all__ = ["listunspent", "refuse_true", "sendtoaddress", "signrawtransactionwithwallet"]


def refuse_true(call: Call, index: int, name: str, why: str) -> None:
    """An option this wallet does not have, refused when set to true."""
    if call.arg(index) is not None and get_bool(call.arg(index)):
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, f"{name}=true is not supported: {why}")


def _coin_json(coin: WalletCoin, pubkey: bytes) -> dict[str, Any]:
    """Core's listunspent entry (desc/parent_descs aside: there are no descriptors here)."""
    entry: dict[str, Any] = {
        "txid": hash256_hex(coin.outpoint.txid),
        "vout": coin.outpoint.n,
        "address": coin.address,
        "label": coin.label,
    }
    if coin.address_type is AddressType.P2SH_P2WPKH:
        entry["redeemScript"] = p2wpkh_script_for(pubkey).hex()
    entry.update(
        scriptPubKey=coin.script_pubkey.hex(),
        amount=Amount(coin.value),
        confirmations=coin.confirmations,
        spendable=coin.spendable,
        solvable=True,
        safe=coin.confirmations > 0 or coin.spendable,
    )
    return entry


def _pubkey_of(wallet: Wallet, coin: WalletCoin) -> bytes:
    """The public key the coin's script pays (the wallet derived it to watch the script)."""
    return wallet.state.by_script[coin.script_pubkey].derived.pubkey


def listunspent(manager: WalletManager, call: Call) -> Any:
    min_conf = 1 if call.arg(0) is None else get_int(call.arg(0), 0)
    max_conf = 9_999_999 if call.arg(1) is None else get_int(call.arg(1), 0)
    wanted = None
    if call.arg(2) is not None:
        wanted = set()
        for value in call.arg(2):
            address = get_str(value)
            parse_destination(address, manager.params, "Invalid Bitcoin address")
            if address in wanted:
                raise RpcError(
                    RpcErrorCode.INVALID_PARAMETER,
                    f"Invalid parameter, duplicated address: {address}",
                )
            wanted.add(address)
    include_unsafe = True if call.arg(3) is None else get_bool(call.arg(3))
    if call.arg(4) not in (None, {}):
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, "query_options is not supported")
    wallet = manager.for_call(call).wallet
    return [
        _coin_json(c, _pubkey_of(wallet, c))
        for c in wallet.list_unspent(min_conf)
        if c.confirmations <= max_conf
        and not (c.coinbase and c.confirmations <= manager.params.coinbase_maturity)
        and (wanted is None or c.address in wanted)
        and (include_unsafe or c.confirmations > 0 or c.spendable)
    ]


def _fee_rate_sat_vb(value: Any) -> FeeRate:
    """Core's fee_rate argument: sat/vB with at most 3 decimals (AmountFromValue(v, 3))."""
    text = str(value) if isinstance(value, int | Decimal | str) and value is not True else ""
    try:
        scaled = Decimal(text).scaleb(3)
    except InvalidOperation:
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Invalid amount") from None
    if not scaled.is_finite() or scaled != scaled.to_integral_value() or scaled < 0:
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Invalid amount")
    if scaled >= 10**15:
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Amount out of range")
    return FeeRate(int(scaled))


def _send_options(call: Call) -> tuple[FeeRate | None, bool]:
    """fee_rate and replaceable; the options this wallet does not have are refused."""
    refuse_true(call, 4, "subtractfeefromamount", "the fee is always added to the payment")
    if call.arg(6) is not None or call.arg(7) not in (None, "unset"):
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "conf_target and estimate_mode are not supported: give fee_rate in sat/vB "
            "(without it the node's estimate, or 20 sat/vB, is used)",
        )
    fee_rate = None if call.arg(9) is None else _fee_rate_sat_vb(call.arg(9))
    replaceable = True if call.arg(5) is None else get_bool(call.arg(5))
    return fee_rate, replaceable


def _spendable_entry(manager: WalletManager, call: Call) -> LoadedWallet:
    entry = manager.for_call(call)
    if entry.locked(call.ctx.clock()):
        raise RpcError(
            WalletRpcCode.UNLOCK_NEEDED,
            "Error: Please enter the wallet passphrase with walletpassphrase first.",
        )
    return entry


def sendtoaddress(manager: WalletManager, call: Call) -> Any:
    manager.named(call.uri)  # Core finds the wallet (-18/-19) before reading the arguments
    address = get_str(call.arg(0))
    parse_destination(address, manager.params, "Invalid address")
    amount = parse_amount(call.arg(1))
    if amount <= 0:
        raise RpcError(RpcErrorCode.TYPE_ERROR, "Invalid amount for send")
    fee_rate, replaceable = _send_options(call)
    entry = _spendable_entry(manager, call)
    node = manager.node_for(call)
    try:
        sent = entry.wallet.send(node, [(address, amount)], fee_rate=fee_rate, rbf=replaceable)
    except InsufficientFunds:
        raise RpcError(WalletRpcCode.INSUFFICIENT_FUNDS, "Insufficient funds") from None
    except DustOutput:
        raise RpcError(WalletRpcCode.INSUFFICIENT_FUNDS, "Transaction amount too small") from None
    except FeeRateTooLow as err:
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, str(err)) from None
    txid = hash256_hex(sent.txid)
    if call.arg(10) is not None and get_bool(call.arg(10)):
        reason = "User-specified" if fee_rate is not None else "Fallback fee"
        return {"txid": txid, "fee_reason": reason}
    return txid


def _input_error(txin: TxIn, message: str) -> dict[str, Any]:
    """Core's TxInErrorToJSON."""
    return {
        "txid": hash256_hex(txin.prevout.txid),
        "vout": txin.prevout.n,
        "witness": [item.hex() for item in txin.witness],
        "scriptSig": txin.script_sig.hex(),
        "sequence": txin.sequence,
        "error": message,
    }


def _signed_inputs(tx: Tx, psbt: Psbt) -> tuple[list[TxIn], list[dict[str, Any]]]:
    """Each input with the wallet's final script where it signed one, else as given; an
    input left without any script is an error (Core's wording for a coin it cannot see)."""
    vin, errors = [], []
    for txin, m in zip(tx.vin, psbt.inputs, strict=True):
        final = final_txin(txin, m)
        vin.append(txin if final is None else final)
        if final is None and not txin.script_sig and not txin.witness:
            errors.append(_input_error(txin, "Input not found or already spent"))
    return vin, errors


def _with_wallet_coins(wallet: Wallet, psbt: Psbt) -> Psbt:
    """The UTXO (and P2SH-P2WPKH redeem script) of every input spending a wallet coin."""
    coins = {c.outpoint: c for c in wallet.list_unspent(0)}
    for n, txin in enumerate(psbt.tx.vin):
        coin = coins.get(txin.prevout)
        if coin is None:
            continue
        legacy = coin.address_type is AddressType.P2PKH
        nested = coin.address_type is AddressType.P2SH_P2WPKH
        psbt = update_input(
            psbt,
            n,
            non_witness_utxo=wallet.transaction(coin.outpoint.txid) if legacy else None,
            witness_utxo=None if legacy else TxOut(coin.value, coin.script_pubkey),
            redeem_script=p2wpkh_script_for(_pubkey_of(wallet, coin)) if nested else None,
        )
    return psbt


def signrawtransactionwithwallet(manager: WalletManager, call: Call) -> Any:
    manager.named(call.uri)
    tx = require_tx(call.arg(0))
    if call.arg(1) not in (None, []):
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "prevtxs is not supported: this wallet signs the coins it holds",
        )
    if call.arg(2) is not None and get_str(call.arg(2)) not in ("DEFAULT", "ALL"):
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, f"Invalid sighash param {call.arg(2)!r}")
    entry = _spendable_entry(manager, call)
    unsigned_vin = tuple(TxIn(i.prevout, b"", i.sequence) for i in tx.vin)
    unsigned = Tx(tx.version, unsigned_vin, tx.vout, tx.lock_time)
    psbt = _with_wallet_coins(entry.wallet, create_psbt(unsigned))
    signed = finalize_psbt(entry.wallet.sign_psbt(psbt))
    vin, errors = _signed_inputs(tx, signed)
    final = Tx(tx.version, tuple(vin), tx.vout, tx.lock_time)
    result: dict[str, Any] = {"hex": final.serialize().hex(), "complete": not errors}
    if errors:
        result["errors"] = errors
    return result
