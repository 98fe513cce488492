"""BIP44/49/84 accounts: derivation paths, address types and the addresses of a seed or an
account key, and SLIP-132 (ypub/zpub, upub/vpub) account key strings.

Pure: no I/O. Paths are m / purpose' / coin_type' / account' / change / address_index
(BIP44 "Path levels"), with coin type `params.bip44_coin_type` (0' mainnet, 1' testnet and
regtest, SLIP-44). An account key (depth 3) derives its addresses with public derivation
only, so a watch-only wallet holding the account xpub sees the same addresses as the seed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from btcnode.address import address_for_script, b58check_encode
from btcnode.consensus.params import ChainParams
from btcnode.signing import p2pkh_script_for, p2sh_p2wpkh_script_for, p2wpkh_script_for
from wallets.bip32 import (
    HARDENED,
    ExtendedKey,
    ExtendedKeyError,
    ExtendedKeyProblem,
    KeyVersions,
    extended_key_payload,
    format_path,
    is_hardened,
)
from wallets.errors import WalletMisuse

__all__ = [
    "ACCOUNT_DEPTH",
    "CHANGE",
    "RECEIVE",
    "AddressType",
    "DerivedAddress",
    "account_key",
    "account_path",
    "address_key",
    "address_path",
    "decode_account_key",
    "derive_address",
    "derive_addresses",
    "encode_slip132",
    "script_for_pubkey",
    "slip132_versions",
]

ACCOUNT_DEPTH = 3  # m / purpose' / coin_type' / account'
RECEIVE, CHANGE = 0, 1  # BIP44 "Change": 0 external chain, 1 internal chain


class AddressType(enum.Enum):
    """A single-key address type, valued by its BIP43 purpose."""

    P2PKH = 44  # BIP44: legacy 1.../m...
    P2SH_P2WPKH = 49  # BIP49: nested segwit 3.../2...
    P2WPKH = 84  # BIP84: native segwit bc1q.../bcrt1q...

    @property
    def purpose(self) -> int:
        return self.value


# SLIP-132 version bytes (private, public) by the network's BIP32 public version.
_MAINNET_XPUB, _TESTNET_TPUB = 0x0488B21E, 0x043587CF
_SLIP132 = {
    (_MAINNET_XPUB, AddressType.P2SH_P2WPKH): KeyVersions(0x049D7878, 0x049D7CB2),  # y
    (_MAINNET_XPUB, AddressType.P2WPKH): KeyVersions(0x04B2430C, 0x04B24746),  # z
    (_TESTNET_TPUB, AddressType.P2SH_P2WPKH): KeyVersions(0x044A4E28, 0x044A5262),  # u
    (_TESTNET_TPUB, AddressType.P2WPKH): KeyVersions(0x045F18BC, 0x045F1CF6),  # v
}


@dataclass(frozen=True, slots=True)
class DerivedAddress:
    """One address of an account, with what a wallet needs to watch and spend it."""

    address: str
    script_pubkey: bytes
    path: str
    pubkey: bytes

    def __post_init__(self) -> None:
        if len(self.pubkey) != 33 or self.pubkey[0] not in (2, 3):
            raise WalletMisuse("pubkey must be a 33-byte compressed public key")
        if not self.path.startswith("m/"):
            raise WalletMisuse(f"path {self.path!r} is not absolute")


def _check_index(name: str, value: int, limit: int = HARDENED) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < limit:
        raise WalletMisuse(f"{name} must be an integer in 0..{limit - 1}, not {value!r}")


def account_path(address_type: AddressType, params: ChainParams, account: int = 0) -> str:
    """m / purpose' / coin_type' / account', e.g. "m/84'/1'/0'" for regtest P2WPKH."""
    _check_index("account", account)
    indices = (address_type.purpose, params.bip44_coin_type, account)
    return format_path(index + HARDENED for index in indices)


def address_path(
    address_type: AddressType, params: ChainParams, account: int, change: int, index: int
) -> str:
    """m / purpose' / coin_type' / account' / change / address_index."""
    _check_index("change", change, CHANGE + 1)
    _check_index("index", index)
    return f"{account_path(address_type, params, account)}/{change}/{index}"


def script_for_pubkey(address_type: AddressType, pubkey: bytes) -> bytes:
    """The output script an address of `address_type` for `pubkey` pays to."""
    if address_type is AddressType.P2PKH:
        return p2pkh_script_for(pubkey)
    if address_type is AddressType.P2SH_P2WPKH:
        return p2sh_p2wpkh_script_for(pubkey)
    return p2wpkh_script_for(pubkey)


def account_key(
    seed_or_master: bytes | ExtendedKey,
    address_type: AddressType,
    params: ChainParams,
    account: int = 0,
) -> ExtendedKey:
    """The private account key m/purpose'/coin_type'/account' of a seed or master key."""
    master = _master(seed_or_master)
    return master.derive_path(account_path(address_type, params, account))


def _master(seed_or_master: bytes | ExtendedKey) -> ExtendedKey:
    if isinstance(seed_or_master, bytes):
        return ExtendedKey.from_seed(seed_or_master)
    if seed_or_master.depth != 0 or not seed_or_master.is_private:
        raise WalletMisuse("expected a seed or a private master key (depth 0)")
    return seed_or_master


def _account_number(key: ExtendedKey) -> int:
    """The account of an account key: depth 3 and a hardened child number (BIP44)."""
    if key.depth != ACCOUNT_DEPTH or not is_hardened(key.child_number):
        raise WalletMisuse(
            f"an account key has depth {ACCOUNT_DEPTH} and a hardened child number; this "
            f"one has depth {key.depth} and child number {key.child_number}"
        )
    return key.child_number - HARDENED


def address_key(key: bytes | ExtendedKey, change: int, index: int) -> ExtendedKey:
    """The key at change/index below an account key (private or public)."""
    if isinstance(key, bytes):
        raise WalletMisuse("address_key needs an account key; use account_key(seed, ...)")
    _account_number(key)
    _check_index("change", change, CHANGE + 1)
    _check_index("index", index)
    return key.derive_child(change).derive_child(index)


def derive_address(
    key: bytes | ExtendedKey,
    address_type: AddressType,
    params: ChainParams,
    change: int,
    index: int,
    *,
    account: int = 0,
) -> DerivedAddress:
    """The address at change/index of an account: `key` is a seed or master key (then
    `account` picks the account) or an account key, public for watch-only wallets (then
    the account is the key's own and `account` must be left at 0 or agree)."""
    if isinstance(key, bytes) or key.depth == 0:
        key = account_key(key, address_type, params, account)
    elif account not in (0, _account_number(key)):
        raise WalletMisuse(f"account {account} asked of the key of account {key.child_number}")
    return _address_of(address_key(key, change, index), address_type, params, key, change, index)


def derive_addresses(
    key: ExtendedKey,
    address_type: AddressType,
    params: ChainParams,
    change: int,
    indices: range,
) -> list[DerivedAddress]:
    """`derive_address` of an account key for each of `indices`, deriving the chain's key
    once (a rescan derives thousands; the chain step is half the cost of each)."""
    _account_number(key)
    _check_index("change", change, CHANGE + 1)
    chain_key = key.derive_child(change)
    derived = []
    for index in indices:
        _check_index("index", index)
        child = chain_key.derive_child(index)
        derived.append(_address_of(child, address_type, params, key, change, index))
    return derived


def _address_of(
    child: ExtendedKey,
    address_type: AddressType,
    params: ChainParams,
    account: ExtendedKey,
    change: int,
    index: int,
) -> DerivedAddress:
    pubkey = child.public_key
    script = script_for_pubkey(address_type, pubkey)
    address = address_for_script(script, params)
    assert address is not None  # P2PKH, P2SH and P2WPKH scripts all have addresses
    path = address_path(address_type, params, _account_number(account), change, index)
    return DerivedAddress(address, script, path, pubkey)


def slip132_versions(address_type: AddressType, params: ChainParams) -> KeyVersions:
    """SLIP-132 version bytes of `address_type`'s account keys: ypub/zpub on mainnet,
    upub/vpub on testnet and regtest; BIP44 (P2PKH) keeps xpub/tpub."""
    base = KeyVersions.for_network(params)
    if address_type is AddressType.P2PKH:
        return base
    versions = _SLIP132.get((base.public, address_type))
    if versions is None:
        raise WalletMisuse(f"no SLIP-132 versions for {params.name}")
    return versions


def encode_slip132(key: ExtendedKey, address_type: AddressType, params: ChainParams) -> str:
    """`key` as a ypub/zpub (yprv/zprv), or upub/vpub on testnet and regtest."""
    return b58check_encode(key.serialize(slip132_versions(address_type, params)))


def decode_account_key(text: str, address_type: AddressType, params: ChainParams) -> ExtendedKey:
    """An account key given as xpub/tpub (or xprv/tprv) or as `address_type`'s SLIP-132
    form; a SLIP-132 key of another address type is refused (a zpub is not a ypub)."""
    payload = extended_key_payload(text)
    version = int.from_bytes(payload[:4], "big")
    standard = KeyVersions.for_network(params)
    if version in (standard.private, standard.public):
        return ExtendedKey.deserialize(payload, standard)
    slip132 = slip132_versions(address_type, params)
    if version in (slip132.private, slip132.public):
        return ExtendedKey.deserialize(payload, slip132)
    for other in AddressType:
        if other is not address_type and version in _versions_of(other, params):
            raise ExtendedKeyError(
                ExtendedKeyProblem.WRONG_ADDRESS_TYPE,
                f"this is a {other.name} account key, expected {address_type.name} on "
                f"{params.name}",
            )
    return ExtendedKey.from_base58(text, params)  # names another network or the version


def _versions_of(address_type: AddressType, params: ChainParams) -> tuple[int, int]:
    versions = slip132_versions(address_type, params)
    return versions.private, versions.public
