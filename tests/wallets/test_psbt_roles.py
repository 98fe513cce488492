"""The BIP174 roles end to end: a wallet's transaction of every input type goes through
creator, updater, two signers on other machines (as base64), combiner, finalizer and
extractor, and a real in-process mempool accepts the result."""

from __future__ import annotations

import random

import pytest

from btcnode.consensus.sighash import SIGHASH_NONE
from btcnode.consensus.tx import TxOut
from btcnode.mempool.feerate import FeeRate
from tests.wallets.test_signer import FundedWallet, funded_wallet
from wallets.builder import build_transaction
from wallets.psbt import InputKey, KeyOrigin, Psbt, PsbtError, PsbtMap, PsbtProblem
from wallets.psbt_roles import (
    PsbtIncomplete,
    PsbtMismatch,
    combine_psbts,
    create_psbt,
    extract_transaction,
    finalize_psbt,
    sign_psbt,
    update_from_coins,
)
from wallets.signer import InputVerificationFailed
from wallets.txsize import InputType


@pytest.fixture
def wallet() -> FundedWallet:
    return funded_wallet()


def _updated(wallet: FundedWallet, types: set[InputType], seed: int) -> tuple[Psbt, list[str]]:
    coins = [c for c in wallet.coins if c.input_type in types]
    built = build_transaction(
        coins,
        [TxOut(900_000, wallet.script("payee"))],
        FeeRate(2000),
        wallet.script("change"),
        random.Random(seed),
    )
    names = [c.key_path for c in built.spent]
    origins = {
        wallet.keys[name].public_key.format(compressed=True): KeyOrigin(
            b"\x01\x02\x03\x04", (84, i)
        )
        for i, name in enumerate(wallet.keys)
    }
    assert wallet.funding is not None
    psbt = update_from_coins(
        create_psbt(built.tx), built.spent, origins, {wallet.funding.txid: wallet.funding}
    )
    return psbt, names


@pytest.mark.parametrize("input_type", list(InputType), ids=lambda t: t.value)
def test_each_input_type_goes_through_every_role(
    wallet: FundedWallet, input_type: InputType
) -> None:
    psbt, names = _updated(wallet, {input_type}, 1)
    for m in psbt.inputs:
        assert m.of_type(InputKey.BIP32_DERIVATION)
        assert (m.get(InputKey.WITNESS_UTXO) is not None) == input_type.is_segwit
        assert (m.get(InputKey.REDEEM_SCRIPT) is not None) == (input_type is InputType.P2SH_P2WPKH)
    text = psbt.to_base64()  # carried to the signing machine
    signed = sign_psbt(Psbt.from_base64(text), [wallet.keys[n] for n in names])
    assert all(len(m.of_type(InputKey.PARTIAL_SIG)) == 1 for m in signed.inputs)
    final = finalize_psbt(Psbt.from_base64(signed.to_base64()))
    for m in final.inputs:
        assert not m.of_type(InputKey.PARTIAL_SIG) and not m.of_type(InputKey.BIP32_DERIVATION)
    tx = extract_transaction(final)
    wallet.submit(tx)


def test_two_signers_combined_with_a_mix_and_unknown_keys_kept(wallet: FundedWallet) -> None:
    psbt, names = _updated(wallet, set(InputType), 2)
    assert len(names) >= 2
    unknown = PsbtMap(((b"\xf0\x01", b"opaque"), *psbt.inputs[0].pairs))
    psbt = Psbt(psbt.global_map, (unknown, *psbt.inputs[1:]), psbt.outputs)
    first = sign_psbt(psbt, [wallet.keys[names[0]]])
    rest = sign_psbt(psbt, [wallet.keys[n] for n in names[1:]])
    with pytest.raises(PsbtIncomplete) as info:
        extract_transaction(finalize_psbt(first))
    assert info.value.inputs == tuple(range(1, len(names)))
    combined = combine_psbts([first, rest])
    assert combine_psbts([rest, first]).serialize() != b""  # order only picks conflicts
    final = finalize_psbt(combined)
    assert final.inputs[0].get(0xF0, b"\x01") == b"opaque"
    wallet.submit(extract_transaction(final))


def test_refusals(wallet: FundedWallet) -> None:
    psbt, names = _updated(wallet, {InputType.P2WPKH}, 3)
    other, _ = _updated(wallet, {InputType.P2PKH}, 4)
    with pytest.raises(PsbtMismatch):
        combine_psbts([psbt, other])
    none = psbt.inputs[0].with_value(InputKey.SIGHASH_TYPE, b"", SIGHASH_NONE.to_bytes(4, "little"))
    with pytest.raises(PsbtError) as info:
        sign_psbt(Psbt(psbt.global_map, (none, *psbt.inputs[1:]), psbt.outputs), [])
    assert info.value.problem is PsbtProblem.UNSUPPORTED_SIGHASH
    # A forged partial signature is caught by the finalizer's check, naming the input.
    signed = sign_psbt(psbt, [wallet.keys[n] for n in names])
    ((pubkey, sig),) = signed.inputs[0].of_type(InputKey.PARTIAL_SIG).items()
    forged = signed.inputs[0].with_value(
        InputKey.PARTIAL_SIG, pubkey, sig[:-5] + bytes(4) + sig[-1:]
    )
    with pytest.raises(InputVerificationFailed) as failed:
        finalize_psbt(Psbt(signed.global_map, (forged, *signed.inputs[1:]), signed.outputs))
    assert failed.value.input_index == 0
    # Keys that pay nothing in the PSBT add nothing.
    assert sign_psbt(psbt, [wallet.keys["miner"]]) == psbt
