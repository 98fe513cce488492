"""`wallet balance|send|history|bump|export-psbt|sign-psbt`: the commands that follow the
chain through a node and spend from it.

Each one checks its arguments first (address on this network, exact BTC amount, fee rate,
the password), then connects to --node (checked to be on the wallet's chain), syncs the
wallet, and only then acts, so a bad argument never reaches the node or the wallet files.
A PSBT file may hold base64 text (what `export-psbt` writes) or raw BIP174 bytes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from btcnode.address import AddressError, script_for_address
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from btcnode.rpc.jsonfmt import Amount
from wallets._cli_common import btc, cli_errors, emit
from wallets._cli_context import CliContext, SecretRequest, passphrase_request, read_secrets
from wallets._cli_input import CliInputError, parse_btc_amount, parse_fee_rate, parse_txid
from wallets._cli_keys import json_flag, passphrase_flag, password_flag
from wallets.errors import WalletInputError
from wallets.psbt import PSBT_MAGIC, Psbt
from wallets.psbt_roles import extract_transaction, finalize_psbt
from wallets.wallet import HistoryEntry, NodeClient, SendResult, Wallet

__all__ = ["COMMANDS"]

MAX_PSBT_FILE_BYTES = 16 << 20  # a PSBT of a standard transaction (400 kWU) with its inputs
fee_rate_flag = click.option(
    "--fee-rate", default=None, metavar="SAT_PER_VB", help="fee rate (default: the node's)"
)


def check_address(address: str, params: ChainParams) -> None:
    try:
        script_for_address(address, params)
    except AddressError as exc:
        raise WalletInputError(
            f"ADDRESS {address[:100]!r} is not a {params.name} address: {exc.message}"
        ) from None


def open_signing(obj: CliContext, password_file: str | None, passphrase_file: str | None) -> Wallet:
    """The wallet opened with its password (and BIP39 passphrase, if it has one)."""
    password, passphrase = read_secrets(
        SecretRequest("--password-file", password_file, "wallet password"),
        passphrase_request(passphrase_file),
    )
    return Wallet.open(obj.datadir, obj.params, password, bip39_passphrase=passphrase)


@contextmanager
def synced(node: NodeClient, wallet: Wallet) -> Iterator[Wallet]:
    """`wallet`, synced with `node`, closed on leaving (connect first, so a node that is
    down is reported before the wallet is opened or a password read)."""
    with wallet:
        wallet.sync(node)
        yield wallet


def _sent(result: SendResult, json_mode: bool) -> None:
    txid = hash256_hex(result.txid)
    emit(
        {"txid": txid, "fee": Amount(result.fee), "vsize": result.vsize},
        f"{txid}\nfee {btc(result.fee)} BTC for {result.vsize} vB",
        json_mode=json_mode,
    )


@click.command("balance")
@json_flag
@click.pass_obj
def balance(obj: CliContext, json_mode: bool) -> None:
    """Sync with --node and show the confirmed, unconfirmed and immature balance in BTC."""
    json_mode = json_mode or obj.json_mode
    with (
        cli_errors(json_mode=json_mode),
        synced(obj.connect(), Wallet.open(obj.datadir, obj.params)) as wallet,
    ):
        got = wallet.balance()
    rows = [("confirmed", got.confirmed), ("unconfirmed", got.unconfirmed)]
    rows.append(("immature", got.immature))
    emit(
        {name: Amount(sats) for name, sats in rows},
        "\n".join(f"{name + ':':<13}{btc(sats):>20} BTC" for name, sats in rows),
        json_mode=json_mode,
    )


@click.command("send")
@click.argument("address")
@click.argument("amount", metavar="AMOUNT_BTC")
@fee_rate_flag
@click.option("--no-rbf", is_flag=True, help="do not signal BIP125 replaceability")
@password_flag
@passphrase_flag
@json_flag
@click.pass_obj
def send(
    obj: CliContext,
    address: str,
    amount: str,
    fee_rate: str | None,
    no_rbf: bool,
    password_file: str | None,
    bip39_passphrase_file: str | None,
    json_mode: bool,
) -> None:
    """Pay AMOUNT_BTC to ADDRESS; print the txid, fee and size."""
    json_mode = json_mode or obj.json_mode
    with cli_errors(json_mode=json_mode):
        check_address(address, obj.params)
        sats = parse_btc_amount(amount, "AMOUNT_BTC")
        rate = None if fee_rate is None else parse_fee_rate(fee_rate)
        node = obj.connect()
        with synced(node, open_signing(obj, password_file, bip39_passphrase_file)) as wallet:
            result = wallet.send(node, [(address, sats)], fee_rate=rate, rbf=not no_rbf)
    _sent(result, json_mode)


@click.command("history")
@json_flag
@click.pass_obj
def history(obj: CliContext, json_mode: bool) -> None:
    """Sync with --node and list the wallet's transactions, oldest first."""
    json_mode = json_mode or obj.json_mode
    with (
        cli_errors(json_mode=json_mode),
        synced(obj.connect(), Wallet.open(obj.datadir, obj.params)) as wallet,
    ):
        entries = wallet.history()
    lines = [_history_line(e) for e in entries] or ["no transactions"]
    emit([_history_json(e) for e in entries], "\n".join(lines), json_mode=json_mode)


def _history_json(entry: HistoryEntry) -> dict[str, object]:
    return {
        "txid": entry.txid_hex,
        "status": entry.status.value,
        "confirmations": entry.confirmations,
        "height": entry.height,
        "time": entry.time,
        "amount": Amount(entry.amount),
        "fee": None if entry.fee is None else Amount(entry.fee),
        "label": entry.label,
    }


def _history_line(entry: HistoryEntry) -> str:
    when = datetime.fromtimestamp(entry.time, UTC).strftime("%Y-%m-%d %H:%M")
    fee = "" if entry.fee is None else f"  fee {btc(entry.fee)}"
    label = f"  {entry.label!r}" if entry.label else ""
    amount = ("+" if entry.amount >= 0 else "") + btc(entry.amount)
    return (
        f"{when}  {amount:>18} BTC  {entry.status.value:<11} "
        f"{entry.confirmations:>6} conf  {entry.txid_hex}{fee}{label}"
    )


@click.command("bump")
@click.argument("txid")
@fee_rate_flag
@password_flag
@passphrase_flag
@json_flag
@click.pass_obj
def bump(
    obj: CliContext,
    txid: str,
    fee_rate: str | None,
    password_file: str | None,
    bip39_passphrase_file: str | None,
    json_mode: bool,
) -> None:
    """Replace the wallet's unconfirmed transaction TXID with one paying a higher fee."""
    json_mode = json_mode or obj.json_mode
    with cli_errors(json_mode=json_mode):
        original = parse_txid(txid)
        rate = None if fee_rate is None else parse_fee_rate(fee_rate)
        node = obj.connect()
        with synced(node, open_signing(obj, password_file, bip39_passphrase_file)) as wallet:
            result = wallet.bump(node, original, fee_rate=rate)
    _sent(result, json_mode)


@click.command("export-psbt")
@click.argument("address")
@click.argument("amount", metavar="AMOUNT_BTC")
@fee_rate_flag
@click.option("--out", "out_path", default=None, help="write the PSBT (base64) to this file")
@json_flag
@click.pass_obj
def export_psbt(
    obj: CliContext,
    address: str,
    amount: str,
    fee_rate: str | None,
    out_path: str | None,
    json_mode: bool,
) -> None:
    """Make an unsigned PSBT paying AMOUNT_BTC to ADDRESS, to sign elsewhere (no password)."""
    json_mode = json_mode or obj.json_mode
    with cli_errors(json_mode=json_mode):
        check_address(address, obj.params)
        sats = parse_btc_amount(amount, "AMOUNT_BTC")
        rate = None if fee_rate is None else parse_fee_rate(fee_rate)
        with synced(obj.connect(), Wallet.open(obj.datadir, obj.params)) as wallet:
            text = wallet.create_psbt([(address, sats)], fee_rate=rate).to_base64()
        if out_path is not None:
            Path(out_path).write_text(text + "\n")
    if out_path is None:
        emit({"psbt": text}, text, json_mode=json_mode)
    else:
        emit({"psbt_file": out_path}, f"wrote the PSBT to {out_path}", json_mode=json_mode)


def read_psbt(path: str) -> Psbt:
    """A PSBT from a file of base64 text or raw bytes."""
    try:
        with Path(path).open("rb") as f:
            raw = f.read(MAX_PSBT_FILE_BYTES + 1)
    except OSError as exc:
        raise CliInputError(f"PSBT file {path}: {exc.strerror}") from None
    if len(raw) > MAX_PSBT_FILE_BYTES:
        raise CliInputError(f"PSBT file {path} is over {MAX_PSBT_FILE_BYTES} bytes")
    if not raw.startswith(PSBT_MAGIC):
        try:
            raw = base64.b64decode(b"".join(raw.split()), validate=True)
        except (binascii.Error, ValueError):
            raise WalletInputError(f"{path} is neither a PSBT nor base64 text") from None
    return Psbt.deserialize(raw)


@click.command("sign-psbt")
@click.argument("psbt_path", metavar="FILE")
@click.option("--broadcast", is_flag=True, help="finalize it and send it through --node")
@click.option("--out", "out_path", default=None, help="write the signed PSBT to this file")
@password_flag
@passphrase_flag
@json_flag
@click.pass_obj
def sign_psbt(
    obj: CliContext,
    psbt_path: str,
    broadcast: bool,
    out_path: str | None,
    password_file: str | None,
    bip39_passphrase_file: str | None,
    json_mode: bool,
) -> None:
    """Sign the inputs of the PSBT in FILE this wallet owns; --broadcast sends it."""
    json_mode = json_mode or obj.json_mode
    with cli_errors(json_mode=json_mode):
        psbt = read_psbt(psbt_path)
        node = obj.connect() if broadcast else None
        with open_signing(obj, password_file, bip39_passphrase_file) as wallet:
            if node is None:
                signed = wallet.sign_psbt(psbt)
            else:
                wallet.sync(node)  # the coins the PSBT spends must be the wallet's now
                tx = extract_transaction(finalize_psbt(wallet.sign_psbt(psbt)))
                txid = hash256_hex(wallet.broadcast(node, tx))
    if node is not None:
        emit({"txid": txid}, txid, json_mode=json_mode)
        return
    text = signed.to_base64()
    if out_path is None:
        emit({"psbt": text}, text, json_mode=json_mode)
        return
    with cli_errors(json_mode=json_mode):
        Path(out_path).write_text(text + "\n")
    emit({"psbt_file": out_path}, f"wrote the signed PSBT to {out_path}", json_mode=json_mode)


COMMANDS = (balance, send, history, bump, export_psbt, sign_psbt)
