"""Bitcoin Core's wallet RPC methods, served by `btcnode run` over the wallets of its wallet
directory (`wallets._rpc_manager.WalletManager`).

`wallet_methods(manager)` are the `MethodSpec`s the daemon adds to its table. Each method
finds its wallet as Core does (`/wallet/<name>`, or the only loaded wallet on `/`) and, unless
it only manages wallets, syncs it with the node first through `manager.node_for(call)`, the
daemon's in-process client, so an answer reflects the chain and mempool of that moment.
Results have Core's shapes with amounts in BTC (eight decimals); errors have Core's codes.
Wallet errors a method does not translate itself are -4 (RPC_WALLET_ERROR) with their text.

Deviations: createwallet always makes an HD (BIP44/49/84) wallet: disable_private_keys,
blank and external_signer must be false, descriptors and load_on_startup are ignored (no
wallet loads at start: use loadwallet); getnewaddress has no bech32m; wallet names are 1-64
of [A-Za-z0-9._-]; include_watchonly and avoid_reuse are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from btcnode.consensus.hashes import hash256_hex
from btcnode.rpc.args import get_int, get_str
from btcnode.rpc.errors import RpcError, RpcErrorCode
from btcnode.rpc.jsonfmt import Amount
from btcnode.rpc.registry import Call, MethodSpec, Param, ParamKind
from wallets._records import WalletStateCorrupted
from wallets._rpc_manager import (
    MAX_UNLOCK_TIMEOUT_S,
    WALLET_URI_PREFIX,
    LoadedWallet,
    WalletManager,
    WalletRpcCode,
)
from wallets._rpc_spend import listunspent, refuse_true, sendtoaddress, signrawtransactionwithwallet
from wallets.accounts import AddressType
from wallets.errors import WalletError
from wallets.keystore import KeystoreCorrupted
from wallets.wallet import Wallet

__all__ = ["CATEGORY", "WalletManager", "wallet_methods"]

CATEGORY = "wallet"


def _str_param(name: str, description: str, *, required: bool = False) -> Param:
    return Param(name, ParamKind.STR, description, required=required)


def _bool_param(name: str, description: str, default: str) -> Param:
    return Param(name, ParamKind.BOOL, description, default=default)


def createwallet(manager: WalletManager, call: Call) -> Any:
    name = get_str(call.arg(0))
    refuse_true(call, 1, "disable_private_keys", "this wallet always holds an HD seed")
    refuse_true(call, 2, "blank", "this wallet always holds an HD seed")
    refuse_true(call, 7, "external_signer", "no external signers here")
    passphrase = None if call.arg(3) is None else get_str(call.arg(3))
    manager.create(name, passphrase)
    result: dict[str, Any] = {"name": name}
    if passphrase == "":
        result["warnings"] = ["Empty string given as passphrase, wallet will not be encrypted."]
    return result


def loadwallet(manager: WalletManager, call: Call) -> Any:
    name = get_str(call.arg(0))
    manager.load(name)
    return {"name": name}


def unloadwallet(manager: WalletManager, call: Call) -> Any:
    if call.arg(0) is None:
        name = manager.named(call.uri).name
    else:
        name = get_str(call.arg(0))
        if call.uri.startswith(WALLET_URI_PREFIX) and call.uri[len(WALLET_URI_PREFIX) :] != name:
            raise RpcError(
                RpcErrorCode.INVALID_PARAMETER,
                "RPC endpoint wallet and wallet_name parameter specify different wallets",
            )
    manager.unload(name)
    return {}


def listwallets(manager: WalletManager, call: Call) -> Any:
    return sorted(manager.loaded)


def _encrypted(manager: WalletManager, call: Call, method: str) -> LoadedWallet:
    """The request's wallet, which `method` needs encrypted (Core's -15 otherwise)."""
    entry = manager.for_call(call, sync=False)
    if not entry.encrypted:
        raise RpcError(
            WalletRpcCode.WRONG_ENC_STATE,
            f"Error: running with an unencrypted wallet, but {method} was called.",
        )
    return entry


def walletpassphrase(manager: WalletManager, call: Call) -> Any:
    entry = _encrypted(manager, call, "walletpassphrase")
    passphrase = get_str(call.arg(0))
    timeout = get_int(call.arg(1), 0 - 2**63, 2**63 - 1)
    if timeout < 0:
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, "Timeout cannot be negative.")
    if not passphrase:
        raise RpcError(RpcErrorCode.INVALID_PARAMETER, "passphrase cannot be empty")
    until = call.ctx.clock() + min(timeout, MAX_UNLOCK_TIMEOUT_S)
    manager.unlock(entry, passphrase, until)
    return None


def walletlock(manager: WalletManager, call: Call) -> Any:
    manager.lock(_encrypted(manager, call, "walletlock"))
    return None


ADDRESS_TYPES = {  # Core's -addresstype names
    "bech32": AddressType.P2WPKH,
    "p2sh-segwit": AddressType.P2SH_P2WPKH,
    "legacy": AddressType.P2PKH,
}


def getnewaddress(manager: WalletManager, call: Call) -> Any:
    label = "" if call.arg(0) is None else get_str(call.arg(0))
    if label == "*":
        raise RpcError(WalletRpcCode.INVALID_LABEL_NAME, "Invalid label name")
    type_name = "bech32" if call.arg(1) is None else get_str(call.arg(1))
    if type_name not in ADDRESS_TYPES:
        known = type_name == "bech32m"
        raise RpcError(
            RpcErrorCode.INVALID_PARAMETER if known else RpcErrorCode.INVALID_ADDRESS_OR_KEY,
            "address_type bech32m (taproot) is not supported by this wallet"
            if known
            else f"Unknown address type '{type_name}'",
        )
    entry = manager.for_call(call)
    return entry.wallet.new_address(ADDRESS_TYPES[type_name], label=label).address


def _check_dummy(call: Call) -> None:
    if call.arg(0) is not None and call.arg(0) != "*":
        raise RpcError(
            WalletRpcCode.METHOD_DEPRECATED, 'dummy first argument must be excluded or set to "*".'
        )


def _trusted(wallet: Wallet, min_conf: int = 0) -> int:
    """Core's trusted balance: mature coins confirmed `min_conf` times, or (at 0) the
    wallet's own unconfirmed change (`WalletCoin.spendable`)."""
    return sum(c.value for c in wallet.list_unspent(min_conf) if c.spendable)


def getbalance(manager: WalletManager, call: Call) -> Any:
    _check_dummy(call)
    min_conf = 0 if call.arg(1) is None else get_int(call.arg(1), 0)
    return Amount(_trusted(manager.for_call(call).wallet, min_conf))


def getbalances(manager: WalletManager, call: Call) -> Any:
    wallet = manager.for_call(call, sync=False).wallet
    report = wallet.sync(manager.node_for(call))
    got = wallet.balance()
    trusted = _trusted(wallet)
    return {
        "mine": {
            "trusted": Amount(trusted),
            "untrusted_pending": Amount(got.confirmed + got.unconfirmed - trusted),
            "immature": Amount(got.immature),
        },
        "lastprocessedblock": {"hash": hash256_hex(report.tip_hash), "height": report.tip_height},
    }


_Impl = Callable[[WalletManager, Call], Any]
_SEND_PARAMS = (
    _str_param("address", "The bitcoin address to send to.", required=True),
    Param("amount", ParamKind.AMOUNT, "The amount in BTC to send.", required=True),
    _str_param("comment", "Ignored: this wallet keeps no comments."),
    _str_param("comment_to", "Ignored: this wallet keeps no comments."),
    _bool_param("subtractfeefromamount", "Only false is supported.", "false"),
    _bool_param("replaceable", "Signal BIP125 replaceability.", "true"),
    Param("conf_target", ParamKind.NUM, "Not supported; use fee_rate."),
    _str_param("estimate_mode", "Not supported; use fee_rate."),
    _bool_param("avoid_reuse", "Ignored.", "true"),
    Param("fee_rate", ParamKind.AMOUNT, "Fee rate in sat/vB.", default="node estimate"),
    _bool_param("verbose", "Return {txid, fee_reason}.", "false"),
)
_METHODS: tuple[tuple[str, _Impl, str, tuple[Param, ...]], ...] = (
    (
        "createwallet",
        createwallet,
        "Creates and loads a new HD wallet.",
        (
            _str_param("wallet_name", "The name for the new wallet.", required=True),
            _bool_param("disable_private_keys", "Only false is supported.", "false"),
            _bool_param("blank", "Only false is supported.", "false"),
            _str_param("passphrase", "Encrypt the wallet with this passphrase."),
            _bool_param("avoid_reuse", "Ignored.", "false"),
            _bool_param("descriptors", "Ignored: the wallet is HD (BIP44/49/84).", "true"),
            _bool_param("load_on_startup", "Ignored: wallets load with loadwallet.", "null"),
            _bool_param("external_signer", "Only false is supported.", "false"),
        ),
    ),
    (
        "loadwallet",
        loadwallet,
        "Loads a wallet from the wallet directory.",
        (
            _str_param("filename", "The wallet's name.", required=True),
            _bool_param("load_on_startup", "Ignored.", "null"),
        ),
    ),
    (
        "unloadwallet",
        unloadwallet,
        "Unloads the wallet named, or the request's wallet.",
        (
            _str_param("wallet_name", "The wallet to unload."),
            _bool_param("load_on_startup", "Ignored.", "null"),
        ),
    ),
    ("listwallets", listwallets, "Returns the names of the loaded wallets.", ()),
    (
        "getnewaddress",
        getnewaddress,
        "Returns a new address for receiving payments.",
        (
            _str_param("label", "The label for the address."),
            _str_param("address_type", "bech32, p2sh-segwit or legacy."),
        ),
    ),
    (
        "getbalance",
        getbalance,
        "Returns the confirmed balance in BTC.",
        (
            _str_param("dummy", 'Remains for backward compatibility; "*" or absent.'),
            Param(
                "minconf", ParamKind.NUM, "Only coins with this many confirmations.", default="0"
            ),
            _bool_param("include_watchonly", "Ignored.", "true"),
            _bool_param("avoid_reuse", "Ignored.", "true"),
        ),
    ),
    ("getbalances", getbalances, "Returns the balances in BTC.", ()),
    (
        "listunspent",
        listunspent,
        "Returns the wallet's unspent outputs.",
        (
            Param("minconf", ParamKind.NUM, "The minimum confirmations.", default="1"),
            Param("maxconf", ParamKind.NUM, "The maximum confirmations.", default="9999999"),
            Param("addresses", ParamKind.ARR, "Only outputs paying these addresses."),
            _bool_param("include_unsafe", "Include unconfirmed outputs.", "true"),
            Param("query_options", ParamKind.OBJ, "Not supported."),
        ),
    ),
    ("sendtoaddress", sendtoaddress, "Send an amount to an address.", _SEND_PARAMS),
    (
        "signrawtransactionwithwallet",
        signrawtransactionwithwallet,
        "Sign the inputs of a raw transaction that spend the wallet's coins.",
        (
            Param("hexstring", ParamKind.STR_HEX, "The transaction hex string.", required=True),
            Param("prevtxs", ParamKind.ARR, "Not supported (only the wallet's own coins)."),
            _str_param("sighashtype", "DEFAULT or ALL."),
        ),
    ),
    (
        "walletpassphrase",
        walletpassphrase,
        "Unlocks an encrypted wallet for timeout seconds.",
        (
            _str_param("passphrase", "The wallet passphrase.", required=True),
            Param("timeout", ParamKind.NUM, "Seconds to keep the keys.", required=True),
        ),
    ),
    ("walletlock", walletlock, "Forgets the keys of an encrypted wallet.", ()),
)


def _bound(manager: WalletManager, impl: _Impl) -> Callable[[Call], Any]:
    def handler(call: Call) -> Any:
        try:
            return impl(manager, call)
        except (KeystoreCorrupted, WalletStateCorrupted) as err:
            raise RpcError(
                WalletRpcCode.WALLET_ERROR, f"Wallet file verification failed. {err}"
            ) from None
        except WalletError as err:
            raise RpcError(WalletRpcCode.WALLET_ERROR, str(err)) from None

    return handler


def wallet_methods(manager: WalletManager) -> tuple[MethodSpec, ...]:
    """The wallet methods, bound to `manager`, for the daemon's `MethodTable`."""
    return tuple(
        MethodSpec(name, CATEGORY, _bound(manager, impl), description, params)
        for name, impl, description, params in _METHODS
    )
