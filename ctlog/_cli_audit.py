"""`ctlog` commands of the auditor: `auditor` (serve), `verify-evidence`, `pollinate`.

`verify-evidence` uses no network. It exits 0 when the bundle proves a split view (kinds
equal-size and inconsistent-proof), 1 when it does not, with the verdict and reason on one
line: `invalid` (tampered, wrong key, consistent proof, malformed) or `unproven` (a valid
proof-failure bundle: the log misbehaved or was unavailable, but no second tree is shown),
and 2 on usage errors (unreadable files, bad options).
"""

from __future__ import annotations

import asyncio
import sys

import click

from common.errors import ConfigError
from common.runtime import run_until_signalled, setup_logging
from ctlog._cli_common import (
    EXIT_INVALID,
    EXIT_USAGE,
    cli_errors,
    emit,
    fail,
    json_option,
    read_file,
)
from ctlog.auditor.evidence import verify_evidence_bytes
from ctlog.auditor.pollination import GossipedSth
from ctlog.errors import InputError, UsageError, VerificationError
from ctlog.keys import LogPublicKey
from ctlog.sth import SignedTreeHead
from ctlog.strict_json import strict_loads

MAX_STH_FILE_BYTES = 64 * 1024  # a get-sth JSON object is a few hundred bytes


@click.command("auditor")
@click.option("--config", "config_path", required=True, help="auditor TOML file")
@click.option("--log-level", default="info", show_default=True)
def auditor_command(config_path: str, log_level: str) -> None:
    """Run a gossiping auditor: poll logs, pollinate peers, check consistency, raise alarms."""
    from ctlog.auditor.config import load_auditor_config
    from ctlog.auditor.driver import AuditorDriver

    try:
        setup_logging(log_level)
        driver = AuditorDriver(load_auditor_config(config_path))
    except (ConfigError, UsageError) as exc:
        fail(str(exc), code=EXIT_USAGE, json_mode=False)
    sys.exit(run_until_signalled(driver.run))


@click.command("verify-evidence")
@click.argument("bundle_path", metavar="BUNDLE.json")
@click.option("--log-key", "log_key_path", help="PEM key of the log the bundle must be about")
@json_option
def verify_evidence_command(bundle_path: str, log_key_path: str | None, json_mode: bool) -> None:
    """Check a split-view evidence bundle offline: exit 0 proven, 1 not proven, 2 usage."""
    data = read_file(bundle_path, json_mode=json_mode)
    expected = _load_key(log_key_path, json_mode) if log_key_path else None
    verdict = verify_evidence_bytes(data, expected_key=expected)
    if not verdict.proves_split_view:
        fail(
            f"{verdict.verdict.value}: {verdict.reason}",
            code=EXIT_INVALID,
            json_mode=json_mode,
            verdict=verdict.verdict.value,
            kind=verdict.kind.value if verdict.kind else None,
        )
    payload = {"ok": True, **verdict.to_json()}
    emit(payload, f"split view proven: {verdict.reason}", json_mode=json_mode)


@click.command("pollinate")
@click.option("--auditor", "auditor_url", required=True, help="base URL of the auditor")
@click.option("--log-key", "log_key_path", required=True, help="PEM public key of the log")
@click.option("--log", "log_url", help="also fetch and send the log's current STH")
@click.option("--checkpoint", "checkpoints", multiple=True, help="a static-ct checkpoint file")
@click.option("--origin", help="the static-ct log's origin line (for --checkpoint)")
@click.argument("sth_files", nargs=-1, metavar="[STH.json]...")
@json_option
def pollinate_command(
    auditor_url: str,
    log_key_path: str,
    log_url: str | None,
    checkpoints: tuple[str, ...],
    origin: str | None,
    sth_files: tuple[str, ...],
    json_mode: bool,
) -> None:
    """Hand signed tree heads (get-sth JSON files, static-ct checkpoints, or the log's
    current STH) to an auditor."""
    if not sth_files and not checkpoints and log_url is None:
        fail("give --log URL, --checkpoint or an STH file", code=EXIT_USAGE, json_mode=json_mode)
    if checkpoints and not origin:
        fail("--checkpoint needs the log's --origin", code=EXIT_USAGE, json_mode=json_mode)
    key = _load_key(log_key_path, json_mode)
    sths = [_load_sth(path, json_mode) for path in sth_files]
    sths += [_load_checkpoint(path, key, origin or "", json_mode) for path in checkpoints]
    with cli_errors(json_mode=json_mode):
        received = asyncio.run(_pollinate(auditor_url, key, sths, log_url))
    payload = {"ok": True, "sent": len(sths) + (log_url is not None), "received": received}
    text = f"sent {payload['sent']} STHs; the auditor returned {len(received)}"
    emit(payload, text, json_mode=json_mode)


async def _pollinate(
    auditor_url: str, key: LogPublicKey, sths: list[SignedTreeHead], log_url: str | None
) -> list[dict[str, object]]:
    from ctlog.auditor.client import pollinate
    from ctlog.client import LogClient

    heads = list(sths)
    if log_url is not None:
        async with LogClient(log_url) as client:
            heads.append(await client.get_sth())
    for sth in heads:
        sth.verify(key)  # refuse to spread a head the log did not sign
    reply = await pollinate(auditor_url, [GossipedSth(key.log_id, sth) for sth in heads])
    return [item.to_json() for item in reply]


def _load_key(path: str, json_mode: bool) -> LogPublicKey:
    try:
        return LogPublicKey.from_pem(read_file(path, json_mode=json_mode))
    except InputError as exc:
        fail(f"{path}: {exc}", code=EXIT_USAGE, json_mode=json_mode)


def _load_sth(path: str, json_mode: bool) -> SignedTreeHead:
    data = read_file(path, json_mode=json_mode)
    try:
        return SignedTreeHead.from_json(
            strict_loads(data, max_bytes=MAX_STH_FILE_BYTES, what="the file")
        )
    except InputError as exc:
        fail(f"{path} is not a get-sth JSON object: {exc}", code=EXIT_INVALID, json_mode=json_mode)


def _load_checkpoint(path: str, key: LogPublicKey, origin: str, json_mode: bool) -> SignedTreeHead:
    """The STH inside a static-ct checkpoint, which the log signed as an RFC 6962 tree head."""
    from ctlog.checkpoint import RFC6962NoteVerifier, sth_from_checkpoint_note

    note = read_file(path, json_mode=json_mode)
    try:
        return sth_from_checkpoint_note(note, RFC6962NoteVerifier(key, origin))
    except (InputError, VerificationError) as exc:
        fail(f"{path}: {exc}", code=EXIT_INVALID, json_mode=json_mode)


COMMANDS: list[click.Command] = [auditor_command, verify_evidence_command, pollinate_command]

__all__ = ["COMMANDS"]
