"""The records a wallet keeps: its coins, its transactions and its journal entries, each
frozen, validated, and encoded to bytes for the wallet database.

Encodings are compact JSON objects with hex for bytes: a record is a few hundred bytes and a
wallet holds thousands, so readability when debugging a database wins over size. Decoding
is strict: a missing or mistyped field raises `WalletStateCorrupted`, never a KeyError.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from btcnode.consensus.params import ChainParams
from btcnode.consensus.tx import OutPoint, Tx
from wallets.accounts import AddressType
from wallets.bip32 import ExtendedKey
from wallets.errors import WalletError, WalletInputError, WalletMisuse

__all__ = [
    "Coin",
    "JournalEntry",
    "JournalStatus",
    "TxStatus",
    "WalletKind",
    "WalletMeta",
    "WalletStateCorrupted",
    "WalletTx",
]

_S = TypeVar("_S", bound=enum.Enum)


class WalletStateCorrupted(WalletError):
    """The wallet database holds a record this code cannot read."""

    def __init__(self, what: str, reason: str) -> None:
        self.what, self.reason = what, reason
        super().__init__(f"wallet database: {what} is unreadable: {reason}")


class TxStatus(enum.Enum):
    """Where a wallet transaction stands with the chain the wallet follows."""

    CONFIRMED = "confirmed"  # in a block of the active chain
    UNCONFIRMED = "unconfirmed"  # in the node's mempool, or ours and waiting to be sent
    CONFLICTED = "conflicted"  # an input is spent by another transaction, or it left the chain
    ABANDONED = "abandoned"  # an incoming payment the node's mempool no longer has
    REPLACED = "replaced"  # we replaced it by a fee bump (BIP125)

    @property
    def is_applied(self) -> bool:
        """Whether its outputs count as coins and its inputs as spent."""
        return self in (TxStatus.CONFIRMED, TxStatus.UNCONFIRMED)


class JournalStatus(enum.Enum):
    PENDING = "pending"  # signed and written, not yet accepted by the node
    BROADCAST = "broadcast"  # the node took it; kept until it confirms


def _need(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise WalletStateCorrupted(what, f"field {key!r} is {value!r}")
    return value


def _hex(doc: dict[str, Any], key: str, what: str) -> bytes:
    try:
        return bytes.fromhex(_need(doc, key, str, what))
    except ValueError:
        raise WalletStateCorrupted(what, f"field {key!r} is not hex") from None


def _opt_int(doc: dict[str, Any], key: str, what: str) -> int | None:
    return None if doc.get(key) is None else int(_need(doc, key, int, what))


def _opt_hex(doc: dict[str, Any], key: str, what: str) -> bytes | None:
    return None if doc.get(key) is None else _hex(doc, key, what)


def _hex_or_none(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _status(doc: dict[str, Any], kind: type[_S], what: str) -> _S:
    try:
        return kind(doc.get("status"))
    except ValueError:
        raise WalletStateCorrupted(what, f"status {doc.get('status')!r}") from None


def _load(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError:
        raise WalletStateCorrupted(what, "not JSON") from None
    if not isinstance(doc, dict):
        raise WalletStateCorrupted(what, "not a JSON object")
    return doc


def _dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True, slots=True)
class Coin:
    """An output paying the wallet: where, how much, to which script, since which block
    (None: unconfirmed), and whether a coinbase made it (it must mature first)."""

    outpoint: OutPoint
    value: int
    script_pubkey: bytes
    height: int | None
    coinbase: bool

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or self.value < 0:
            raise WalletMisuse(f"coin {self.outpoint} has value {self.value!r}")
        if self.height is not None and self.height < 0:
            raise WalletMisuse(f"coin {self.outpoint} has height {self.height}")

    def confirmations(self, tip_height: int) -> int:
        return 0 if self.height is None else max(0, tip_height - self.height + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "txid": self.outpoint.txid.hex(),
            "n": self.outpoint.n,
            "value": self.value,
            "script": self.script_pubkey.hex(),
            "height": self.height,
            "coinbase": self.coinbase,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any], what: str = "coin") -> Coin:
        outpoint = OutPoint(_hex(doc, "txid", what), _need(doc, "n", int, what))
        return cls(
            outpoint,
            _need(doc, "value", int, what),
            _hex(doc, "script", what),
            _opt_int(doc, "height", what),
            _need(doc, "coinbase", bool, what),
        )

    def encode(self) -> bytes:
        return _dump(self.to_json())

    @classmethod
    def decode(cls, data: bytes) -> Coin:
        return cls.from_json(_load(data, "coin"))


@dataclass(frozen=True, slots=True)
class WalletTx:
    """A transaction that pays or spends the wallet.

    `spent` are the wallet's coins it spends (kept after it is undone, for its fee and
    amount); `height`, `block_hash`, `block_time` and `position` (its index in the block)
    are set while it is confirmed; `first_seen` is when the wallet first met it (UNIX s).
    """

    txid: bytes
    raw: bytes
    status: TxStatus
    first_seen: int
    spent: tuple[Coin, ...] = ()
    height: int | None = None
    block_hash: bytes | None = None
    block_time: int | None = None
    position: int | None = None
    replaced_by: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.txid) != 32:
            raise WalletMisuse(f"a txid is 32 bytes, got {len(self.txid)}")
        confirmed = self.status is TxStatus.CONFIRMED
        if confirmed != (self.height is not None) or confirmed != (self.block_hash is not None):
            raise WalletMisuse(f"{self.status.value} transaction with height {self.height}")

    @property
    def tx(self) -> Tx:
        return Tx.deserialize(self.raw)

    def confirmed_at(self, height: int, block_hash: bytes, time: int, position: int) -> WalletTx:
        return replace(
            self,
            status=TxStatus.CONFIRMED,
            height=height,
            block_hash=block_hash,
            block_time=time,
            position=position,
        )

    def with_status(self, status: TxStatus, replaced_by: bytes | None = None) -> WalletTx:
        """Out of the chain with `status` (UNCONFIRMED, CONFLICTED, ...)."""
        return replace(
            self,
            status=status,
            height=None,
            block_hash=None,
            block_time=None,
            position=None,
            replaced_by=replaced_by if replaced_by is not None else self.replaced_by,
        )

    def encode(self) -> bytes:
        return _dump(
            {
                "txid": self.txid.hex(),
                "raw": self.raw.hex(),
                "status": self.status.value,
                "first_seen": self.first_seen,
                "spent": [c.to_json() for c in self.spent],
                "height": self.height,
                "block_hash": _hex_or_none(self.block_hash),
                "block_time": self.block_time,
                "position": self.position,
                "replaced_by": _hex_or_none(self.replaced_by),
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> WalletTx:
        what = "wallet transaction"
        doc = _load(data, what)
        spent = tuple(Coin.from_json(c, what) for c in _need(doc, "spent", list, what))
        return cls(
            _hex(doc, "txid", what),
            _hex(doc, "raw", what),
            _status(doc, TxStatus, what),
            _need(doc, "first_seen", int, what),
            spent,
            _opt_int(doc, "height", what),
            _opt_hex(doc, "block_hash", what),
            _opt_int(doc, "block_time", what),
            _opt_int(doc, "position", what),
            _opt_hex(doc, "replaced_by", what),
        )


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A signed transaction of ours that must reach the node: written (synced) before it is
    broadcast, kept until it confirms or can never confirm. `replaces` is the txid a fee
    bump replaces."""

    txid: bytes
    raw: bytes
    status: JournalStatus
    created: int
    replaces: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.txid) != 32:
            raise WalletMisuse(f"a txid is 32 bytes, got {len(self.txid)}")

    def encode(self) -> bytes:
        return _dump(
            {
                "txid": self.txid.hex(),
                "raw": self.raw.hex(),
                "status": self.status.value,
                "created": self.created,
                "replaces": _hex_or_none(self.replaces),
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> JournalEntry:
        what = "journal entry"
        doc = _load(data, what)
        return cls(
            _hex(doc, "txid", what),
            _hex(doc, "raw", what),
            _status(doc, JournalStatus, what),
            _need(doc, "created", int, what),
            _opt_hex(doc, "replaces", what),
        )


class WalletKind(enum.Enum):
    SEED = "seed"  # a keystore holds the mnemonic; it can sign
    WATCH_ONLY = "watch-only"  # one account's public key; it can build PSBTs, not sign


@dataclass(frozen=True, slots=True)
class WalletMeta:
    """What a wallet is: its network, kind, the master key fingerprint (for PSBT key
    origins) and the public account key of each address type it follows."""

    network: str
    kind: WalletKind
    fingerprint: bytes
    accounts: tuple[tuple[AddressType, ExtendedKey], ...]

    def __post_init__(self) -> None:
        if len(self.fingerprint) != 4:
            raise WalletMisuse("a key fingerprint is 4 bytes")
        if not self.accounts or any(key.is_private for _, key in self.accounts):
            raise WalletMisuse("a wallet follows at least one account, by its public key")

    def encode(self, params: ChainParams) -> bytes:
        doc = {
            "network": self.network,
            "kind": self.kind.value,
            "fingerprint": self.fingerprint.hex(),
            "accounts": [[t.name, key.to_base58(params)] for t, key in self.accounts],
        }
        return json.dumps(doc, sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes, params: ChainParams) -> WalletMeta:
        try:
            doc = json.loads(data)
            if doc["network"] != params.name:
                raise WalletInputError(f"this is a {doc['network']} wallet, not {params.name}")
            accounts = tuple(
                (AddressType[name], ExtendedKey.from_base58(text, params))
                for name, text in doc["accounts"]
            )
            return cls(
                doc["network"], WalletKind(doc["kind"]), bytes.fromhex(doc["fingerprint"]), accounts
            )
        except (ValueError, KeyError, TypeError) as err:
            raise WalletStateCorrupted("metadata", str(err)) from None
