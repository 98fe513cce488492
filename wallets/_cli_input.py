"""What a user types to the `wallet` command, checked: BTC amounts, fee rates, address types,
node URLs with their credentials, and secrets read from files or stdin.

Pure except for `read_secret_file` and `node_credentials` (which read the files named on the
command line). Amounts are decimal strings parsed exactly, never through float. Errors are
`CliInputError` (a `WalletInputError`): one line naming the flag or argument and what is
wrong, never the secret itself.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.params import MAX_MONEY
from btcnode.mempool.feerate import FeeRate
from btcnode.rpc.auth import RpcCredentials, read_cookie
from wallets.accounts import AddressType
from wallets.errors import WalletInputError

__all__ = [
    "ADDRESS_TYPE_NAMES",
    "DEFAULT_NODE_URL",
    "MAX_FEE_RATE_SAT_VB",
    "MAX_SECRET_BYTES",
    "STDIN",
    "CliInputError",
    "NodeTarget",
    "check_one_stdin",
    "node_credentials",
    "parse_address_type",
    "parse_btc_amount",
    "parse_fee_rate",
    "parse_node_url",
    "parse_txid",
    "read_secret_file",
    "secret_from_text",
]

STDIN = "-"  # a secret option given as "-" reads the secret from standard input
DEFAULT_NODE_URL = "http://127.0.0.1:18443"  # btcnode's (and Core's) regtest RPC port
MAX_SECRET_BYTES = 4096  # a 24-word mnemonic is under 250 bytes; a bigger file is a mistake
AMOUNT_DECIMALS = 8  # satoshis: BTC has eight decimals
FEE_RATE_DECIMALS = 3  # sat/vB to the sat/kvB a FeeRate holds
MAX_FEE_RATE_SAT_VB = 10_000  # Core's default -maxfeerate 0.10 BTC/kvB: the node refuses more
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")  # no sign, no exponent, no thousands separator
_TXID = re.compile(r"[0-9a-fA-F]{64}")

ADDRESS_TYPE_NAMES = {
    "p2wpkh": AddressType.P2WPKH,
    "p2sh-p2wpkh": AddressType.P2SH_P2WPKH,
    "p2pkh": AddressType.P2PKH,
}


class CliInputError(WalletInputError):
    """A command-line value is invalid; the message names it and says why."""


def _decimal_units(text: str, decimals: int, what: str) -> int:
    """`text` as an exact count of 10**-decimals units; refuses more decimals than that."""
    if not _AMOUNT.fullmatch(text):
        raise CliInputError(f"{what} {text!r} is not a decimal number such as 1.5")
    whole, _, frac = text.partition(".")
    if len(frac) > decimals:
        raise CliInputError(f"{what} {text!r} has more than {decimals} decimals")
    return int(whole) * 10**decimals + int(frac.ljust(decimals, "0") or "0")


def parse_btc_amount(text: str, what: str = "amount") -> int:
    """A positive amount in BTC (at most 8 decimals), in satoshis."""
    if len(text) > 30:  # 21 million with 8 decimals is 17 characters
        raise CliInputError(f"{what} {text[:30]!r}... is too long")
    sats = _decimal_units(text.strip(), AMOUNT_DECIMALS, what)
    if sats <= 0:
        raise CliInputError(f"{what} must be more than 0 BTC")
    if sats > MAX_MONEY:
        raise CliInputError(f"{what} {text} BTC is more than the 21,000,000 BTC that can exist")
    return sats


def parse_fee_rate(text: str) -> FeeRate:
    """A fee rate in sat/vB (at most 3 decimals) as a `FeeRate` in sat/kvB."""
    if len(text) > 20:
        raise CliInputError(f"--fee-rate {text[:20]!r}... is too long")
    sat_per_kvb = _decimal_units(text.strip(), FEE_RATE_DECIMALS, "--fee-rate")
    if sat_per_kvb <= 0:
        raise CliInputError("--fee-rate must be more than 0 sat/vB")
    if sat_per_kvb > MAX_FEE_RATE_SAT_VB * 10**FEE_RATE_DECIMALS:
        raise CliInputError(
            f"--fee-rate {text} sat/vB is above {MAX_FEE_RATE_SAT_VB} sat/vB, "
            "the most a node relays (Core's -maxfeerate)"
        )
    return FeeRate(sat_per_kvb)


def parse_address_type(name: str) -> AddressType:
    try:
        return ADDRESS_TYPE_NAMES[name.lower()]
    except KeyError:
        known = ", ".join(ADDRESS_TYPE_NAMES)
        raise CliInputError(f"--type {name!r} is not one of {known}") from None


def parse_txid(text: str) -> bytes:
    """A txid as shown (64 hex digits, display order), in internal byte order."""
    if not _TXID.fullmatch(text):
        raise CliInputError(f"TXID {text[:70]!r} is not 64 hexadecimal digits")
    return bytes.fromhex(text)[::-1]


@dataclass(frozen=True, slots=True)
class NodeTarget:
    """Where the node's RPC is (`url`, no credentials in it) and the login from the URL."""

    url: str
    url_credentials: RpcCredentials | None

    def __repr__(self) -> str:
        login = "None" if self.url_credentials is None else "<from the URL>"
        return f"NodeTarget(url={self.url!r}, url_credentials={login})"


def parse_node_url(text: str) -> NodeTarget:
    """`http://[user:password@]host:port[/]`; the login is taken out of the URL."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliInputError(f"--node {text!r} is not an http://host:port URL")
    try:
        port = parts.port
    except ValueError:
        raise CliInputError(f"--node {text!r} has an invalid port") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port is None else f"{host}:{port}"
    url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
    creds = None
    if parts.password is not None:
        user = urllib.parse.unquote(parts.username or "")
        try:
            creds = RpcCredentials(user, urllib.parse.unquote(parts.password))
        except ChainMisuse as exc:
            raise CliInputError(f"--node: {exc}") from None
    return NodeTarget(url, creds)


def node_credentials(
    target: NodeTarget, cookie: str | None, user: str | None, password: str | None
) -> RpcCredentials:
    """The login: --rpcpassword (with --rpcuser), else --rpc-cookie, else the URL's."""
    if password is not None:
        try:
            return RpcCredentials(user or "", password)
        except ChainMisuse as exc:
            raise CliInputError(f"--rpcuser: {exc}") from None
    if user is not None:
        raise CliInputError("--rpcuser needs --rpcpassword")
    if cookie is not None:
        try:
            return read_cookie(cookie)
        except FileNotFoundError:
            raise CliInputError(
                f"--rpc-cookie {cookie}: no such file (is the node running?)"
            ) from None
        except OSError as exc:
            raise CliInputError(f"--rpc-cookie {cookie}: {exc.strerror}") from None
        except ChainMisuse as exc:
            raise CliInputError(f"--rpc-cookie: {exc}") from None
    if target.url_credentials is not None:
        return target.url_credentials
    raise CliInputError(
        "no RPC login for --node: give --rpc-cookie FILE (the node's <datadir>/regtest/.cookie),"
        " --rpcuser/--rpcpassword, or http://user:password@host:port"
    )


def check_one_stdin(options: dict[str, str | None]) -> None:
    """At most one secret option may read standard input."""
    from_stdin = [name for name, value in options.items() if value == STDIN]
    if len(from_stdin) > 1:
        raise CliInputError(f"only one of {', '.join(from_stdin)} can be - (standard input)")


def secret_from_text(text: str, what: str) -> str:
    """The secret in a file's text: the first line, without its line ending."""
    if len(text) > MAX_SECRET_BYTES:
        raise CliInputError(f"{what}: more than {MAX_SECRET_BYTES} bytes; not a secret file")
    lines = text.splitlines()
    secret = lines[0] if lines else ""
    if any(line.strip() for line in lines[1:]):
        raise CliInputError(f"{what}: the secret must be on the first line only")
    return secret


def read_secret_file(path: str, what: str, stdin: TextIO) -> str:
    """The secret in file `path`, or on standard input when `path` is "-"."""
    if path == STDIN:
        return secret_from_text(stdin.read(MAX_SECRET_BYTES + 1), f"{what} (standard input)")
    try:
        with Path(path).open("rb") as f:
            raw = f.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise CliInputError(f"{what} {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliInputError(f"{what} {path}: not UTF-8 text") from None
    return secret_from_text(text, f"{what} {path}")
