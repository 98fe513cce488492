"""BIP39 mnemonic sentences: entropy ↔ words with a checksum, and the seed they stand for.

Pure: no I/O, no randomness (the caller passes entropy from `secrets.token_bytes`). The
mnemonic and passphrase are NFKD-normalised (BIP39 "From mnemonic to seed"); a checked
mnemonic is also reduced to its canonical form (words separated by one ASCII space), so
"restored elsewhere" gives the same seed. Errors name a word by its position only: the word
itself is part of the secret and never appears in a message.
"""

from __future__ import annotations

import hashlib
import unicodedata

from wallets._wordlist_english import ENGLISH_WORDLIST
from wallets.errors import WalletInputError, WalletMisuse

__all__ = [
    "ENTROPY_BITS",
    "PBKDF2_ROUNDS",
    "SEED_BYTES",
    "WORD_COUNTS",
    "MnemonicChecksumError",
    "MnemonicError",
    "MnemonicLengthError",
    "UnknownMnemonicWord",
    "entropy_to_mnemonic",
    "mnemonic_to_entropy",
    "mnemonic_to_seed",
    "mnemonic_to_seed_unchecked",
    "normalize_mnemonic",
]

ENTROPY_BITS = (128, 160, 192, 224, 256)  # BIP39: ENT is 128-256 bits, a multiple of 32
WORD_COUNTS = (12, 15, 18, 21, 24)  # BIP39: MS = (ENT + ENT/32) / 11
BITS_PER_WORD = 11  # BIP39: 2048 = 2**11 words
PBKDF2_ROUNDS = 2048  # BIP39 "From mnemonic to seed"
SEED_BYTES = 64  # 512 bits, the length of HMAC-SHA512's output
SALT_PREFIX = "mnemonic"  # BIP39: salt = "mnemonic" + passphrase

if len(ENGLISH_WORDLIST) != 2**BITS_PER_WORD:  # a damaged package must not derive seeds
    raise ImportError(f"BIP39 English wordlist has {len(ENGLISH_WORDLIST)} words, not 2048")

_WORD_INDEX = {word: index for index, word in enumerate(ENGLISH_WORDLIST)}


class MnemonicError(WalletInputError):
    """A mnemonic sentence is not a valid BIP39 English mnemonic."""


class MnemonicLengthError(MnemonicError):
    """The mnemonic has a word count BIP39 does not allow."""

    def __init__(self, word_count: int) -> None:
        allowed = ", ".join(str(count) for count in WORD_COUNTS)
        super().__init__(f"a mnemonic has {allowed} words, this one has {word_count}")
        self.word_count = word_count


class UnknownMnemonicWord(MnemonicError):
    """A word (named by its 1-based position) is not in the BIP39 English wordlist."""

    def __init__(self, position: int, word_count: int) -> None:
        super().__init__(f"word {position} of {word_count} is not in the BIP39 English wordlist")
        self.position = position
        self.word_count = word_count


class MnemonicChecksumError(MnemonicError):
    """Every word is known but the checksum bits do not match the entropy."""

    def __init__(self, word_count: int) -> None:
        super().__init__(
            f"the checksum of this {word_count}-word mnemonic does not match: "
            "a word is wrong or two words are swapped"
        )
        self.word_count = word_count


def _checksum_bits(entropy: bytes) -> int:
    """BIP39: the first ENT/32 bits of SHA256(entropy), as an integer."""
    length = len(entropy) * 8 // 32
    return hashlib.sha256(entropy).digest()[0] >> (8 - length)


def entropy_to_mnemonic(entropy: bytes) -> str:
    """The English mnemonic of `entropy` (16, 20, 24, 28 or 32 bytes), words joined by ' '."""
    if not isinstance(entropy, bytes):
        raise WalletMisuse(f"entropy must be bytes, found {type(entropy).__name__}")
    if len(entropy) * 8 not in ENTROPY_BITS:
        raise WalletMisuse(
            f"BIP39 entropy is 128-256 bits in steps of 32, got {len(entropy) * 8} bits"
        )
    checksum_length = len(entropy) * 8 // 32
    bits = (int.from_bytes(entropy, "big") << checksum_length) | _checksum_bits(entropy)
    word_count = (len(entropy) * 8 + checksum_length) // BITS_PER_WORD
    indices = [(bits >> (BITS_PER_WORD * (word_count - 1 - n))) & 0x7FF for n in range(word_count)]
    return " ".join(ENGLISH_WORDLIST[index] for index in indices)


def normalize_mnemonic(mnemonic: str) -> str:
    """NFKD form, with any run of whitespace (an ideographic space too) as one ' '."""
    if not isinstance(mnemonic, str):
        raise WalletMisuse(f"a mnemonic must be a str, found {type(mnemonic).__name__}")
    return " ".join(unicodedata.normalize("NFKD", mnemonic).split())


def mnemonic_to_entropy(mnemonic: str) -> bytes:
    """The entropy of an English mnemonic, after checking its length, words and checksum."""
    normalized = normalize_mnemonic(mnemonic)
    words = normalized.split(" ") if normalized else []
    if len(words) not in WORD_COUNTS:
        raise MnemonicLengthError(len(words))
    bits = 0
    for position, word in enumerate(words, start=1):
        index = _WORD_INDEX.get(word)
        if index is None:
            raise UnknownMnemonicWord(position, len(words))
        bits = (bits << BITS_PER_WORD) | index
    checksum_length = len(words) * BITS_PER_WORD // 33  # BIP39: CS = ENT / 32
    entropy_length = checksum_length * 32 // 8
    entropy = (bits >> checksum_length).to_bytes(entropy_length, "big")
    if bits & ((1 << checksum_length) - 1) != _checksum_bits(entropy):
        raise MnemonicChecksumError(len(words))
    return entropy


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP39 seed of a checked English mnemonic (in canonical form)."""
    mnemonic_to_entropy(mnemonic)
    return mnemonic_to_seed_unchecked(normalize_mnemonic(mnemonic), passphrase)


def mnemonic_to_seed_unchecked(mnemonic: str, passphrase: str = "") -> bytes:
    """BIP39's seed function as written: PBKDF2-HMAC-SHA512 over the NFKD forms, with no
    wordlist or checksum check (for mnemonics of other languages' wordlists)."""
    if not isinstance(mnemonic, str) or not isinstance(passphrase, str):
        raise WalletMisuse("the mnemonic and the passphrase must both be str")
    password = unicodedata.normalize("NFKD", mnemonic).encode("utf-8")
    salt = unicodedata.normalize("NFKD", SALT_PREFIX + passphrase).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha512", password, salt, PBKDF2_ROUNDS, SEED_BYTES)
