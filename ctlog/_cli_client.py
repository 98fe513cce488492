"""`ctlog` commands that talk to a log or check what one signed.

`submit`, `sth`, `prove` and `get-entries` take `--log URL`; `verify-sth` and `verify-sct`
work offline with `--log-key`. All print one JSON object with `--json`. Exit codes (see
`ctlog._cli_common`): 0 valid, 1 invalid or refused (one line saying why), 2 usage,
3 the log could not be reached.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass

import click

from ctlog._cli_common import (
    EXIT_USAGE,
    cli_errors,
    emit,
    fail,
    iso_ms,
    json_option,
    log_option,
    read_file,
)
from ctlog._client_codec import decode_json_object
from ctlog.checkpoint import RFC6962NoteVerifier, sth_from_checkpoint_note
from ctlog.client import LogClient, RawEntry
from ctlog.errors import CtlogError, InputError, VerificationError
from ctlog.keys import LogPublicKey
from ctlog.leaf import LogEntryType, MerkleTreeLeaf, PreCert, TimestampedEntry
from ctlog.merkle import verify_inclusion
from ctlog.monitor.names import certificate_names
from ctlog.note import Note
from ctlog.sct import (
    SignedCertificateTimestamp,
    embedded_scts,
    load_sct,
    verify_chain_scts,
    verify_sct,
)
from ctlog.sth import SignedTreeHead
from ctlog.x509 import entry_for_chain, pem_to_ders, precert_entry_from_final

MAX_CLI_ENTRIES = 10_000  # get-entries prints to a terminal; larger ranges belong to a monitor
HTTP_NOT_FOUND = 404  # RFC 9110 §15.5.5: get-proof-by-hash's answer for an unknown hash

key_option = click.option("--log-key", "key_path", help="the log's public key (PEM)")


def _chain(path: str, json_mode: bool) -> list[bytes]:
    ders = pem_to_ders(read_file(path, json_mode=json_mode))
    if not ders:
        raise InputError(f"{path} holds no certificate")
    return ders


def _key(path: str | None, json_mode: bool) -> LogPublicKey | None:
    return None if path is None else LogPublicKey.from_pem(read_file(path, json_mode=json_mode))


def _verified_text(key: LogPublicKey | None) -> str:
    return f"verified with log key {key.log_id.hex()}" if key else "not verified (no --log-key)"


@click.command("submit")
@log_option
@click.argument("chain_path", metavar="CHAIN.pem")
@click.option("--precert", is_flag=True, help="submit a precertificate (add-pre-chain)")
@click.option("--out", "out_path", help="also write the SCT (add-chain JSON) to this file")
@key_option
@json_option
def submit(
    log_url: str,
    chain_path: str,
    precert: bool,
    out_path: str | None,
    key_path: str | None,
    json_mode: bool,
) -> None:
    """Submit a chain (leaf first) and print the log's SCT (RFC 6962 §4.1, §4.2)."""
    with cli_errors(json_mode=json_mode):
        chain = _chain(chain_path, json_mode)
        key = _key(key_path, json_mode)
        sct = asyncio.run(_submit(LogClient(log_url), chain, precert))
        if key is not None:
            verify_chain_scts(chain, key, sct)
    if out_path is not None:
        _write(out_path, json.dumps(sct.to_json()).encode() + b"\n", json_mode)
    text = (
        f"SCT from log {sct.log_id.hex()} at {sct.timestamp} ({iso_ms(sct.timestamp)}), "
        f"{_verified_text(key)}\n{json.dumps(sct.to_json())}"
    )
    emit({"ok": True, "sct": sct.to_json(), "verified": key is not None}, text, json_mode=json_mode)


async def _submit(
    client: LogClient, chain: list[bytes], precert: bool
) -> SignedCertificateTimestamp:
    async with client:
        return await (client.add_pre_chain(chain) if precert else client.add_chain(chain))


def _write(path: str, data: bytes, json_mode: bool) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}", code=EXIT_USAGE, json_mode=json_mode)


@click.command("sth")
@log_option
@key_option
@json_option
def sth(log_url: str, key_path: str | None, json_mode: bool) -> None:
    """Print the log's latest signed tree head (RFC 6962 §4.3), verified with --log-key."""
    with cli_errors(json_mode=json_mode):
        key = _key(key_path, json_mode)
        head = asyncio.run(_get_sth(LogClient(log_url)))
        if key is not None:
            head.verify(key)
    text = (
        f"tree size {head.tree_size} at {head.timestamp} ({iso_ms(head.timestamp)})\n"
        f"root {head.root_hash.hex()}\nsignature {_verified_text(key)}"
    )
    payload = {"ok": True, **head.to_json(), "verified": key is not None}
    emit(payload, text, json_mode=json_mode)


async def _get_sth(client: LogClient) -> SignedTreeHead:
    async with client:
        return await client.get_sth()


@click.command("verify-sth")
@click.option("--log-key", "key_path", required=True, help="the log's public key (PEM)")
@click.option("--origin", help="checkpoint origin (default: the note's first line)")
@click.argument("sth_path", metavar="STH_FILE")
@json_option
def verify_sth(key_path: str, origin: str | None, sth_path: str, json_mode: bool) -> None:
    """Check a tree head's signature: get-sth JSON, or a static-ct checkpoint note."""
    with cli_errors(json_mode=json_mode):
        key = LogPublicKey.from_pem(read_file(key_path, json_mode=json_mode))
        head = _read_sth(read_file(sth_path, json_mode=json_mode), key, origin)
        head.verify(key)
    text = f"valid: tree size {head.tree_size} root {head.root_hash.hex()} signed by the log"
    payload = {"ok": True, "valid": True, **head.to_json()}
    emit(payload, text, json_mode=json_mode)


def _read_sth(raw: bytes, key: LogPublicKey, origin: str | None) -> SignedTreeHead:
    """A get-sth JSON object, or a checkpoint note verified under `origin`."""
    if raw.lstrip().startswith(b"{"):
        return SignedTreeHead.from_json(decode_json_object(raw, "tree head file"))
    note = Note.parse(raw)
    name = origin if origin is not None else note.text.split("\n", 1)[0]
    return sth_from_checkpoint_note(note, RFC6962NoteVerifier(key, name))


@click.command("verify-sct")
@click.option("--log-key", "key_path", required=True, help="the log's public key (PEM)")
@click.option("--chain", "chain_path", required=True, help="the certificate, then its issuer")
@click.option("--sct", "sct_path", help="SCT file (JSON or TLS); default: the embedded SCTs")
@json_option
def verify_sct_command(
    key_path: str, chain_path: str, sct_path: str | None, json_mode: bool
) -> None:
    """Check an SCT for a certificate, or the SCTs embedded in it (RFC 6962 §3.2, §3.3)."""
    with cli_errors(json_mode=json_mode):
        key = LogPublicKey.from_pem(read_file(key_path, json_mode=json_mode))
        chain = _chain(chain_path, json_mode)
        sct = load_sct(read_file(sct_path, json_mode=json_mode)) if sct_path else None
        verified = verify_chain_scts(chain, key, sct)
    where = "given" if sct_path else "embedded"
    text = f"valid: {len(verified)} {where} SCT(s) from log {key.log_id.hex()} verify"
    payload = {"ok": True, "valid": True, "scts": [s.to_json() for s in verified]}
    emit(payload, text, json_mode=json_mode)


@dataclass(frozen=True, slots=True)
class Inclusion:
    """What `prove` found: the leaf, where it is, and the tree head that includes it."""

    source: str
    entry: TimestampedEntry
    leaf_index: int
    sth: SignedTreeHead

    def to_json(self, sth_verified: bool) -> dict[str, object]:
        return {
            "ok": True,
            "valid": True,
            "leaf_index": self.leaf_index,
            "leaf_hash": MerkleTreeLeaf(self.entry).leaf_hash().hex(),
            "sct_timestamp": self.entry.timestamp,
            "sct_source": self.source,
            "sth": self.sth.to_json(),
            "sth_verified": sth_verified,
        }


@click.command("prove")
@log_option
@click.option(
    "--cert", "cert_path", required=True, help="the certificate (PEM, may hold its chain)"
)
@click.option("--chain", "chain_path", help="its issuers (PEM), if not in --cert")
@click.option("--sct", "sct_path", help="its SCT from this log (JSON or TLS)")
@key_option
@json_option
def prove(
    log_url: str,
    cert_path: str,
    chain_path: str | None,
    sct_path: str | None,
    key_path: str | None,
    json_mode: bool,
) -> None:
    """Prove a certificate is in the log: inclusion proof at the latest tree head (§4.5).

    The leaf needs the SCT's timestamp: from --sct, else from an SCT embedded in the
    certificate, else by submitting the chain again (a log answers with its existing SCT).
    """
    with cli_errors(json_mode=json_mode):
        chain = _chain(cert_path, json_mode)
        if chain_path is not None:
            chain += _chain(chain_path, json_mode)
        sct = load_sct(read_file(sct_path, json_mode=json_mode)) if sct_path else None
        key = _key(key_path, json_mode)
        found = asyncio.run(_prove(LogClient(log_url), chain, sct, key))
    text = (
        f"included: leaf {found.leaf_index} of tree size {found.sth.tree_size} "
        f"(root {found.sth.root_hash.hex()}, SCT {found.source}); "
        f"tree head {_verified_text(key)}"
    )
    emit(found.to_json(key is not None), text, json_mode=json_mode)


async def _prove(
    client: LogClient,
    chain: list[bytes],
    sct: SignedCertificateTimestamp | None,
    key: LogPublicKey | None,
) -> Inclusion:
    async with client:
        candidates = await _candidate_entries(client, chain, sct, key)
        head = await client.get_sth()
        if key is not None:
            head.verify(key)
        for source, entry in candidates:
            leaf_hash = MerkleTreeLeaf(entry).leaf_hash()
            if head.tree_size == 0:
                break
            try:
                index, path = await client.get_proof_by_hash(leaf_hash, head.tree_size)
            except InputError as exc:
                if exc.http_status == HTTP_NOT_FOUND:
                    continue
                raise
            verify_inclusion(index, head.tree_size, leaf_hash, path, head.root_hash)
            return Inclusion(source, entry, index, head)
    raise VerificationError(
        f"the certificate is not in the log at tree size {head.tree_size}",
        evidence={"tree_size": head.tree_size, "sth": head.to_json()},
    )


async def _candidate_entries(
    client: LogClient,
    chain: list[bytes],
    sct: SignedCertificateTimestamp | None,
    key: LogPublicKey | None,
) -> list[tuple[str, TimestampedEntry]]:
    """The entries the certificate may be logged as, each checked against its SCT if we
    hold the log key: from the given SCT, the embedded ones, or a resubmission."""
    entry_type, signed_entry = entry_for_chain(chain)
    if sct is not None:
        return [("given", _checked(sct, key, entry_type, signed_entry))]
    embedded = embedded_scts(chain[0])
    if key is not None:
        embedded = [s for s in embedded if s.log_id == key.log_id]
    if embedded:
        if len(chain) < 2:
            raise InputError("an embedded SCT's entry needs the issuer: pass --chain")
        out = []
        for item in embedded:
            entry = precert_entry_from_final(chain[0], chain[1], item.timestamp, item.extensions)
            if key is not None:
                verify_sct(item, key, entry)
            out.append(("embedded", entry))
        return out
    is_precert = entry_type is LogEntryType.PRECERT_ENTRY
    fresh = await (client.add_pre_chain(chain) if is_precert else client.add_chain(chain))
    return [("resubmitted", _checked(fresh, key, entry_type, signed_entry))]


def _checked(
    sct: SignedCertificateTimestamp,
    key: LogPublicKey | None,
    entry_type: LogEntryType,
    signed_entry: bytes | PreCert,
) -> TimestampedEntry:
    entry = TimestampedEntry(sct.timestamp, entry_type, signed_entry, sct.extensions)
    if key is not None:
        verify_sct(sct, key, entry)
    return entry


@click.command("get-entries")
@log_option
@click.option("--start", type=click.IntRange(min=0), required=True, help="first index")
@click.option("--end", type=click.IntRange(min=0), required=True, help="last index (inclusive)")
@json_option
def get_entries(log_url: str, start: int, end: int, json_mode: bool) -> None:
    """Print entries START..END of the log with their certificate names (RFC 6962 §4.6)."""
    if end < start or end - start >= MAX_CLI_ENTRIES:
        fail(
            f"need start <= end and at most {MAX_CLI_ENTRIES} entries",
            code=EXIT_USAGE,
            json_mode=json_mode,
        )
    with cli_errors(json_mode=json_mode):
        entries = asyncio.run(_fetch_entries(LogClient(log_url), start, end))
    described = [_describe(start + i, entry) for i, entry in enumerate(entries)]
    text = "\n".join(_entry_line(d) for d in described)
    emit({"ok": True, "entries": described}, text, json_mode=json_mode)


async def _fetch_entries(client: LogClient, start: int, end: int) -> list[RawEntry]:
    """Entries start..end that exist under the latest tree head, asking again after each
    truncated answer (RFC 6962 §4.6 lets a log return fewer than asked)."""
    out: list[RawEntry] = []
    async with client:
        size = (await client.get_sth()).tree_size
        if start >= size:
            raise InputError(
                f"the log has {size} entries under its latest tree head; "
                f"start {start} is past the end"
            )
        end = min(end, size - 1)
        while start + len(out) <= end:
            out.extend(await client.get_entries(start + len(out), end))
    return out


def _describe(index: int, raw: RawEntry) -> dict[str, object]:
    """One entry as JSON: its bytes, and its type, time and names if it can be read."""
    out: dict[str, object] = {
        "index": index,
        "leaf_input": base64.b64encode(raw.leaf_input).decode(),
        "extra_data": base64.b64encode(raw.extra_data).decode(),
        "entry_type": "unreadable",
        "names": [],
    }
    try:
        entry = MerkleTreeLeaf.deserialize(raw.leaf_input).timestamped_entry
        if isinstance(entry.signed_entry, PreCert):
            names = certificate_names(entry.signed_entry.tbs_certificate, is_tbs=True)
        else:
            names = certificate_names(entry.signed_entry)
    except CtlogError:
        return out
    out.update(
        entry_type=entry.entry_type.name.lower(), timestamp=entry.timestamp, names=list(names)
    )
    return out


def _entry_line(described: dict[str, object]) -> str:
    timestamp = described.get("timestamp")
    when = iso_ms(timestamp) if isinstance(timestamp, int) else "-"
    names = described["names"]
    listed = ",".join(str(n) for n in names) if isinstance(names, list) else ""
    return f"{described['index']} {described['entry_type']} {when} {listed}"


COMMANDS: list[click.Command] = [submit, sth, prove, verify_sth, verify_sct_command, get_entries]

__all__ = ["COMMANDS"]
