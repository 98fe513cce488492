"""The signing helper reproduces the BIP143 examples' signatures (RFC 6979, low S)."""

from __future__ import annotations

import coincurve
import pytest

from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.signing import (
    p2pkh_script_for,
    p2sh_p2wpkh_script_for,
    p2wpkh_script_for,
    sign_inputs,
    sign_p2pkh_input,
    sign_p2sh_p2wpkh_input,
    sign_p2wpkh_input,
)
from tests.vectors import load_json

EXAMPLES = {e["title"]: e for e in load_json("bitcoin", "bip143_vectors.json")["examples"]}
COIN = 100_000_000


def _key(hex_key: str) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(bytes.fromhex(hex_key))


def test_native_p2wpkh_example_signature() -> None:
    example = EXAMPLES["Native P2WPKH"]
    unsigned = Tx.deserialize(bytes.fromhex(example["unsigned_txs"][0]))
    signed = Tx.deserialize(bytes.fromhex(example["signed_txs"][0]))
    key = _key("619c335025c7f4012e556c2a58b2506e30b8511b53ade95ea316fd8c3286feb9")
    spent = TxOut(6 * COIN, bytes.fromhex("00141d0f172a0ecb48aee1be1f2687d2963ae33f71a1"))
    assert p2wpkh_script_for(key.public_key.format()) == spent.script_pubkey
    result = sign_p2wpkh_input(unsigned, 1, key, spent)
    assert result.vin[1].witness == signed.vin[1].witness
    assert result.vin[1].script_sig == b""
    assert result.vin[0] == unsigned.vin[0]


def test_p2sh_p2wpkh_example_is_reproduced_byte_for_byte() -> None:
    example = EXAMPLES["P2SH-P2WPKH"]
    unsigned = Tx.deserialize(bytes.fromhex(example["unsigned_txs"][0]))
    key = _key("eb696a065ef48a2192da5b28b694f87544b30fae8327c4510137a922f32c6dcf")
    spent = TxOut(10 * COIN, bytes.fromhex("a9144733f37cf4db86fbc2efed2500b4f4e49f31202387"))
    assert p2sh_p2wpkh_script_for(key.public_key.format()) == spent.script_pubkey
    result = sign_p2sh_p2wpkh_input(unsigned, 0, key, spent)
    assert result.serialize().hex() == example["signed_txs"][0]
    assert sign_inputs(unsigned, [(key, spent)]).serialize().hex() == example["signed_txs"][0]


def _unsigned(n_inputs: int) -> Tx:
    vin = tuple(TxIn(OutPoint(bytes([i + 1]) * 32, i)) for i in range(n_inputs))
    return Tx(2, vin, (TxOut(5000, p2wpkh_script_for(b"\x02" + bytes(32))),))


def test_sign_inputs_matches_one_at_a_time() -> None:
    keys = [coincurve.PrivateKey(bytes([7 + i]) * 32) for i in range(3)]
    pubs = [k.public_key.format() for k in keys]
    spent = [
        TxOut(1000, p2pkh_script_for(pubs[0])),
        TxOut(2000, p2wpkh_script_for(pubs[1])),
        TxOut(3000, p2sh_p2wpkh_script_for(pubs[2])),
    ]
    tx = _unsigned(3)
    together = sign_inputs(tx, list(zip(keys, spent, strict=True)))
    one = sign_p2pkh_input(tx, 0, keys[0], spent[0])
    one = sign_p2wpkh_input(one, 1, keys[1], spent[1])
    one = sign_p2sh_p2wpkh_input(one, 2, keys[2], spent[2])
    assert together == one
    assert together.vin[0].witness == () and len(together.vin[1].witness) == 2


def test_wrong_key_is_a_misuse_with_both_scripts() -> None:
    key, other = coincurve.PrivateKey(b"\x01" * 32), coincurve.PrivateKey(b"\x02" * 32)
    spent = TxOut(1000, p2pkh_script_for(other.public_key.format()))
    with pytest.raises(ChainMisuse) as info:
        sign_p2pkh_input(_unsigned(1), 0, key, spent)
    assert spent.script_pubkey.hex() in str(info.value)


def test_unknown_template_and_bad_index_are_misuse() -> None:
    key = coincurve.PrivateKey(b"\x01" * 32)
    with pytest.raises(ChainMisuse, match="cannot sign"):
        sign_inputs(_unsigned(1), [(key, TxOut(1, b"\x51"))])
    with pytest.raises(ChainMisuse, match="out of range"):
        sign_p2wpkh_input(_unsigned(1), 1, key, TxOut(1, p2wpkh_script_for(b"\x02" * 33)))
    with pytest.raises(ChainMisuse, match="2 keys"):
        sign_inputs(_unsigned(1), [(key, TxOut(1, b"")), (key, TxOut(1, b""))])
