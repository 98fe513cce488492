"""`ctlog witness keygen|serve` and `ctlog verify-checkpoint`: output and exit codes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctlog.checkpoint import Checkpoint, sign_checkpoint
from ctlog.cli import main
from ctlog.keys import LogSigningKey
from ctlog.note import Ed25519NoteSigner, Note
from ctlog.witness import CosignatureSigner, CosignatureVerifier
from tests.ctlog.fakelog import FakeLog, dev_pki, serving_in_thread
from tests.ctlog.witness.helpers import LOG_KEY, LOG_SIGNER, NOW_MS, ORIGIN, SignedTree, make_leaves

TREE = SignedTree(make_leaves(10))
W1, W2, W3 = (CosignatureSigner.from_seed(f"w{i}.example", bytes([i]) * 32) for i in (1, 2, 3))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A log key, and the size-10 checkpoint cosigned by w1 and w2."""
    (tmp_path / "log.pem").write_bytes(LOG_KEY.public.to_pem())
    note = Note.parse(TREE.note(10))
    cosigned = note.with_signatures(W1.cosign(note.text, 100), W2.cosign(note.text, 101))
    (tmp_path / "checkpoint").write_bytes(cosigned.format())
    return tmp_path


def verify(files: Path, *extra: str) -> tuple[int, str, str]:
    base = ["verify-checkpoint", "--log-key", str(files / "log.pem"), "--origin", ORIGIN]
    return run(*base, *extra, str(files / "checkpoint"))


def test_valid_checkpoint_with_enough_witnesses_exits_0(files: Path) -> None:
    witnesses = ["--witness", W1.vkey, "--witness", W2.vkey, "--witness", W3.vkey]
    code, out, _ = verify(files, *witnesses, "--min-witnesses", "2", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["valid"] is True and payload["tree_size"] == 10
    assert payload["timestamp"] == NOW_MS
    assert payload["cosigned"] == [
        {"witness": "w1.example", "timestamp": 100},
        {"witness": "w2.example", "timestamp": 101},
    ]
    assert payload["missing"] == ["w3.example"]
    code, out, _ = verify(files, *witnesses, "--min-witnesses", "2")
    assert code == 0 and out.startswith(f"valid: {ORIGIN} size 10 ")


def test_too_few_witnesses_exits_1_with_a_one_line_reason(files: Path) -> None:
    code, out, err = verify(files, "--witness", W1.vkey, "--witness", W3.vkey)  # default: all
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "1 valid witness cosignatures, 2 required" in err and "missing: w3.example" in err
    code, out, _ = verify(files, "--witness", W3.vkey, "--json")
    assert code == 1
    payload = json.loads(out)
    assert payload["valid"] is False and payload["evidence"]["missing"] == ["w3.example"]


def test_no_witnesses_checks_the_log_signature_only(files: Path) -> None:
    assert verify(files)[0] == 0


def test_tampered_checkpoint_exits_1(files: Path) -> None:
    raw = (files / "checkpoint").read_bytes()
    (files / "checkpoint").write_bytes(raw.replace(b"\n10\n", b"\n11\n", 1))
    code, _, err = verify(files)
    assert code == 1 and "does not verify" in err


def test_malformed_checkpoint_exits_1(files: Path) -> None:
    (files / "checkpoint").write_bytes(b"\xff\xfe not a note")
    code, _, err = verify(files)
    assert code == 1 and err.startswith("error: note is not valid UTF-8")


def test_wrong_origin_exits_1(files: Path) -> None:
    code, _, err = run(
        "verify-checkpoint", "--log-key", str(files / "log.pem"), "--origin", "other.example",
        str(files / "checkpoint"),
    )  # fmt: skip
    assert code == 1 and "not signed by any known key" in err


def test_origin_defaults_to_the_checkpoints_own(files: Path) -> None:
    """Without --origin the checkpoint's origin line names the key; the log key decides."""
    code, out, _ = run("verify-checkpoint", "--log-key", str(files / "log.pem"),
                       str(files / "checkpoint"))  # fmt: skip
    assert code == 0 and out.startswith(f"valid: {ORIGIN} ")
    other = LogSigningKey.generate().public.to_pem()
    (files / "other.pem").write_bytes(other)
    code, _, err = run("verify-checkpoint", "--log-key", str(files / "other.pem"),
                       str(files / "checkpoint"))  # fmt: skip
    assert code == 1 and "not signed by any known key" in err


@pytest.mark.parametrize(
    "args",
    [
        ["verify-checkpoint", "--origin", ORIGIN, "CHECKPOINT"],  # no log key
        ["verify-checkpoint", "--log-key", "LOGPEM", "--origin", ORIGIN],  # no checkpoint
        ["verify-checkpoint", "--log-key", "missing.pem", "--origin", ORIGIN, "CHECKPOINT"],
        ["verify-checkpoint", "--log-key", "LOGPEM", "--origin", ORIGIN, "missing"],
        ["verify-checkpoint", "--log-key", "CHECKPOINT", "--origin", ORIGIN, "CHECKPOINT"],
        ["verify-checkpoint", "--log-key", "LOGPEM", "--origin", ORIGIN, "--witness", "junk",
         "CHECKPOINT"],
        ["verify-checkpoint", "--log-key", "LOGPEM", "--origin", ORIGIN, "--min-witnesses", "1",
         "CHECKPOINT"],
        ["verify-checkpoint", "--log-key", "LOGPEM", "--origin", ORIGIN, "--min-witnesses", "-1",
         "CHECKPOINT"],
    ],
    ids=["no-key", "no-file", "missing-key", "missing-file", "not-a-key",
         "bad-witness", "k-above-n", "negative-k"],
)  # fmt: skip
def test_usage_errors_exit_2(files: Path, args: list[str]) -> None:
    paths = {"LOGPEM": str(files / "log.pem"), "CHECKPOINT": str(files / "checkpoint")}
    code, out, _ = run(*(paths.get(a, a) for a in args))
    assert code == 2 and out == ""


def test_ed25519_log_vkey(tmp_path: Path) -> None:
    signer = Ed25519NoteSigner.from_seed("example.com/tlog", b"\x09" * 32)
    raw = sign_checkpoint(
        Checkpoint("example.com/tlog", 4, TREE.checkpoint(4).root_hash), signer, 0
    )
    (tmp_path / "cp").write_bytes(raw)
    code, out, _ = run("verify-checkpoint", "--log-vkey", signer.vkey, str(tmp_path / "cp"))
    assert code == 0 and "size 4" in out


def test_fetches_the_checkpoint_from_a_log(tmp_path: Path) -> None:
    log = FakeLog(dev_pki())
    (tmp_path / "log.pem").write_bytes(log.key.public.to_pem())
    with serving_in_thread(log) as url:
        code, out, err = run(
            "verify-checkpoint", "--log", url, "--log-key", str(tmp_path / "log.pem"),
            "--origin", log.origin, "--json",
        )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["origin"] == log.origin


def test_unreachable_log_exits_3(files: Path) -> None:
    code, _, err = run(
        "verify-checkpoint", "--log", "http://127.0.0.1:1", "--log-key", str(files / "log.pem"),
    )  # fmt: skip
    assert code == 3 and err.startswith("error: ")


def test_keygen_writes_a_private_key_and_prints_the_vkey(tmp_path: Path) -> None:
    code, out, _ = run("witness", "keygen", "--out", str(tmp_path / "keys"), "--name", "w.example")
    assert code == 0
    key_file = tmp_path / "keys" / "witness.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    signer = CosignatureSigner.from_skey(key_file.read_text().strip())
    assert out.strip() == signer.vkey
    assert CosignatureVerifier.from_vkey(out.strip()) == signer.verifier()
    code, _, err = run("witness", "keygen", "--out", str(tmp_path / "keys"), "--name", "w.example")
    assert code == 2 and "not overwriting" in err
    assert CosignatureSigner.from_skey(key_file.read_text().strip()) == signer


def test_keygen_refuses_a_bad_name(tmp_path: Path) -> None:
    code, out, _ = run("witness", "keygen", "--out", str(tmp_path), "--name", "a b", "--json")
    assert code == 2 and json.loads(out)["ok"] is False


def test_serve_with_a_bad_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "witness.toml").write_text(
        'key_file = "nope.key"\n[[logs]]\norigin = "o"\nvkey = "x"\n'
    )
    code, _, err = run("witness", "serve", "--config", str(tmp_path / "witness.toml"))
    assert code == 2 and "nope.key" in err


def test_serve_config_loads_keys_and_logs(tmp_path: Path) -> None:
    from ctlog.witness.config import load_witness_config

    (tmp_path / "witness.key").write_text(W1.to_skey() + "\n")
    (tmp_path / "log.pem").write_bytes(LOG_KEY.public.to_pem())
    ed_log = Ed25519NoteSigner.from_seed("example.com/tlog", b"\x09" * 32)
    (tmp_path / "witness.toml").write_text(
        'key_file = "witness.key"\nport = 0\n'
        f'[[logs]]\norigin = "{ORIGIN}"\npublic_key_file = "log.pem"\n'
        f'[[logs]]\norigin = "example.com/tlog"\nvkey = "{ed_log.vkey}"\n'
    )
    config = load_witness_config(tmp_path / "witness.toml")
    assert config.signer.vkey == W1.vkey and config.data_dir == tmp_path / "data"
    assert config.logs == {
        ORIGIN: (LOG_SIGNER.verifier(),),
        "example.com/tlog": (ed_log.verifier(),),
    }
