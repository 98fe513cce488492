"""The `wallet` command's parsing, secrets, output and error mapping, without a node."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from btcnode.consensus.params import MAX_MONEY
from btcnode.rpc.auth import RpcCredentials
from btcnode.rpc.client import RpcTransportError
from btcnode.rpc.errors import RpcError
from wallets._cli_common import (
    EXIT_FAILURE,
    EXIT_NODE,
    EXIT_USAGE,
    btc,
    error_text,
    one_line,
)
from wallets._cli_input import (
    MAX_SECRET_BYTES,
    CliInputError,
    check_one_stdin,
    node_credentials,
    parse_address_type,
    parse_btc_amount,
    parse_fee_rate,
    parse_node_url,
    parse_txid,
    read_secret_file,
    secret_from_text,
)
from wallets._node import NodeUnavailable, WrongChain
from wallets.accounts import AddressType
from wallets.bip39 import UnknownMnemonicWord
from wallets.coinselect import InsufficientFunds
from wallets.errors import WrongPassphrase


@pytest.mark.parametrize(
    ("text", "sats"),
    [
        ("1", 100_000_000),
        ("1.5", 150_000_000),
        ("0.00000001", 1),
        ("0.1", 10_000_000),  # 0.1 is not exact in binary: no float anywhere
        ("20999999.9769", 2_099_999_997_690_000),
        ("21000000", MAX_MONEY),
        ("007.25000000", 725_000_000),
    ],
)
def test_amounts_are_exact_decimal_btc(text: str, sats: int) -> None:
    assert parse_btc_amount(text) == sats


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "more than 0"),
        ("0.000000000", "more than 8 decimals"),
        ("0.000000001", "more than 8 decimals"),
        ("-1", "not a decimal number"),
        ("1e3", "not a decimal number"),
        ("1,5", "not a decimal number"),
        (".5", "not a decimal number"),
        ("NaN", "not a decimal number"),
        ("21000000.00000001", "21,000,000 BTC"),
        ("1" * 40, "too long"),
    ],
)
def test_bad_amounts_say_why(text: str, reason: str) -> None:
    with pytest.raises(CliInputError) as caught:
        parse_btc_amount(text)
    assert reason in str(caught.value)


def test_fee_rates_are_sat_per_vb_with_three_decimals() -> None:
    assert parse_fee_rate("1").sat_per_kvb == 1000
    assert parse_fee_rate("2.5").sat_per_kvb == 2500
    assert parse_fee_rate("0.001").sat_per_kvb == 1
    assert parse_fee_rate("10000").sat_per_kvb == 10_000_000
    for bad, reason in (
        ("0", "more than 0"),
        ("0.0001", "more than 3 decimals"),
        ("10000.001", "above 10000"),
        ("fast", "not a decimal"),
    ):
        with pytest.raises(CliInputError) as caught:
            parse_fee_rate(bad)
        assert reason in str(caught.value)


def test_address_types_and_txids() -> None:
    assert parse_address_type("p2wpkh") is AddressType.P2WPKH
    assert parse_address_type("P2SH-P2WPKH") is AddressType.P2SH_P2WPKH
    assert parse_address_type("p2pkh") is AddressType.P2PKH
    with pytest.raises(CliInputError, match="'p2tr' is not one of p2wpkh"):
        parse_address_type("p2tr")
    shown = "00" * 31 + "ff"
    assert parse_txid(shown) == b"\xff" + b"\x00" * 31
    with pytest.raises(CliInputError, match="64 hexadecimal"):
        parse_txid("ab" * 31)


def test_node_url_login_comes_out_of_the_url() -> None:
    target = parse_node_url("http://alice:s%40cret@127.0.0.1:7511")
    assert target.url == "http://127.0.0.1:7511/"
    assert target.url_credentials == RpcCredentials("alice", "s@cret")
    assert "s@cret" not in repr(target)
    plain = parse_node_url("http://localhost:18443/")
    assert (plain.url, plain.url_credentials) == ("http://localhost:18443/", None)
    for bad in ("127.0.0.1:7511", "ftp://h:1", "http://h:99999"):
        with pytest.raises(CliInputError, match="--node"):
            parse_node_url(bad)


def test_credentials_prefer_flags_then_cookie_then_url(tmp_path: Path) -> None:
    cookie = tmp_path / ".cookie"
    cookie.write_text("__cookie__:abc123\n")
    with_url = parse_node_url("http://u:p@127.0.0.1:1")
    assert node_credentials(with_url, str(cookie), "x", "y") == RpcCredentials("x", "y")
    assert node_credentials(with_url, str(cookie), None, None) == RpcCredentials(
        "__cookie__", "abc123"
    )
    assert node_credentials(with_url, None, None, None) == RpcCredentials("u", "p")
    bare = parse_node_url("http://127.0.0.1:1")
    with pytest.raises(CliInputError, match="no RPC login"):
        node_credentials(bare, None, None, None)
    with pytest.raises(CliInputError, match="no such file"):
        node_credentials(bare, str(tmp_path / "missing"), None, None)
    with pytest.raises(CliInputError, match="--rpcuser needs --rpcpassword"):
        node_credentials(bare, None, "x", None)


def test_secrets_are_the_first_line_only(tmp_path: Path) -> None:
    assert secret_from_text("hunter2\n", "--password-file") == "hunter2"
    assert secret_from_text("pass with spaces \r\n\n", "--password-file") == "pass with spaces "
    assert secret_from_text("", "--password-file") == ""
    with pytest.raises(CliInputError, match="first line only") as caught:
        secret_from_text("one\ntwo\n", "--password-file")
    assert "one" not in str(caught.value) and "two" not in str(caught.value)
    with pytest.raises(CliInputError, match="not a secret file"):
        secret_from_text("x" * (MAX_SECRET_BYTES + 1), "--password-file")
    path = tmp_path / "pw"
    path.write_bytes(b"s3cret\n")
    assert read_secret_file(str(path), "--password-file", io.StringIO()) == "s3cret"
    assert read_secret_file("-", "--password-file", io.StringIO("from stdin\n")) == "from stdin"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(CliInputError, match="not UTF-8"):
        read_secret_file(str(path), "--password-file", io.StringIO())
    with pytest.raises(CliInputError, match="No such file"):
        read_secret_file(str(tmp_path / "nope"), "--password-file", io.StringIO())


def test_only_one_secret_reads_stdin() -> None:
    check_one_stdin({"--password-file": "-", "--mnemonic-file": "m.txt"})
    with pytest.raises(CliInputError, match="--password-file, --mnemonic-file can be -"):
        check_one_stdin({"--password-file": "-", "--mnemonic-file": "-"})


def test_errors_map_to_one_line_and_an_exit_code() -> None:
    text, code = error_text(InsufficientFunds(needed=150_000_141, available=100_000_000))
    assert code == EXIT_FAILURE
    assert text == (
        "insufficient funds: 1.50000141 BTC needed for the payments and fees, "
        "1.00000000 BTC available to spend"
    )
    assert error_text(UnknownMnemonicWord(3, 12)) == (
        "word 3 of 12 is not in the BIP39 English wordlist",
        EXIT_FAILURE,
    )
    assert error_text(WrongPassphrase("wrong password for keystore k")) == (
        "wrong password for keystore k",
        EXIT_FAILURE,
    )
    assert error_text(CliInputError("--type bad"))[1] == EXIT_USAGE
    assert error_text(NodeUnavailable("cannot reach the node"))[1] == EXIT_NODE
    wrong = WrongChain("regtest", b"\x01" * 32, b"\x02" * 32)
    assert error_text(wrong) == (
        f"the node is not on regtest: its genesis block is {'02' * 32}, expected {'01' * 32}",
        EXIT_NODE,
    )
    assert error_text(RpcTransportError("refused"))[1] == EXIT_NODE
    assert error_text(RpcError(-26, "min relay fee not met")) == (
        "the node refused: min relay fee not met (code -26)",
        EXIT_FAILURE,
    )
    with pytest.raises(KeyError):
        error_text(KeyError("a bug keeps its traceback"))


def test_output_helpers() -> None:
    assert btc(150_000_000) == "1.50000000"
    assert btc(1) == "0.00000001"
    assert one_line("a\n  b\tc") == "a b c"
    assert len(one_line("x " * 1000)) == 400
