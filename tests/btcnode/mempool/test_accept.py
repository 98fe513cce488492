"""Acceptance in Core's order: each PreChecks and script-check rejection, by its reason."""

from __future__ import annotations

from dataclasses import replace

from btcnode.consensus.coins import MEMPOOL_HEIGHT, Coin
from btcnode.consensus.errors import TxResult
from btcnode.consensus.tx import OutPoint, Tx, TxIn, TxOut
from btcnode.mempool import AcceptStatus, Mempool, MempoolPolicy
from tests.btcnode.mempool.helpers import (
    BASE_TIME,
    COIN,
    NO_RBF_SEQUENCE,
    FakeChain,
    Wallet,
)

NOW = BASE_TIME


def _with_input(tx: Tx, n: int, **changes: object) -> Tx:
    vin = list(tx.vin)
    vin[n] = replace(vin[n], **changes)  # type: ignore[arg-type]
    return Tx(tx.version, tuple(vin), tx.vout, tx.lock_time)


def test_signed_p2wpkh_spend_enters_with_its_figures(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    tx = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    result = pool.accept(tx, chain, NOW)
    assert result.status is AcceptStatus.ACCEPTED and result.error is None
    entry = pool.get(tx.txid)
    assert entry is not None and entry == result.entry
    assert (entry.fee, entry.weight, entry.sigop_cost) == (1000, tx.weight, 1)
    assert entry.vsize == (tx.weight + 3) // 4 == 110
    assert (entry.time, entry.height, entry.signals_rbf) == (NOW, chain.tip_height, True)
    assert tx.txid in pool and len(pool) == 1
    assert (pool.total_vsize, pool.total_fees) == (110, 1000)
    assert pool.spender_of(tx.vin[0].prevout) == tx.txid


def test_p2pkh_spend_and_unconfirmed_child(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    parent = wallet.spend([wallet.fund(chain, script=wallet.p2pkh)], [COIN - 2000])
    child = wallet.chain_spend(parent, 0, 1000)
    assert pool.accept(parent, chain, NOW).accepted
    assert pool.accept(child, chain, NOW).accepted
    entry = pool.get(child.txid)
    assert entry is not None and entry.parents == {parent.txid}
    assert (entry.ancestor_count, entry.ancestor_fees) == (2, 3000)
    view = pool.coins_view(chain)
    coin = view.get_coin(OutPoint(child.txid, 0))
    assert coin is not None and coin.height == MEMPOOL_HEIGHT
    assert view.get_coin(OutPoint(parent.txid, 0)) is not None  # spent, still visible as in Core


def test_test_only_changes_nothing(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    tx = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    result = pool.accept(tx, chain, NOW, test_only=True)
    assert result.accepted and result.entry is not None and result.entry.fee == 1000
    assert len(pool) == 0 and tx.txid not in pool


def test_consensus_reasons_from_check_transaction(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    tx = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    no_outputs = Tx(2, tx.vin, (), 0)
    result = pool.accept(no_outputs, chain, NOW)
    assert result.reject_reason == "bad-txns-vout-empty"
    assert result.error is not None and result.error.result is TxResult.CONSENSUS
    doubled = Tx(2, (tx.vin[0], tx.vin[0]), tx.vout, 0)
    assert pool.accept(doubled, chain, NOW).reject_reason == "bad-txns-inputs-duplicate"


def test_coinbase_is_refused(pool: Mempool, chain: FakeChain) -> None:
    coinbase = Tx(2, (TxIn(OutPoint(bytes(32), 0xFFFFFFFF), b"\x01\x02\x03"),), (TxOut(1, b""),))
    result = pool.accept(coinbase, chain, NOW)
    assert result.reject_reason == "coinbase"
    assert result.status is AcceptStatus.REJECTED


def test_non_final_lock_time(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    next_height = chain.tip_height + 1
    late = wallet.spend([coin], [COIN - 1000], lock_time=next_height, sequence=NO_RBF_SEQUENCE)
    result = pool.accept(late, chain, NOW)
    assert result.reject_reason == "non-final"
    assert result.error is not None and result.error.result is TxResult.PREMATURE_SPEND
    ready = wallet.spend([coin], [COIN - 1000], lock_time=chain.tip_height, sequence=0xFFFFFFFE)
    assert pool.accept(ready, chain, NOW).accepted
    # A time lock compares with the tip's median time past.
    mtp = chain.median_time_past(chain.tip_height)
    coin2 = wallet.fund(chain)
    timed = wallet.spend([coin2], [COIN - 1000], lock_time=mtp, sequence=NO_RBF_SEQUENCE)
    assert pool.accept(timed, chain, NOW).reject_reason == "non-final"
    timed = wallet.spend([coin2], [COIN - 1000], lock_time=mtp - 1, sequence=NO_RBF_SEQUENCE)
    assert pool.accept(timed, chain, NOW).accepted


def test_already_in_mempool_by_wtxid_then_by_txid(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    tx = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    assert pool.accept(tx, chain, NOW).accepted
    again = pool.accept(tx, chain, NOW)
    assert again.reject_reason == "txn-already-in-mempool"
    assert again.error is not None and again.error.result is TxResult.CONFLICT
    # Same txid, different witness: an extra witness item changes only the wtxid.
    malleated = _with_input(tx, 0, witness=(*tx.vin[0].witness, b""))
    assert malleated.txid == tx.txid and malleated.wtxid != tx.wtxid
    result = pool.accept(malleated, chain, NOW)
    assert result.reject_reason == "txn-same-nonwitness-data-in-mempool"


def test_already_confirmed_is_known_not_an_orphan(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    coin = wallet.fund(chain)
    tx = wallet.spend([coin], [COIN - 1000])
    # Confirm it: its input is spent, its output is in the chain.
    chain.spend(coin.outpoint)
    chain.coins[OutPoint(tx.txid, 0)] = Coin(tx.vout[0], chain.tip_height, False)
    result = pool.accept(tx, chain, NOW)
    assert result.reject_reason == "txn-already-known"
    assert result.error is not None and result.error.result is TxResult.CONFLICT
    assert tx.txid not in pool.orphans


def test_missing_input_makes_an_orphan(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    parent = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    child = wallet.chain_spend(parent, 0, 1000)
    result = pool.accept(child, chain, NOW)
    assert result.status is AcceptStatus.ORPHAN
    assert result.reject_reason == "bad-txns-inputs-missingorspent"
    assert result.error is not None and result.error.result is TxResult.MISSING_INPUTS
    assert child.txid in pool.orphans and child.txid not in pool


def test_sequence_locks_by_height_and_time(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    # A coin at height 191 with a relative lock of 10 blocks enters at height 201.
    coin = wallet.fund(chain, height=chain.tip_height - 9)
    locked = wallet.spend([coin], [COIN - 1000], sequence=11)
    result = pool.accept(locked, chain, NOW)
    assert result.reject_reason == "non-BIP68-final"
    assert result.error is not None and result.error.result is TxResult.PREMATURE_SPEND
    assert pool.accept(wallet.spend([coin], [COIN - 1000], sequence=10), chain, NOW).accepted
    # Version 1 transactions are not subject to BIP68.
    coin2 = wallet.fund(chain, height=chain.tip_height)
    assert pool.accept(wallet.spend([coin2], [COIN - 1000], sequence=50, version=1), chain, NOW)
    # Time lock: 512-second units from the median time past before the coin's block.
    coin3 = wallet.fund(chain, height=chain.tip_height - 1)
    time_lock = (1 << 22) | 3  # 1536 seconds; the tip's MTP is 1200 s past the coin's start
    result = pool.accept(wallet.spend([coin3], [COIN - 1000], sequence=time_lock), chain, NOW)
    assert result.reject_reason == "non-BIP68-final"
    shorter = (1 << 22) | 2  # 1024 seconds have passed
    assert pool.accept(wallet.spend([coin3], [COIN - 1000], sequence=shorter), chain, NOW).accepted


def test_check_tx_inputs_reasons(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain, 10_000)
    result = pool.accept(wallet.spend([coin], [10_001]), chain, NOW)
    assert result.reject_reason == "bad-txns-in-belowout"
    young = wallet.fund(chain, 10 * COIN, height=chain.tip_height - 98, coinbase=True)
    result = pool.accept(wallet.spend([young], [COIN]), chain, NOW)
    assert result.reject_reason == "bad-txns-premature-spend-of-coinbase"
    assert result.error is not None and result.error.result is TxResult.PREMATURE_SPEND
    mature = wallet.fund(chain, 10 * COIN, height=chain.tip_height - 99, coinbase=True)
    accepted = pool.accept(wallet.spend([mature], [COIN]), chain, NOW)
    assert accepted.entry is not None and accepted.entry.spends_coinbase


def test_nonstandard_inputs(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    anyone = wallet.fund(chain, script=b"\x51\x51\x93")  # OP_1 OP_1 OP_ADD: no template
    tx = Tx(2, (TxIn(anyone.outpoint),), (TxOut(COIN - 1000, wallet.p2wpkh),))
    result = pool.accept(tx, chain, NOW)
    assert result.reject_reason == "bad-txns-nonstandard-inputs"
    assert result.error is not None and result.error.result is TxResult.INPUTS_NOT_STANDARD
    assert Mempool(MempoolPolicy(require_standard=False)).accept(tx, chain, NOW).accepted


def test_witness_on_a_legacy_input_is_nonstandard(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    tx = wallet.spend([wallet.fund(chain, script=wallet.p2pkh)], [COIN - 1000])
    stuffed = _with_input(tx, 0, witness=(b"\x00" * 10,))
    result = pool.accept(stuffed, chain, NOW)
    assert result.reject_reason == "bad-witness-nonstandard"
    assert result.error is not None and result.error.result is TxResult.WITNESS_MUTATED


def test_too_many_sigops(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    keys = b"".join(b"\x21\x02" + bytes([i]) * 32 for i in range(1, 4))
    bare_1_of_3 = b"\x51" + keys + b"\x53\xae"  # counted as 20 sigops, cost 80 each
    coin = wallet.fund(chain, 10 * COIN)
    outputs = [TxOut(1000, bare_1_of_3)] * 201
    tx = wallet.spend([coin], [9 * COIN], extra_outputs=outputs)
    result = pool.accept(tx, chain, NOW)
    assert result.reject_reason == "bad-txns-too-many-sigops"
    assert result.error is not None and result.error.debug == str(201 * 80 + 1)


def test_min_relay_fee(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    coin = wallet.fund(chain)
    # 110 vbytes at 100 sat/kvB asks 11 sat (rounded up).
    result = pool.accept(wallet.spend([coin], [COIN - 10]), chain, NOW)
    assert result.reject_reason == "min relay fee not met"
    assert result.error is not None and result.error.debug == "10 < 11"
    assert result.error.result is TxResult.MEMPOOL_POLICY
    assert pool.accept(wallet.spend([coin], [COIN - 11]), chain, NOW).accepted


def _corrupt_signature(tx: Tx) -> Tx:
    sig = bytearray(tx.vin[0].witness[0])
    sig[10] ^= 1  # inside r: a well-formed signature that does not verify
    return _with_input(tx, 0, witness=(bytes(sig), tx.vin[0].witness[1]))


def test_bad_signature_is_a_mandatory_failure(
    pool: Mempool, chain: FakeChain, wallet: Wallet
) -> None:
    tx = _corrupt_signature(wallet.spend([wallet.fund(chain)], [COIN - 1000]))
    result = pool.accept(tx, chain, NOW)
    # Standard flags fail with NULLFAIL; Core 29 reports the consensus flags' error.
    assert result.reject_reason == (
        "mandatory-script-verify-flag-failed (Script evaluated without error but finished "
        "with a false/empty top stack element)"
    )
    assert result.error is not None and result.error.result is TxResult.CONSENSUS


SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _high_s(sig: bytes) -> bytes:
    """The same DER signature with s replaced by n - s (valid, but not low-S)."""
    der, hash_type = sig[:-1], sig[-1:]
    r_len = der[3]
    r = der[4 : 4 + r_len]
    s = int.from_bytes(der[6 + r_len :], "big")
    s_bytes = (SECP256K1_ORDER - s).to_bytes(33, "big").lstrip(b"\x00")
    if s_bytes[0] & 0x80:
        s_bytes = b"\x00" + s_bytes
    body = b"\x02" + bytes([len(r)]) + r + b"\x02" + bytes([len(s_bytes)]) + s_bytes
    return b"\x30" + bytes([len(body)]) + body + hash_type


def test_high_s_is_a_non_mandatory_failure(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    tx = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    witness = tx.vin[0].witness
    high = _with_input(tx, 0, witness=(_high_s(witness[0]), witness[1]))
    result = pool.accept(high, chain, NOW)
    assert result.reject_reason == (
        "non-mandatory-script-verify-flag (Non-canonical signature: S value is unnecessarily high)"
    )
    assert result.error is not None and result.error.result is TxResult.NOT_STANDARD


def test_stripped_witness_is_marked(pool: Mempool, chain: FakeChain, wallet: Wallet) -> None:
    tx = wallet.spend([wallet.fund(chain)], [COIN - 1000])
    stripped = _with_input(tx, 0, witness=())  # P2WPKH wants exactly two items
    result = pool.accept(stripped, chain, NOW)
    assert result.reject_reason == (
        "mandatory-script-verify-flag-failed (Witness program hash mismatch)"
    )
    assert result.error is not None and result.error.result is TxResult.WITNESS_STRIPPED
