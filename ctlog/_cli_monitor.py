"""`ctlog monitor`: watch a log for certificates that match name patterns, verifying it.

Matches go to stdout, one line each (one JSON object per line with --json, tagged
`"event": "match"`; verified tree heads and unreadable entries are tagged too). Exit 0 after
`--once`, 1 with the evidence on one line if the log is inconsistent, 2 for usage errors
(including a state directory in use or built for another log or watch list), 3 if the log
cannot be reached, 130 on Ctrl-C (the state is saved first).
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass

import click

from common.errors import CommonError
from common.runtime import DataDir
from ctlog._cli_common import (
    EXIT_INVALID,
    EXIT_USAGE,
    cli_errors,
    fail,
    iso_ms,
    json_option,
    log_option,
    read_file,
)
from ctlog.checkpoint import Checkpoint, RFC6962NoteVerifier
from ctlog.client import LogClient
from ctlog.errors import VerificationError
from ctlog.keys import LogPublicKey
from ctlog.monitor.core import Match, MonitorCore, UnparsedEntry
from ctlog.monitor.driver import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, MonitorDriver, StateStore
from ctlog.monitor.names import parse_patterns
from ctlog.monitor.sources import (
    DEFAULT_PAGE_ENTRIES,
    MAX_PAGE_ENTRIES,
    EntrySource,
    Rfc6962Source,
    TileSource,
)
from ctlog.note import Note
from ctlog.sth import SignedTreeHead

DEFAULT_INTERVAL_S = (
    60.0  # a log's STH changes every few seconds to minutes; once a minute is polite
)
EXIT_INTERRUPTED = 130  # the shell's convention for a process stopped by SIGINT


class CliSink:
    """Prints what the monitor finds: matches on stdout, the rest on stderr (or all as JSON)."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        self.matches = 0

    def _json(self, event: str, body: dict[str, object]) -> None:
        click.echo(json.dumps({"event": event, **body}, sort_keys=True))

    def match(self, match: Match) -> None:
        self.matches += 1
        if self.json_mode:
            self._json("match", match.to_json())
            return
        kind = match.entry_type.name.lower()
        names = ", ".join(match.names)
        click.echo(f"match {match.index} {kind} {iso_ms(match.timestamp)} {names}")

    def unparsed(self, entry: UnparsedEntry) -> None:
        if self.json_mode:
            self._json("unparsed", {"index": entry.index, "reason": entry.reason})
        else:
            click.echo(f"warning: entry {entry.index} is unreadable: {entry.reason}", err=True)

    def verified(self, sth: SignedTreeHead) -> None:
        if self.json_mode:
            self._json("verified", sth.to_json())
        else:
            click.echo(
                f"verified tree size {sth.tree_size} root {sth.root_hash.hex()} "
                f"({iso_ms(sth.timestamp)})",
                err=True,
            )


async def _checkpoint_origin(client: LogClient) -> str:
    """The origin the log's checkpoint names. Only a name: the signature must still verify
    under the log key given on the command line, so a wrong origin cannot slip through."""
    return Checkpoint.from_note(Note.parse(await client.get_checkpoint())).origin


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to reach the log and how often to poll it."""

    log_url: str
    tiles: bool
    origin: str | None
    once: bool
    interval_s: float
    concurrency: int
    page_size: int
    show_progress: bool
    from_latest: bool


async def _run(options: RunOptions, core: MonitorCore, store: StateStore, sink: CliSink) -> None:
    async with LogClient(options.log_url) as client:
        source: EntrySource
        if options.tiles:
            origin = options.origin or await _checkpoint_origin(client)
            source = TileSource(client, RFC6962NoteVerifier(core.key, origin))
        else:
            source = Rfc6962Source(client, options.page_size)
        driver = MonitorDriver(
            core,
            source,
            store,
            sink,
            concurrency=options.concurrency,
            show_progress=options.show_progress,
        )
        await driver.run(
            once=options.once, interval_s=options.interval_s, from_latest=options.from_latest
        )


@click.command("monitor")
@log_option
@click.option("--log-key", "key_path", required=True, help="the log's public key (PEM)")
@click.option("--match", "patterns", multiple=True, required=True, help="name pattern")
@click.option("--state-dir", help="keep the verified state here and resume from it")
@click.option("--tiles", is_flag=True, help="read the static-ct tiles instead of RFC 6962")
@click.option("--origin", help="checkpoint origin (tiles; default: the one the checkpoint names)")
@click.option("--once", is_flag=True, help="catch up with the latest tree head, then exit")
@click.option(
    "--from-latest",
    is_flag=True,
    help="a new monitor starts at the latest tree head, skipping earlier entries",
)
@click.option("--interval", "interval_s", type=click.FloatRange(min=0.1), help="poll seconds")
@click.option("--concurrency", type=click.IntRange(1, MAX_CONCURRENCY), default=DEFAULT_CONCURRENCY)
@click.option("--page-size", type=click.IntRange(1, MAX_PAGE_ENTRIES), default=DEFAULT_PAGE_ENTRIES)
@json_option
def monitor(
    log_url: str,
    key_path: str,
    patterns: tuple[str, ...],
    state_dir: str | None,
    tiles: bool,
    origin: str | None,
    once: bool,
    interval_s: float | None,
    concurrency: int,
    page_size: int,
    from_latest: bool,
    json_mode: bool,
) -> None:
    """Watch a log for certificates matching --match patterns ('*.example.com' is one
    label, '.example.com' any depth, else the exact name), verifying every tree head."""
    if once and interval_s is not None:
        fail("give --once or --interval, not both", code=EXIT_USAGE, json_mode=json_mode)
    key_pem = read_file(key_path, json_mode=json_mode)
    sink = CliSink(json_mode)
    options = RunOptions(
        log_url,
        tiles,
        origin,
        once,
        interval_s or DEFAULT_INTERVAL_S,
        concurrency,
        page_size,
        show_progress=sys.stderr.isatty() and not json_mode,
        from_latest=from_latest,
    )
    with cli_errors(json_mode=json_mode):
        key = LogPublicKey.from_pem(key_pem)
        watch = parse_patterns(patterns)
        LogClient(log_url)  # refuses a URL that is not http(s) before touching the state
        try:
            data_dir = DataDir(state_dir) if state_dir is not None else None
        except CommonError as exc:
            fail(str(exc), code=EXIT_USAGE, json_mode=json_mode)
        try:
            store = StateStore(data_dir)
            core = MonitorCore(key, store.load(key, watch))
            asyncio.run(_run(options, core, store, sink))
        except VerificationError as exc:
            _fail_with_evidence(exc, json_mode)
        except KeyboardInterrupt:
            click.echo("interrupted; the state is saved", err=True)
            sys.exit(EXIT_INTERRUPTED)
        finally:
            if data_dir is not None:
                data_dir.close()
    if not json_mode:
        click.echo(f"done: {sink.matches} matching entries", err=True)


def _fail_with_evidence(exc: VerificationError, json_mode: bool) -> None:
    """The log is inconsistent: say so on one line with what proves it."""
    if json_mode:
        raise exc
    evidence = json.dumps(exc.evidence, sort_keys=True, separators=(",", ":"))
    fail(f"{exc}; evidence: {evidence}", code=EXIT_INVALID, json_mode=False)


COMMANDS: list[click.Command] = [monitor]

__all__ = ["COMMANDS", "CliSink", "monitor"]
