"""`wallet create`, `wallet restore` and `wallet address`: the commands that make keys and
show addresses, none of which needs a node.

`create` draws the mnemonic here (so it can be written to --mnemonic-out before the wallet
exists, and that file removed again if creating the wallet fails: no half-made state), and
refuses a data directory that already holds anything. The mnemonic is shown once, or only
written to the 0600 file; it is never logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from wallets._cli_common import cli_errors, emit
from wallets._cli_context import CliContext, SecretRequest, passphrase_request, read_secrets
from wallets._cli_input import (
    ADDRESS_TYPE_NAMES,
    CliInputError,
    check_one_stdin,
    parse_address_type,
)
from wallets.bip39 import entropy_to_mnemonic, mnemonic_to_entropy, normalize_mnemonic
from wallets.errors import WalletInputError
from wallets.wallet import Wallet

__all__ = ["COMMANDS"]

ENTROPY_BYTES = {"12": 16, "24": 32}  # BIP39: 128 bits for 12 words, 256 for 24
MNEMONIC_FILE_MODE = 0o600
BACKUP_WARNING = (
    "Write these words down and keep them offline: they are the only way to restore this "
    "wallet and anyone who has them can spend its coins."
)

json_flag = click.option("--json", "json_mode", is_flag=True, help="machine-readable output")
password_flag = click.option(
    "--password-file", default=None, help="file with the wallet password (- for stdin)"
)
passphrase_flag = click.option(
    "--bip39-passphrase-file",
    default=None,
    help="file with an optional BIP39 passphrase (- for stdin); not stored in the wallet",
)


def refuse_existing(datadir: Path) -> None:
    """A wallet is only created into a missing or empty directory."""
    if datadir.exists() and (not datadir.is_dir() or any(datadir.iterdir())):
        raise WalletInputError(
            f"{datadir} already exists and is not empty: refusing to create a wallet over it"
        )


def write_mnemonic_file(path: Path, mnemonic: str) -> None:
    """Write the mnemonic to a new file readable by the owner only (never over a file)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MNEMONIC_FILE_MODE)
    except FileExistsError:
        raise CliInputError(f"--mnemonic-out {path} exists: refusing to overwrite it") from None
    except OSError as exc:
        raise CliInputError(f"--mnemonic-out {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, MNEMONIC_FILE_MODE)
        os.write(fd, (mnemonic + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_with_backup(
    obj: CliContext, password: str, passphrase: str, words: str, mnemonic_out: Path | None
) -> str:
    mnemonic = entropy_to_mnemonic(secrets.token_bytes(ENTROPY_BYTES[words]))
    if mnemonic_out is not None:
        write_mnemonic_file(mnemonic_out, mnemonic)
    try:
        wallet, _ = Wallet.create(
            obj.datadir, obj.params, password, mnemonic=mnemonic, bip39_passphrase=passphrase
        )
    except BaseException:
        if mnemonic_out is not None:
            mnemonic_out.unlink(missing_ok=True)
        raise
    wallet.close()
    return mnemonic


@click.command("create")
@password_flag
@passphrase_flag
@click.option("--mnemonic-out", default=None, help="write the mnemonic to this new 0600 file")
@click.option("--words", type=click.Choice(sorted(ENTROPY_BYTES)), default="12", show_default=True)
@json_flag
@click.pass_obj
def create(
    obj: CliContext,
    password_file: str | None,
    bip39_passphrase_file: str | None,
    mnemonic_out: str | None,
    words: str,
    json_mode: bool,
) -> None:
    """Create a new HD wallet in --datadir and show its mnemonic once."""
    json_mode = json_mode or obj.json_mode
    with cli_errors(json_mode=json_mode):
        refuse_existing(obj.datadir)
        out = None if mnemonic_out is None else Path(mnemonic_out)
        if out is not None and out.exists():
            raise CliInputError(f"--mnemonic-out {out} exists: refusing to overwrite it")
        password, passphrase = read_secrets(
            SecretRequest("--password-file", password_file, "wallet password", confirm=True),
            passphrase_request(bip39_passphrase_file),
        )
        mnemonic = _create_with_backup(obj, password, passphrase, words, out)
    payload: dict[str, object] = {"datadir": str(obj.datadir), "network": obj.params.name}
    if out is None:
        payload["mnemonic"] = mnemonic
        text = f"Created a wallet in {obj.datadir}. Its mnemonic:\n\n  {mnemonic}\n"
    else:
        payload["mnemonic_file"] = str(out)
        text = f"Created a wallet in {obj.datadir}; its mnemonic is in {out} (mode 0600)."
    payload["warning"] = BACKUP_WARNING
    emit(payload, f"{text}\n{BACKUP_WARNING}", json_mode=json_mode)


@click.command("restore")
@click.option("--mnemonic-file", default=None, help="file with the mnemonic (- for stdin)")
@password_flag
@passphrase_flag
@json_flag
@click.pass_obj
def restore(
    obj: CliContext,
    mnemonic_file: str | None,
    password_file: str | None,
    bip39_passphrase_file: str | None,
    json_mode: bool,
) -> None:
    """Restore a wallet from its BIP39 mnemonic into an empty --datadir."""
    json_mode = json_mode or obj.json_mode
    with cli_errors(json_mode=json_mode):
        refuse_existing(obj.datadir)
        check_one_stdin(
            {
                "--mnemonic-file": mnemonic_file,
                "--password-file": password_file,
                "--bip39-passphrase-file": bip39_passphrase_file,
            }
        )
        (mnemonic,) = read_secrets(SecretRequest("--mnemonic-file", mnemonic_file, "mnemonic"))
        mnemonic = normalize_mnemonic(mnemonic)
        mnemonic_to_entropy(mnemonic)  # a wrong word or checksum, before asking for more
        password, passphrase = read_secrets(
            SecretRequest("--password-file", password_file, "wallet password", confirm=True),
            passphrase_request(bip39_passphrase_file),
        )
        wallet = Wallet.restore(
            obj.datadir, obj.params, mnemonic, password, bip39_passphrase=passphrase
        )
        wallet.close()
    text = f"Restored the wallet in {obj.datadir}; `wallet balance` rescans the chain."
    emit({"datadir": str(obj.datadir), "network": obj.params.name}, text, json_mode=json_mode)


@click.command("address")
@click.option(
    "--type",
    "type_name",
    type=click.Choice(sorted(ADDRESS_TYPE_NAMES), case_sensitive=False),
    default="p2wpkh",
    show_default=True,
)
@click.option("--index", type=click.IntRange(0, 2**31 - 1), default=None, help="this index")
@click.option("--change", is_flag=True, help="an address of the change chain")
@click.option("--label", default="", help="remember this label for the address")
@json_flag
@click.pass_obj
def address(
    obj: CliContext,
    type_name: str,
    index: int | None,
    change: bool,
    label: str,
    json_mode: bool,
) -> None:
    """Show the next unused receiving address (or the one at --index)."""
    json_mode = json_mode or obj.json_mode
    with cli_errors(json_mode=json_mode):
        address_type = parse_address_type(type_name)
        with Wallet.open(obj.datadir, obj.params) as wallet:
            if index is None:
                derived = wallet.new_address(address_type, change=change, label=label)
            else:
                derived = wallet.address_at(address_type, index, change=change)
                if label:
                    wallet.set_label(derived.address, label)
    emit(
        {"address": derived.address, "path": derived.path},
        f"{derived.address}  ({derived.path})",
        json_mode=json_mode,
    )


COMMANDS = (create, restore, address)
