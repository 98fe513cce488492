"""IsStandardTx, the solver and the dust threshold, each reason provoked through accept."""

from __future__ import annotations

import pytest

from btcnode.consensus.errors import TxResult
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.mempool import (
    FeeRate,
    Mempool,
    MempoolPolicy,
    TxoutType,
    dust_threshold,
    solve,
    virtual_size,
)
from btcnode.mempool.policy import MAX_STANDARD_SCRIPTSIG_SIZE
from btcnode.mempool.standard import are_inputs_standard, push_only_stack
from tests.btcnode.mempool.helpers import BASE_TIME, COIN, FakeChain, Wallet

NOW = BASE_TIME
KEY33 = b"\x02" + b"\x11" * 32
KEY65 = b"\x04" + b"\x22" * 64
MULTISIG_1_OF_2 = b"\x51\x21" + KEY33 + b"\x21" + KEY33 + b"\x52\xae"


@pytest.mark.parametrize(
    ("script", "kind"),
    [
        (b"\xa9\x14" + b"\x01" * 20 + b"\x87", TxoutType.SCRIPTHASH),
        (b"\x00\x14" + b"\x01" * 20, TxoutType.WITNESS_V0_KEYHASH),
        (b"\x00\x20" + b"\x01" * 32, TxoutType.WITNESS_V0_SCRIPTHASH),
        (b"\x51\x20" + b"\x01" * 32, TxoutType.WITNESS_V1_TAPROOT),
        (b"\x51\x02\x4e\x73", TxoutType.ANCHOR),
        (b"\x52\x02\x01\x02", TxoutType.WITNESS_UNKNOWN),
        (b"\x00\x10" + b"\x01" * 16, TxoutType.NONSTANDARD),  # v0 of a bad length
        (b"\x6a\x04abcd", TxoutType.NULL_DATA),
        (b"\x6a", TxoutType.NULL_DATA),
        (b"\x6a\x76", TxoutType.NONSTANDARD),  # OP_RETURN then a non-push
        (b"\x21" + KEY33 + b"\xac", TxoutType.PUBKEY),
        (b"\x41" + KEY65 + b"\xac", TxoutType.PUBKEY),
        (b"\x21\x05" + b"\x11" * 32 + b"\xac", TxoutType.NONSTANDARD),  # bad key header
        (b"\x76\xa9\x14" + b"\x01" * 20 + b"\x88\xac", TxoutType.PUBKEYHASH),
        (MULTISIG_1_OF_2, TxoutType.MULTISIG),
        (b"\x01\x01\x21" + KEY33 + b"\x51\xae", TxoutType.NONSTANDARD),  # m not minimal
        (b"\x52\x21" + KEY33 + b"\x51\xae", TxoutType.NONSTANDARD),  # m > n
        (MULTISIG_1_OF_2[:-1] + b"\x00\xae", TxoutType.NONSTANDARD),  # junk before the op
        (b"\x51", TxoutType.NONSTANDARD),
    ],
)
def test_solver_templates(script: bytes, kind: TxoutType) -> None:
    assert solve(script)[0] is kind


def test_solver_solutions() -> None:
    assert solve(MULTISIG_1_OF_2)[1] == (b"\x01", KEY33, KEY33, b"\x02")
    assert solve(b"\x52\x02\x01\x02")[1] == (b"\x02", b"\x01\x02")


def test_dust_thresholds_match_core() -> None:
    rate = FeeRate(3000)
    p2pkh = b"\x76\xa9\x14" + b"\x01" * 20 + b"\x88\xac"
    assert dust_threshold(TxOut(0, p2pkh), rate) == 546
    assert dust_threshold(TxOut(0, b"\x00\x14" + b"\x01" * 20), rate) == 294
    assert dust_threshold(TxOut(0, b"\x00\x20" + b"\x01" * 32), rate) == 330
    assert dust_threshold(TxOut(0, b"\x6a\x01\x01"), rate) == 0  # unspendable


def test_virtual_size_prices_sigops() -> None:
    assert virtual_size(437, 1, 20) == 110
    assert virtual_size(400, 80, 20) == 400  # 80 sigops * 20 vbytes each = 1600 weight units


def test_push_only_stack() -> None:
    assert push_only_stack(b"\x00\x4f\x51\x60\x02ab") == [b"", b"\x81", b"\x01", b"\x10", b"ab"]
    assert push_only_stack(b"\x50") is None  # OP_RESERVED fails when executed
    assert push_only_stack(b"\x4d\x09\x02" + b"\x00" * 521) is None  # push over 520 bytes
    assert push_only_stack(b"\x51" * 1001) is None  # stack over 1000 items


def test_p2sh_redeem_script_sigop_limit() -> None:
    redeem = b"\xac" * 16  # sixteen CHECKSIGs > MAX_P2SH_SIGOPS
    spent = TxOut(1, b"\xa9\x14" + b"\x00" * 20 + b"\x87")
    tx = Tx(2, (TxIn(_outpoint(), b"\x10" + redeem),), (TxOut(1, b"\x51"),))
    assert not are_inputs_standard(tx, [spent])
    tx = Tx(2, (TxIn(_outpoint(), b"\x0f" + redeem[:15]),), (TxOut(1, b"\x51"),))
    assert are_inputs_standard(tx, [spent])
    empty = Tx(2, (TxIn(_outpoint(), b""),), (TxOut(1, b"\x51"),))
    assert not are_inputs_standard(empty, [spent])


def _outpoint() -> OutPoint:
    return OutPoint(b"\x01" * 32, 0)


def _reason(pool: Mempool, chain: FakeChain, tx: Tx) -> str | None:
    result = pool.accept(tx, chain, NOW)
    if result.error is not None:
        assert result.error.result is TxResult.NOT_STANDARD
    return result.reject_reason


def test_version(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    for version in (0, 3, -1):
        assert _reason(pool, chain, wallet.spend([coin], [COIN - 1000], version=version)) == (
            "version"
        )
    assert _reason(pool, chain, wallet.spend([coin], [COIN - 1000], version=1)) is None


def test_tx_size(chain: FakeChain, wallet: Wallet) -> None:
    big = wallet.spend([wallet.fund(chain)], [COIN - 10_000], extra_outputs=[_op_return(70)])
    pool = Mempool(MempoolPolicy(max_standard_tx_weight=big.weight - 1))
    assert _reason(pool, chain, big) == "tx-size"


def _op_return(data_bytes: int) -> TxOut:
    return TxOut(0, b"\x6a\x4c" + bytes([data_bytes]) + b"\x00" * data_bytes)


def test_scriptsig_size_and_push_only(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    tx = wallet.spend([wallet.fund(chain, script=wallet.p2pkh)], [COIN - 1000])
    padded = b"\x4d" + (1648).to_bytes(2, "little") + b"\x00" * 1648  # 1651 bytes
    assert len(padded) == MAX_STANDARD_SCRIPTSIG_SIZE + 1
    big = Tx(2, (TxIn(tx.vin[0].prevout, padded, tx.vin[0].sequence),), tx.vout)
    assert _reason(pool, chain, big) == "scriptsig-size"
    op = Tx(2, (TxIn(tx.vin[0].prevout, tx.vin[0].script_sig + b"\x75"),), tx.vout)
    assert _reason(pool, chain, op) == "scriptsig-not-pushonly"


def test_scriptpubkey(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    odd = wallet.spend([coin], [COIN - 1000], scripts=[b"\x51\x51\x93"])
    assert _reason(pool, chain, odd) == "scriptpubkey"
    big_data = wallet.spend([coin], [COIN - 1000], extra_outputs=[_op_return(81)])  # 84 bytes
    assert _reason(pool, chain, big_data) == "scriptpubkey"
    keys4 = b"\x51" + (b"\x21" + KEY33) * 4 + b"\x54\xae"  # 1-of-4: over x-of-3
    assert _reason(pool, chain, wallet.spend([coin], [COIN - 1000], scripts=[keys4])) == (
        "scriptpubkey"
    )
    no_data = Mempool(MempoolPolicy(max_datacarrier_bytes=None))
    small_data = wallet.spend([coin], [COIN - 1000], extra_outputs=[_op_return(1)])
    assert _reason(no_data, chain, small_data) == "scriptpubkey"
    assert _reason(pool, chain, small_data) is None


def test_bare_multisig(chain: FakeChain, wallet: Wallet) -> None:
    tx = wallet.spend([wallet.fund(chain)], [COIN - 1000], scripts=[MULTISIG_1_OF_2])
    strict = Mempool(MempoolPolicy(permit_bare_multisig=False))
    assert _reason(strict, chain, tx) == "bare-multisig"
    assert _reason(Mempool(), chain, tx) is None


def test_dust(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    dusty = wallet.spend([coin], [COIN - 10_000, 293])
    result = pool.accept(dusty, chain, NOW)
    assert result.reject_reason == "dust"
    assert result.error is not None and result.error.debug == "output 1: 293 < 294"
    assert _reason(pool, chain, wallet.spend([coin], [COIN - 10_000, 294])) is None


def test_multi_op_return(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    two = wallet.spend([coin], [COIN - 1000], extra_outputs=[_op_return(10), _op_return(10)])
    assert _reason(pool, chain, two) == "multi-op-return"
    lax = Mempool(MempoolPolicy(permit_multi_op_return=True, max_datacarrier_bytes=100_000))
    assert _reason(lax, chain, two) is None
    # Core 30's mode: the data carrier limit bounds all OP_RETURN outputs together.
    capped = Mempool(MempoolPolicy(permit_multi_op_return=True, max_datacarrier_bytes=25))
    assert _reason(capped, chain, two) == "datacarrier"


def test_tx_size_small(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    # One P2WPKH input and one OP_RETURN output: 10 + 41 + 12 = 63 non-witness bytes.
    coin = wallet.fund(chain, 10_000)
    tiny = wallet.spend([coin], [0], scripts=[b"\x6a\x02\x00\x00"])
    assert tiny.base_size < 65
    assert _reason(pool, chain, tiny) == "tx-size-small"
