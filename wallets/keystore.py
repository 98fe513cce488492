"""Keystore files: a wallet's secret encrypted at rest, or a watch-only account xpub.

One JSON document per file, written atomically with mode 0600 (temp file, fsync, rename,
fsync of the directory: `common.runtime.write_file_atomic`). An encrypted keystore holds
the BIP39 mnemonic (or a raw seed) and whether a BIP39 passphrase is also needed, sealed
with AES-256-GCM (random 96-bit nonce) under a key from scrypt (random salt); everything
but the ciphertext is the header, and the header is GCM's associated data, so an altered
header fails like a wrong password. In clear: only the format, version, kind, network and
KDF/cipher parameters. scrypt parameters read from a file are bounded before any work
(`MAX_SCRYPT_MEMORY_BYTES`), so a crafted file cannot make us allocate gigabytes.

Reading refuses a file that group or others may access, as ssh refuses a private key
(`KeystorePermissionError`; fix with chmod 600); this applies to watch-only files too,
since an xpub reveals every address and balance. `seal`/`unseal` and the watch-only
codec are pure; salt and nonce are inputs. Python cannot wipe str/bytes from memory: the
secret lives in the process until it is garbage collected.
"""

from __future__ import annotations

import enum
import json
import os
import secrets
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from btcnode.consensus.params import ChainParams
from common.runtime import DataDirError, write_file_atomic
from wallets.accounts import AddressType, decode_account_key
from wallets.bip32 import MAX_SEED_BYTES, MIN_SEED_BYTES, ExtendedKey
from wallets.bip39 import mnemonic_to_entropy, mnemonic_to_seed, normalize_mnemonic
from wallets.errors import WalletError, WalletInputError, WalletMisuse, WrongPassphrase

__all__ = [
    "DEFAULT_SCRYPT",
    "KeystoreCorrupted",
    "KeystoreKind",
    "KeystorePermissionError",
    "ScryptParams",
    "WalletSecret",
    "WatchOnlyAccount",
    "decode_watch_only",
    "encode_watch_only",
    "read_keystore",
    "read_watch_only",
    "seal",
    "unseal",
    "write_keystore",
    "write_watch_only",
]

FORMAT = "opentrust-wallet-keystore"
FORMAT_VERSION = 1
KDF_NAME, CIPHER_NAME = "scrypt", "aes-256-gcm"
KEY_BYTES = 32  # AES-256
SALT_BYTES = 16  # scrypt salt, random per file
NONCE_BYTES = 12  # 96-bit GCM nonce (NIST SP 800-38D §8.2.2), random per write
TAG_BYTES = 16  # GCM authentication tag appended by AESGCM.encrypt
MAX_KEYSTORE_BYTES = 64 * 1024  # a keystore is < 1 KiB; bounds the read and the JSON parse
MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024  # scrypt needs 128·r·n bytes; refuse more
MAX_SCRYPT_R, MAX_SCRYPT_P = 32, 16  # far above any sane setting; bounds the work
PRIVATE_FILE_MODE = 0o600
GROUP_OTHER_BITS = 0o077  # ssh refuses a private key file with any of these set


class KeystoreKind(enum.Enum):
    ENCRYPTED = "encrypted"
    WATCH_ONLY = "watch-only"


class KeystoreCorrupted(WalletInputError):
    """The file is not a well-formed keystore (truncated, altered structure, bad fields)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"keystore {source} is corrupted: {reason}")
        self.source = source
        self.reason = reason


class KeystorePermissionError(WalletInputError):
    """The keystore file is accessible by group or others."""

    def __init__(self, source: str, mode: int) -> None:
        super().__init__(
            f"permissions {mode:04o} for keystore {source} are too open: it must not be "
            f"accessible by group or others (chmod 600 {source})"
        )
        self.source = source
        self.mode = mode


@dataclass(frozen=True, slots=True)
class ScryptParams:
    """scrypt cost: n (a power of two), r, p; memory 128·r·n bytes (RFC 7914 §2)."""

    n: int
    r: int
    p: int

    def __post_init__(self) -> None:
        for name in ("n", "r", "p"):
            if type(getattr(self, name)) is not int:
                raise WalletMisuse(f"scrypt {name} must be an int")
        if self.n < 2 or self.n & (self.n - 1):
            raise WalletMisuse(f"scrypt n must be a power of two above 1, not {self.n}")
        if not (1 <= self.r <= MAX_SCRYPT_R and 1 <= self.p <= MAX_SCRYPT_P):
            raise WalletMisuse(f"scrypt r={self.r}, p={self.p} out of range")
        if 128 * self.r * self.n > MAX_SCRYPT_MEMORY_BYTES:
            raise WalletMisuse(
                f"scrypt n={self.n}, r={self.r} needs {128 * self.r * self.n} bytes "
                f"(at most {MAX_SCRYPT_MEMORY_BYTES})"
            )

    def derive_key(self, password: str, salt: bytes) -> bytes:
        secret = unicodedata.normalize("NFKD", password).encode("utf-8")
        return Scrypt(salt=salt, length=KEY_BYTES, n=self.n, r=self.r, p=self.p).derive(secret)


DEFAULT_SCRYPT = ScryptParams(n=2**17, r=8, p=1)  # 128 MiB, about a second per unlock


@dataclass(frozen=True, slots=True)
class WalletSecret:
    """A BIP39 mnemonic (canonical form) or a raw BIP32 seed, never both; whether a BIP39
    passphrase is also needed (the passphrase itself is never stored). The repr hides all."""

    mnemonic: str | None
    seed: bytes | None
    has_bip39_passphrase: bool = False

    def __post_init__(self) -> None:
        if (self.mnemonic is None) == (self.seed is None):
            raise WalletMisuse("a wallet secret is a mnemonic or a seed, exactly one")
        if self.mnemonic is not None:
            if self.mnemonic != normalize_mnemonic(self.mnemonic):
                raise WalletMisuse("use WalletSecret.from_mnemonic to normalise the mnemonic")
            mnemonic_to_entropy(self.mnemonic)
        elif not isinstance(self.seed, bytes) or not (
            MIN_SEED_BYTES <= len(self.seed) <= MAX_SEED_BYTES
        ):
            raise WalletMisuse("a seed is 16 to 64 bytes")
        elif self.has_bip39_passphrase:
            raise WalletMisuse("a raw seed has no BIP39 passphrase")
        if not isinstance(self.has_bip39_passphrase, bool):
            raise WalletMisuse("has_bip39_passphrase must be a bool")

    def __repr__(self) -> str:
        if self.mnemonic is not None:
            words = len(self.mnemonic.split(" "))
            what = f"<mnemonic of {words} words>, has_bip39_passphrase={self.has_bip39_passphrase}"
        else:
            what = f"<seed of {len(self.seed or b'')} bytes>"
        return f"WalletSecret({what})"

    @classmethod
    def from_mnemonic(cls, mnemonic: str, has_bip39_passphrase: bool = False) -> WalletSecret:
        return cls(normalize_mnemonic(mnemonic), None, has_bip39_passphrase)

    def to_seed(self, bip39_passphrase: str = "") -> bytes:
        """The BIP32 seed; the BIP39 passphrase must be given iff the wallet has one."""
        if bool(bip39_passphrase) != self.has_bip39_passphrase:
            raise WalletMisuse(
                "this wallet needs its BIP39 passphrase"
                if self.has_bip39_passphrase
                else "this wallet has no BIP39 passphrase"
            )
        if self.mnemonic is not None:
            return mnemonic_to_seed(self.mnemonic, bip39_passphrase)
        assert self.seed is not None  # __post_init__: exactly one of the two
        return self.seed


@dataclass(frozen=True, slots=True)
class WatchOnlyAccount:
    """A watch-only account: the account's public key and its address type."""

    address_type: AddressType
    account_key: ExtendedKey

    def __post_init__(self) -> None:
        if self.account_key.is_private:
            raise WalletMisuse("a watch-only account holds a public key (use neuter())")


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def seal(
    secret: WalletSecret,
    password: str,
    params: ChainParams,
    kdf: ScryptParams,
    salt: bytes,
    nonce: bytes,
) -> bytes:
    """The encrypted keystore file for `secret` (pure: `salt` and `nonce` are inputs)."""
    if not isinstance(password, str) or not password:
        raise WalletInputError("a keystore needs a non-empty password")
    if len(salt) != SALT_BYTES or len(nonce) != NONCE_BYTES:
        raise WalletMisuse(f"salt is {SALT_BYTES} bytes and nonce {NONCE_BYTES}")
    header = _header(KeystoreKind.ENCRYPTED, params)
    header["kdf"] = {"name": KDF_NAME, "n": kdf.n, "r": kdf.r, "p": kdf.p, "salt": salt.hex()}
    header["cipher"] = {"name": CIPHER_NAME, "nonce": nonce.hex()}
    plaintext = _canonical(
        {
            "mnemonic": secret.mnemonic,
            "seed": None if secret.seed is None else secret.seed.hex(),
            "bip39_passphrase": secret.has_bip39_passphrase,
        }
    )
    sealed = AESGCM(kdf.derive_key(password, salt)).encrypt(nonce, plaintext, _canonical(header))
    return _canonical({**header, "ciphertext": sealed.hex()}) + b"\n"


def unseal(data: bytes, password: str, params: ChainParams, source: str) -> WalletSecret:
    """The secret of an encrypted keystore file's bytes (pure); `source` names it in errors."""
    document = _parse(data, source, KeystoreKind.ENCRYPTED, params)
    _expect_keys(document, {*_HEADER_KEYS, "kdf", "cipher", "ciphertext"}, source, "keystore")
    kdf_fields, cipher = document["kdf"], document["cipher"]
    _expect_keys(kdf_fields, {"name", "n", "r", "p", "salt"}, source, "kdf")
    _expect_keys(cipher, {"name", "nonce"}, source, "cipher")
    if kdf_fields["name"] != KDF_NAME or cipher["name"] != CIPHER_NAME:
        raise KeystoreCorrupted(
            source, f"unsupported kdf or cipher (want {KDF_NAME}, {CIPHER_NAME})"
        )
    try:
        kdf = ScryptParams(kdf_fields["n"], kdf_fields["r"], kdf_fields["p"])
    except WalletMisuse as err:
        raise KeystoreCorrupted(source, f"scrypt parameters refused: {err}") from None
    salt = _hex_field(kdf_fields["salt"], SALT_BYTES, source, "salt")
    nonce = _hex_field(cipher["nonce"], NONCE_BYTES, source, "nonce")
    sealed = _hex_field(document["ciphertext"], None, source, "ciphertext")
    if len(sealed) < TAG_BYTES:
        raise KeystoreCorrupted(source, f"ciphertext shorter than the {TAG_BYTES}-byte tag")
    header = {key: value for key, value in document.items() if key != "ciphertext"}
    try:
        plaintext = AESGCM(kdf.derive_key(password, salt)).decrypt(
            nonce, sealed, _canonical(header)
        )
    except InvalidTag:
        raise WrongPassphrase(
            f"wrong password for keystore {source} (or the file was altered)"
        ) from None
    return _secret_from_plaintext(plaintext, source)


def _secret_from_plaintext(plaintext: bytes, source: str) -> WalletSecret:
    fields = _strict_json(plaintext, source)
    _expect_keys(fields, {"mnemonic", "seed", "bip39_passphrase"}, source, "secret")
    try:
        seed = None if fields["seed"] is None else bytes.fromhex(fields["seed"])
        return WalletSecret(fields["mnemonic"], seed, fields["bip39_passphrase"])
    except (WalletError, TypeError, ValueError):  # messages hold no secret; drop them anyway
        raise KeystoreCorrupted(source, "the decrypted secret is not a valid wallet") from None


def encode_watch_only(account: WatchOnlyAccount, params: ChainParams) -> bytes:
    """The watch-only keystore file: the account xpub/tpub and its address type."""
    document = _header(KeystoreKind.WATCH_ONLY, params)
    document["address_type"] = account.address_type.name
    document["account_key"] = account.account_key.to_base58(params)
    return _canonical(document) + b"\n"


def decode_watch_only(data: bytes, params: ChainParams, source: str) -> WatchOnlyAccount:
    document = _parse(data, source, KeystoreKind.WATCH_ONLY, params)
    _expect_keys(document, {*_HEADER_KEYS, "address_type", "account_key"}, source, "keystore")
    try:
        address_type = AddressType[document["address_type"]]
    except (KeyError, TypeError):
        raise KeystoreCorrupted(source, "unknown address type") from None
    if not isinstance(document["account_key"], str):
        raise KeystoreCorrupted(source, "account_key is not a string")
    try:
        key = decode_account_key(document["account_key"], address_type, params)
        return WatchOnlyAccount(address_type, key)
    except WalletError as err:
        raise KeystoreCorrupted(source, f"account key refused: {err}") from None


_HEADER_KEYS = frozenset({"format", "version", "kind", "network"})


def _header(kind: KeystoreKind, params: ChainParams) -> dict[str, Any]:
    return {"format": FORMAT, "version": FORMAT_VERSION, "kind": kind.value, "network": params.name}


def _parse(data: bytes, source: str, kind: KeystoreKind, params: ChainParams) -> dict[str, Any]:
    if len(data) > MAX_KEYSTORE_BYTES:
        raise KeystoreCorrupted(source, f"{len(data)} bytes (at most {MAX_KEYSTORE_BYTES})")
    document = _strict_json(data, source)
    if document.get("format") != FORMAT or document.get("version") != FORMAT_VERSION:
        raise KeystoreCorrupted(source, f"not a {FORMAT} version {FORMAT_VERSION} file")
    if document.get("kind") != kind.value:
        raise WalletInputError(
            f"keystore {source} is {document.get('kind')!r}, expected {kind.value!r}"
        )
    if document.get("network") != params.name:
        raise WalletInputError(
            f"keystore {source} is for {document.get('network')!r}, expected {params.name!r}"
        )
    return document


def _strict_json(data: bytes, source: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError("duplicate key")
        return dict(pairs)

    try:
        document = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError is a ValueError
        raise KeystoreCorrupted(source, "not a complete JSON document") from None
    if not isinstance(document, dict):
        raise KeystoreCorrupted(source, "not a JSON object")
    return document


def _expect_keys(document: Any, keys: set[str] | frozenset[str], source: str, what: str) -> None:
    if not isinstance(document, dict) or set(document) != keys:
        found = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise KeystoreCorrupted(source, f"{what} fields are {found}, expected {sorted(keys)}")


def _hex_field(value: Any, size: int | None, source: str, name: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise KeystoreCorrupted(source, f"{name} is not hex") from None
    if size is not None and len(raw) != size:
        raise KeystoreCorrupted(source, f"{name} is {len(raw)} bytes, expected {size}")
    return raw


def write_keystore(
    path: Path,
    secret: WalletSecret,
    password: str,
    params: ChainParams,
    *,
    kdf: ScryptParams = DEFAULT_SCRYPT,
    overwrite: bool = False,
) -> None:
    """Encrypt `secret` to `path` (fresh salt and nonce), atomically, mode 0600."""
    salt, nonce = secrets.token_bytes(SALT_BYTES), secrets.token_bytes(NONCE_BYTES)
    _write_private(path, seal(secret, password, params, kdf, salt, nonce), overwrite)


def read_keystore(path: Path, password: str, params: ChainParams) -> WalletSecret:
    return unseal(_read_private(path), password, params, str(path))


def write_watch_only(
    path: Path, account: WatchOnlyAccount, params: ChainParams, *, overwrite: bool = False
) -> None:
    _write_private(path, encode_watch_only(account, params), overwrite)


def read_watch_only(path: Path, params: ChainParams) -> WatchOnlyAccount:
    return decode_watch_only(_read_private(path), params, str(path))


def _write_private(path: Path, data: bytes, overwrite: bool) -> None:
    if not overwrite and os.path.lexists(path):
        raise WalletMisuse(f"keystore {path} exists; refusing to replace a wallet")
    try:
        write_file_atomic(Path(path), data)  # creates the file 0600 (before umask)
        if stat.S_IMODE(os.stat(path).st_mode) & GROUP_OTHER_BITS:  # a stale temp's mode
            os.chmod(path, PRIVATE_FILE_MODE)
    except (DataDirError, OSError) as err:
        raise WalletError(f"cannot write keystore {path}: {err}") from err


def _read_private(path: Path) -> bytes:
    """The bytes of a keystore file that only its owner may access (like ssh)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as err:
        raise WalletInputError(f"cannot open keystore {path}: {err.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise WalletInputError(f"keystore {path} is not a regular file")
        if stat.S_IMODE(mode) & GROUP_OTHER_BITS:
            raise KeystorePermissionError(str(path), stat.S_IMODE(mode))
        chunks, size = [], 0
        while size <= MAX_KEYSTORE_BYTES and (chunk := os.read(fd, MAX_KEYSTORE_BYTES + 1)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
