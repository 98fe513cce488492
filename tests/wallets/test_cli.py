"""The `wallet` command's parsing, secrets, output and error mapping, without a node."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from btcnode.consensus.params import MAX_MONEY, REGTEST
from btcnode.consensus.tx import OutPoint, Tx, TxIn
from btcnode.rpc.auth import RpcCredentials
from btcnode.rpc.client import RpcTransportError
from btcnode.rpc.errors import RpcError
from common.net import free_tcp_ports
from wallets import _cli_context
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
from wallets.cli import main
from wallets.coinselect import InsufficientFunds
from wallets.errors import WrongPassphrase
from wallets.keystore import ScryptParams
from wallets.psbt import Psbt
from wallets.psbt_roles import create_psbt
from wallets.wallet import Wallet

FAST_KDF = ScryptParams(n=2**4, r=1, p=1)  # the reference wallet's keystore is not under test


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


def wallet(tmp_path: Path, *args: str, stdin: str | None = None) -> Result:
    """`wallet --datadir <tmp>/w ...` in this process; standard input is not a terminal."""
    return CliRunner().invoke(main, ["--datadir", str(tmp_path / "w"), *args], input=stdin)


def test_create_writes_the_mnemonic_once_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "mnemonic.txt"
    done = wallet(
        tmp_path, "create", "--password-file", "-", "--mnemonic-out", str(out), stdin="pw"
    )
    assert done.exit_code == 0, done.output
    words = out.read_text().split()
    assert len(words) == 12 and " ".join(words) not in done.output
    assert out.stat().st_mode & 0o777 == 0o600
    assert "Write these words down" in done.output
    again = wallet(tmp_path, "create", "--password-file", "-", stdin="pw")
    assert again.exit_code == 1
    assert again.output.strip().endswith(
        "already exists and is not empty: refusing to create a wallet over it"
    )
    address = wallet(tmp_path, "address", "--json")
    assert json.loads(address.output) == {
        "address": json.loads(address.output)["address"],
        "path": "m/84'/1'/0'/0/0",
    }
    legacy = json.loads(
        wallet(tmp_path, "--json", "address", "--type", "p2pkh", "--index", "3").output
    )
    assert legacy["path"] == "m/44'/1'/0'/0/3" and legacy["address"][0] in "mn"
    change = json.loads(wallet(tmp_path, "address", "--change", "--json").output)
    assert change["path"] == "m/84'/1'/0'/1/0"


def test_create_without_a_password_source_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "mnemonic.txt"
    done = wallet(tmp_path, "create", "--mnemonic-out", str(out))
    assert done.exit_code == EXIT_USAGE
    assert "give --password-file FILE" in done.output
    assert not (tmp_path / "w").exists() and not out.exists()
    empty = wallet(tmp_path, "create", "--password-file", "-", stdin="\n")
    assert empty.exit_code == EXIT_USAGE and "the wallet password is empty" in empty.output
    assert not (tmp_path / "w").exists()


def test_a_terminal_is_asked_twice_for_a_new_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cli_context, "stdin_is_terminal", lambda: True)
    done = wallet(tmp_path, "create", "--json", stdin="s3cret\ns3cret\n")
    assert done.exit_code == 0, done.output
    assert "s3cret" not in done.output  # hidden input is not echoed
    mnemonic = json.loads(done.output.splitlines()[-1])["mnemonic"]
    assert len(mnemonic.split()) == 12


def test_restore_names_the_bad_word_and_leaves_nothing(tmp_path: Path) -> None:
    typo = "legal winner thank year wave sausage worth useful legal winner thank yellowish"
    done = wallet(tmp_path, "restore", "--mnemonic-file", "-", "--password-file", "x", stdin=typo)
    assert done.exit_code == 1
    assert done.output == "error: word 12 of 12 is not in the BIP39 English wordlist\n"
    assert not (tmp_path / "w").exists()
    both = wallet(tmp_path, "restore", "--mnemonic-file", "-", "--password-file", "-")
    assert both.exit_code == EXIT_USAGE and "can be - (standard input)" in both.output


def test_a_restored_wallet_has_the_same_addresses(tmp_path: Path) -> None:
    mnemonic = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    pw = tmp_path / "pw"
    pw.write_text("pw\n")
    done = wallet(
        tmp_path, "restore", "--mnemonic-file", "-", "--password-file", str(pw), stdin=mnemonic
    )
    assert done.exit_code == 0, done.output
    first = json.loads(wallet(tmp_path, "address", "--json").output)["address"]
    same = Wallet.create(tmp_path / "ref", REGTEST, "pw", mnemonic=mnemonic, kdf=FAST_KDF)[0]
    with same:
        assert first == same.address_at(AddressType.P2WPKH, 0).address


def test_signing_errors_are_one_line(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("right\n")
    assert wallet(tmp_path, "create", "--password-file", str(pw)).exit_code == 0
    bad = tmp_path / "bad"
    bad.write_text("wrong\n")
    psbt = tmp_path / "p.psbt"
    psbt.write_text("not base64 at all!\n")
    done = wallet(tmp_path, "sign-psbt", str(psbt), "--password-file", str(pw))
    assert done.exit_code == 1 and "neither a PSBT nor base64" in done.output
    empty = Psbt.deserialize(create_psbt(Tx(2, (TxIn(OutPoint(b"\x11" * 32, 0)),), ())).serialize())
    psbt.write_text(empty.to_base64())
    done = wallet(tmp_path, "sign-psbt", str(psbt), "--password-file", str(bad))
    assert done.exit_code == 1 and done.output.startswith("error: wrong password for keystore")
    keystore = tmp_path / "w" / "keystore.json"
    keystore.write_text(keystore.read_text()[:-20])
    done = wallet(tmp_path, "--json", "sign-psbt", str(psbt), "--password-file", str(pw))
    assert done.exit_code == 1
    answer = json.loads(done.output)
    assert answer["ok"] is False and "keystore" in answer["error"]


def test_node_down_is_exit_3(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("pw\n")
    assert wallet(tmp_path, "create", "--password-file", str(pw)).exit_code == 0
    (port,) = free_tcp_ports(1)
    done = wallet(tmp_path, "--node", f"http://u:p@127.0.0.1:{port}", "balance")
    assert done.exit_code == EXIT_NODE
    assert done.output.startswith("error: cannot reach the node") and done.output.count("\n") == 1
    no_login = wallet(tmp_path, "--node", f"http://127.0.0.1:{port}", "balance")
    assert no_login.exit_code == EXIT_USAGE and "no RPC login" in no_login.output
