"""The size estimate against real signed transactions of every input type and mixes."""

from __future__ import annotations

import hashlib
import random

import coincurve
import pytest

from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from wallets.builder import Spendable
from wallets.errors import WalletMisuse
from wallets.signer import script_for_key, sign_transaction
from wallets.txsize import (
    MAX_LOW_R_SIGNATURE_BYTES,
    InputType,
    estimate_vsize,
    estimate_weight,
    input_type_for_script,
    input_vsize,
    output_size,
)

P2PKH, SH_WPKH, WPKH = InputType.P2PKH, InputType.P2SH_P2WPKH, InputType.P2WPKH


def _key(n: int) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(hashlib.sha256(b"txsize key %d" % n).digest())


def _coin(n: int, input_type: InputType, value: int = 100_000) -> Spendable:
    pubkey = _key(n).public_key.format(compressed=True)
    txout = TxOut(value, script_for_key(input_type, pubkey))
    outpoint = OutPoint(hashlib.sha256(b"prev %d" % n).digest(), n % 3)
    return Spendable(outpoint, txout, input_type, str(n), 1)


def _signed(types: list[InputType], outputs: list[TxOut], seed: int) -> tuple[Tx, list[bytes]]:
    coins = [_coin(seed * 100 + i, t) for i, t in enumerate(types)]
    unsigned = Tx(2, tuple(TxIn(c.outpoint, b"", 0xFFFFFFFD) for c in coins), tuple(outputs), 0)
    signed = sign_transaction(unsigned, coins, lambda c: _key(int(c.key_path)))
    sigs = [
        txin.witness[0] if txin.witness else txin.script_sig[1 : 1 + txin.script_sig[0]]
        for txin in signed.vin
    ]
    return signed, sigs


def _outputs(rng: random.Random, n: int) -> list[TxOut]:
    scripts = [
        script_for_key(P2PKH, _key(7).public_key.format()),
        script_for_key(WPKH, _key(8).public_key.format()),
        script_for_key(SH_WPKH, _key(9).public_key.format()),
        b"\x00\x20" + bytes(32),  # P2WSH
        b"\x51\x20" + bytes(32),  # P2TR
    ]
    return [TxOut(rng.randrange(1000, 50_000), rng.choice(scripts)) for _ in range(n)]


def test_per_input_vsizes_are_cores_low_r_sizes() -> None:
    assert (input_vsize(P2PKH), input_vsize(SH_WPKH), input_vsize(WPKH)) == (147, 91, 68)
    assert output_size(b"\x00\x14" + bytes(20)) == 31
    wpkh_out = b"\x00\x14" + bytes(20)
    assert estimate_vsize([WPKH], [wpkh_out, wpkh_out]) == 141  # the textbook 1-in 2-out


@pytest.mark.parametrize(
    "types",
    [[P2PKH], [SH_WPKH], [WPKH], [P2PKH, WPKH], [SH_WPKH, P2PKH, WPKH], [P2PKH] * 3, [WPKH] * 5],
    ids=lambda t: "+".join(x.value for x in t),
)
def test_estimate_is_exact_but_for_short_signatures(types: list[InputType]) -> None:
    rng = random.Random(len(types))
    for seed in range(12):
        outputs = _outputs(rng, rng.randrange(1, 4))
        signed, sigs = _signed(types, outputs, seed)
        # Every byte a signature came out shorter weighs 4 (scriptSig) or 1 (witness).
        shortfall = sum(
            (MAX_LOW_R_SIGNATURE_BYTES - len(sig)) * (1 if t.is_segwit else 4)
            for t, sig in zip(types, sigs, strict=True)
        )
        assert estimate_weight(types, outputs) - signed.weight == shortfall
        assert signed.vsize <= estimate_vsize(types, outputs) <= signed.vsize + len(types)


def test_low_r_grinding_keeps_every_signature_at_most_71_bytes() -> None:
    lengths: set[int] = set()
    for seed in range(40):
        _, sigs = _signed([WPKH, P2PKH], [TxOut(5000, b"\x00\x14" + bytes(20))], seed)
        lengths.update(len(s) for s in sigs)
        assert all(s[4] < 0x80 and s[3] <= 32 for s in sigs)  # r has no high bit
    assert max(lengths) == MAX_LOW_R_SIGNATURE_BYTES


def test_input_type_for_script() -> None:
    pubkey = _key(1).public_key.format()
    for t in InputType:
        assert input_type_for_script(script_for_key(t, pubkey)) is t
    with pytest.raises(WalletMisuse, match="not P2PKH"):
        input_type_for_script(b"\x00\x20" + bytes(32))


def test_many_inputs_and_outputs_count_their_compact_sizes() -> None:
    out = b"\x00\x14" + bytes(20)
    small = estimate_weight([WPKH] * 252, [out])
    large = estimate_weight([WPKH] * 253, [out])
    assert large - small == 271 + 2 * 4  # one more input, the count grows to 3 bytes
