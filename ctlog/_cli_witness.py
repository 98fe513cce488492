"""`ctlog witness serve|keygen` and `ctlog verify-checkpoint`.

`verify-checkpoint` checks a signed checkpoint (a file, or `<log>/checkpoint` with `--log`)
against the log's key, and optionally requires k of the given witnesses to have cosigned it.
Exit codes as every ctlog command: 0 valid, 1 invalid (one line says why), 2 usage error, 3
the log could not be reached.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from common.errors import CommonError
from common.runtime import DataDir, run_until_signalled, setup_logging
from ctlog._cli_common import (
    EXIT_INVALID,
    EXIT_USAGE,
    cli_errors,
    emit,
    fail,
    json_option,
    log_option,
    read_file,
)
from ctlog.checkpoint import Checkpoint, RFC6962NoteVerifier, sth_from_checkpoint_note
from ctlog.client import LogClient
from ctlog.errors import InputError
from ctlog.keys import LogPublicKey
from ctlog.note import (
    ED25519_SEED_SIZE,
    Ed25519NoteVerifier,
    Note,
    NoteVerifier,
    is_valid_key_name,
    verify_note,
)
from ctlog.witness.cosignature import CosignatureSigner, CosignatureVerifier, verify_cosigned
from ctlog.witness.feeder import FeedResult, feed_witnesses

KEY_FILE = "witness.key"  # what keygen writes and witness.toml's key_file usually names
KEY_FILE_MODE = 0o600  # the skey signs cosignatures: owner only
KEY_DIR_MODE = 0o700


@click.group()
def witness() -> None:
    """Run a C2SP tlog-witness and manage its cosigning key."""


@witness.command()
@click.option(
    "--config",
    "config_path",
    default="witness.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="witness configuration file",
)
@click.option("--log-json", is_flag=True, help="JSON log lines even on a terminal")
@click.option("--log-level", default="info", show_default=True)
def serve(config_path: str, log_json: bool, log_level: str) -> None:
    """Serve POST /add-checkpoint until SIGTERM or Ctrl-C."""
    from ctlog.witness.config import load_witness_config
    from ctlog.witness.server import serve as serve_witness

    try:
        config = load_witness_config(config_path)
        setup_logging(log_level, json_lines=True if log_json else None)
        data_dir = DataDir(config.data_dir)
    except CommonError as exc:
        fail(str(exc), code=EXIT_USAGE, json_mode=False)
    with data_dir:
        code = run_until_signalled(lambda stop: serve_witness(config, data_dir, stop))
    sys.exit(code)


@witness.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--name", required=True, help="the witness's key name, e.g. witness.example/w1")
@json_option
def keygen(out_dir: str, name: str, json_mode: bool) -> None:
    """Write a new cosigning key to OUT/witness.key (mode 0600) and print its vkey."""
    if not is_valid_key_name(name):
        fail(f"invalid key name {name!r}: no spaces or '+'", code=EXIT_USAGE, json_mode=json_mode)
    signer = CosignatureSigner.from_seed(name, secrets.token_bytes(ED25519_SEED_SIZE))
    path = Path(out_dir) / KEY_FILE
    try:
        Path(out_dir).mkdir(mode=KEY_DIR_MODE, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        fail(f"{path} exists; not overwriting a key", code=EXIT_USAGE, json_mode=json_mode)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}", code=EXIT_USAGE, json_mode=json_mode)
    with os.fdopen(fd, "w") as f:
        f.write(signer.to_skey() + "\n")
    emit({"ok": True, "vkey": signer.vkey, "key_file": str(path)}, signer.vkey, json_mode=json_mode)


@click.command("verify-checkpoint")
@click.argument("checkpoint_file", required=False)
@click.option("--log", "log_url", help="fetch <URL>/checkpoint instead of reading a file")
@click.option("--log-key", type=click.Path(dir_okay=False), help="the log's public key (PEM)")
@click.option("--log-vkey", help="the log's note verifier key, for logs signing with Ed25519")
@click.option("--origin", help="the checkpoint origin (default: the one the checkpoint names)")
@click.option("--witness", "witness_vkeys", multiple=True, help="a trusted witness's vkey")
@click.option(
    "--min-witnesses",
    type=click.IntRange(min=0),
    help="cosignatures required  [default: every --witness]",
)
@json_option
def verify_checkpoint(
    checkpoint_file: str | None,
    log_url: str | None,
    log_key: str | None,
    log_vkey: str | None,
    origin: str | None,
    witness_vkeys: tuple[str, ...],
    min_witnesses: int | None,
    json_mode: bool,
) -> None:
    """Check that the log signed CHECKPOINT_FILE and enough witnesses cosigned it."""
    if (checkpoint_file is None) == (log_url is None):
        fail("give a checkpoint file or --log URL", code=EXIT_USAGE, json_mode=json_mode)
    witnesses = [_witness_verifier(vkey, json_mode) for vkey in witness_vkeys]
    k = len(witnesses) if min_witnesses is None else min_witnesses
    if k > len(witnesses):
        fail(
            f"--min-witnesses {k} > {len(witnesses)} witnesses",
            code=EXIT_USAGE,
            json_mode=json_mode,
        )
    with cli_errors(json_mode=json_mode):
        if checkpoint_file is not None:
            raw = read_file(checkpoint_file, json_mode=json_mode)
        else:
            raw = asyncio.run(_fetch_checkpoint(str(log_url)))
        note = Note.parse(raw)
        if origin is None and log_vkey is None:
            # Only a name: the signature must still verify under --log-key.
            origin = Checkpoint.from_note(note).origin
    log_verifier = _log_verifier(log_key, log_vkey, origin, json_mode)
    with cli_errors(json_mode=json_mode):
        report = verify_cosigned(note, log_verifier, witnesses, k)
        payload: dict[str, object] = {"ok": True, "valid": True, **report.to_json()}
        if isinstance(log_verifier, RFC6962NoteVerifier):
            payload["timestamp"] = sth_from_checkpoint_note(note, log_verifier).timestamp
    checkpoint = report.checkpoint
    text = (
        f"valid: {checkpoint.origin} size {checkpoint.tree_size} root "
        f"{checkpoint.root_hash.hex()}, cosigned by {len(report.cosigned)} of "
        f"{len(witnesses)} witnesses ({k} required)"
    )
    emit(payload, text, json_mode=json_mode)


async def _fetch_checkpoint(log_url: str) -> bytes:
    async with LogClient(log_url) as client:
        return await client.get_checkpoint()


def _log_verifier(
    log_key: str | None, log_vkey: str | None, origin: str | None, json_mode: bool
) -> NoteVerifier:
    if (log_key is None) == (log_vkey is None):
        fail("give exactly one of --log-key and --log-vkey", code=EXIT_USAGE, json_mode=json_mode)
    try:
        if log_vkey is not None:
            return Ed25519NoteVerifier.from_vkey(log_vkey)  # its signature covers the origin
        if origin is None:
            fail("--log-key needs --origin", code=EXIT_USAGE, json_mode=json_mode)
        key = LogPublicKey.from_pem(read_file(str(log_key), json_mode=json_mode))
        return RFC6962NoteVerifier(key, origin)
    except InputError as exc:
        fail(f"bad log key: {exc}", code=EXIT_USAGE, json_mode=json_mode)


def _witness_verifier(vkey: str, json_mode: bool) -> CosignatureVerifier:
    try:
        return CosignatureVerifier.from_vkey(vkey)
    except InputError as exc:
        fail(f"bad --witness {vkey[:40]!r}: {exc}", code=EXIT_USAGE, json_mode=json_mode)


@witness.command()
@log_option
@click.option("--log-key", required=True, type=click.Path(dir_okay=False), help="log key (PEM)")
@click.option("--witness", "witness_urls", multiple=True, required=True, help="a witness URL")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="write the note here")
@json_option
def feed(
    log_url: str, log_key: str, witness_urls: tuple[str, ...], out_path: str | None, json_mode: bool
) -> None:
    """Fetch the log's checkpoint, have each witness cosign it, print the cosigned note.

    Exit 0 when every witness cosigned, 1 when one refused (the note still carries the
    cosignatures gathered), 3 when the log could not be reached.
    """
    key = _read_log_key(log_key, json_mode)
    with cli_errors(json_mode=json_mode):
        result = asyncio.run(_feed(log_url, key, witness_urls))
    if out_path is not None:
        Path(out_path).write_bytes(result.note)
    payload = {
        "ok": not result.failures,
        "note": result.note.decode(),
        "cosigned_by": list(result.cosigned_by),
        "failures": [{"witness": url, "reason": reason} for url, reason in result.failures],
    }
    text = result.note.decode() if out_path is None else f"wrote {out_path}"
    emit(payload, text, json_mode=json_mode)
    if result.failures:
        reasons = "; ".join(f"{url}: {reason}" for url, reason in result.failures)
        fail(f"not every witness cosigned: {reasons}", code=EXIT_INVALID, json_mode=False)


async def _feed(log_url: str, key: LogPublicKey, witness_urls: Sequence[str]) -> FeedResult:
    async with LogClient(log_url) as client:
        raw = await client.get_checkpoint()
        note = Note.parse(raw)
        verify_note(note, [RFC6962NoteVerifier(key, Checkpoint.from_note(note).origin)])
        return await feed_witnesses(client, raw, witness_urls)


def _read_log_key(path: str, json_mode: bool) -> LogPublicKey:
    try:
        return LogPublicKey.from_pem(read_file(path, json_mode=json_mode))
    except InputError as exc:
        fail(f"bad log key: {exc}", code=EXIT_USAGE, json_mode=json_mode)


COMMANDS: list[click.Command] = [witness, verify_checkpoint]

__all__ = ["COMMANDS", "verify_checkpoint", "witness"]
