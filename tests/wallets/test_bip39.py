"""BIP39 against the python-mnemonic vectors (passphrase "TREZOR") and round trips."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.vectors import load_json, vector_path
from wallets._wordlist_english import ENGLISH_WORDLIST
from wallets.bip39 import (
    MnemonicChecksumError,
    MnemonicLengthError,
    UnknownMnemonicWord,
    entropy_to_mnemonic,
    mnemonic_to_entropy,
    mnemonic_to_seed,
    mnemonic_to_seed_unchecked,
    normalize_mnemonic,
)
from wallets.errors import WalletInputError, WalletMisuse

VECTOR_PASSPHRASE = "TREZOR"  # every row of the python-mnemonic vectors uses it
ABOUT = " ".join(["abandon"] * 11 + ["about"])

_VECTORS: dict[str, list[list[str]]] = load_json("bitcoin", "bip39_vectors.json")
ENGLISH_ROWS = _VECTORS["english"]
OTHER_ROWS = [
    (language, row) for language, rows in _VECTORS.items() if language != "english" for row in rows
]


def _row_id(row: list[str]) -> str:
    return f"{len(row[0]) * 4}bits-{row[0][:8]}"


def test_vectors_hold_every_english_row() -> None:
    assert len(ENGLISH_ROWS) == 24  # the python-mnemonic english set
    assert all(len(row) == 4 for row in ENGLISH_ROWS)


def test_wordlist_equals_published_list() -> None:
    published = vector_path("bitcoin", "bip39_english.txt").read_text().split()
    assert tuple(published) == ENGLISH_WORDLIST


@pytest.mark.parametrize("row", ENGLISH_ROWS, ids=_row_id)
def test_english_vector(row: list[str]) -> None:
    entropy_hex, mnemonic, seed_hex, _root_xprv = row  # the root key: test_bip32
    entropy = bytes.fromhex(entropy_hex)
    assert entropy_to_mnemonic(entropy) == mnemonic
    assert mnemonic_to_entropy(mnemonic) == entropy
    seed = mnemonic_to_seed(mnemonic, VECTOR_PASSPHRASE)
    assert seed.hex() == seed_hex


@pytest.mark.parametrize(
    "language_row", OTHER_ROWS, ids=[f"{lang}-{_row_id(row)}" for lang, row in OTHER_ROWS]
)
def test_other_language_seed_needs_only_nfkd(language_row: tuple[str, list[str]]) -> None:
    """Other wordlists are not carried, but their seeds test the NFKD normalisation
    (Japanese ideographic spaces, Spanish accents written composed or decomposed)."""
    _, (_, mnemonic, seed_hex, _) = language_row
    assert mnemonic_to_seed_unchecked(mnemonic, VECTOR_PASSPHRASE).hex() == seed_hex
    composed = unicodedata.normalize("NFC", mnemonic)
    assert mnemonic_to_seed_unchecked(composed, VECTOR_PASSPHRASE).hex() == seed_hex


def test_other_languages_are_present() -> None:
    assert {lang for lang, _ in OTHER_ROWS} >= {"japanese", "spanish", "french"}


def test_passphrase_is_nfkd_normalised() -> None:
    decomposed = unicodedata.normalize("NFKD", "pässphrase")
    composed = unicodedata.normalize("NFC", "pässphrase")
    assert decomposed != composed
    assert mnemonic_to_seed(ABOUT, composed) == mnemonic_to_seed(ABOUT, decomposed)
    assert mnemonic_to_seed(ABOUT, composed) != mnemonic_to_seed(ABOUT, "passphrase")


def test_checked_seed_uses_canonical_spacing() -> None:
    messy = "  " + ABOUT.replace(" ", " \t ", 3) + "\n"
    assert normalize_mnemonic(messy) == ABOUT
    assert mnemonic_to_seed(messy) == mnemonic_to_seed(ABOUT)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([16, 20, 24, 28, 32]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_round_trip(entropy: bytes) -> None:
    mnemonic = entropy_to_mnemonic(entropy)
    assert len(mnemonic.split(" ")) == len(entropy) * 8 * 33 // 32 // 11
    assert mnemonic_to_entropy(mnemonic) == entropy


@pytest.mark.parametrize("size", [0, 15, 17, 33, 64])
def test_entropy_length_refused(size: int) -> None:
    with pytest.raises(WalletMisuse, match=f"got {size * 8} bits"):
        entropy_to_mnemonic(bytes(size))


@pytest.mark.parametrize("count", [0, 1, 11, 13, 25])
def test_word_count_refused(count: int) -> None:
    with pytest.raises(MnemonicLengthError) as caught:
        mnemonic_to_entropy(" ".join(["abandon"] * count))
    assert caught.value.word_count == count


def test_unknown_word_named_by_position_only() -> None:
    secret_word = "zebrax"
    words = ABOUT.split(" ")
    words[6] = secret_word
    with pytest.raises(UnknownMnemonicWord) as caught:
        mnemonic_to_entropy(" ".join(words))
    assert (caught.value.position, caught.value.word_count) == (7, 12)
    assert "word 7 of 12" in str(caught.value)
    assert secret_word not in str(caught.value)
    assert isinstance(caught.value, WalletInputError)


def test_case_is_not_folded() -> None:
    with pytest.raises(UnknownMnemonicWord) as caught:
        mnemonic_to_entropy(ABOUT.replace("abandon", "Abandon", 1))
    assert caught.value.position == 1


def test_checksum_failure() -> None:
    wrong = " ".join(["abandon"] * 12)  # 'about' carries the checksum; 'abandon' does not
    with pytest.raises(MnemonicChecksumError) as caught:
        mnemonic_to_entropy(wrong)
    assert caught.value.word_count == 12
    assert "abandon" not in str(caught.value)
    with pytest.raises(MnemonicChecksumError):
        mnemonic_to_seed(wrong)


def test_every_single_word_change_is_caught_or_valid() -> None:
    """Changing the last word alone: exactly 2**7 / 2**4 = 1 in 16 of them pass for 12 words."""
    stem = ABOUT.split(" ")[:-1]
    valid = []
    for word in ENGLISH_WORDLIST:
        try:
            mnemonic_to_entropy(" ".join([*stem, word]))
        except MnemonicChecksumError:
            continue
        valid.append(word)
    assert len(valid) == 2048 // 16
    assert "about" in valid


def _non_str() -> Any:
    return b"abandon"


def test_non_str_is_misuse() -> None:
    with pytest.raises(WalletMisuse):
        mnemonic_to_entropy(_non_str())
