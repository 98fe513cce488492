"""Contextual header and block checks: difficulty, times, versions, finality, BIP34, BIP141."""

from __future__ import annotations

import dataclasses

import pytest

from btcnode.consensus.block import Block, witness_commitment_script
from btcnode.consensus.checks import check_block, check_block_header
from btcnode.consensus.contextual import (
    check_witness_malleation,
    contextual_check_block,
    contextual_check_block_header,
    is_final_tx,
    median_time_past,
)
from btcnode.consensus.errors import BlockResult, ChainMisuse, ValidationError
from btcnode.consensus.params import COIN, MAINNET, REGTEST, ChainParams
from btcnode.consensus.subsidy import coinbase_height_prefix
from btcnode.consensus.tx import NULL_INDEX, NULL_TXID, OutPoint, Tx, TxIn, TxOut
from tests.btcnode.rules.chain import (
    OP_TRUE,
    Entry,
    TestChain,
    header_with,
    resolve,
    spend,
)

PREVOUT = OutPoint(bytes(range(32)), 0)
NOW = 2_000_000_000


@pytest.fixture(scope="module")
def base() -> TestChain:
    chain = TestChain()
    chain.mine(20)
    return chain


def _header_reason(chain: TestChain, block: Block, now: int = NOW) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        contextual_check_block_header(
            block.header, chain.tip, chain.mtp(chain.height), now, chain.params, chain.ancestor
        )
    return info.value


def _block_reason(chain: TestChain, block: Block, params: ChainParams = REGTEST) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        contextual_check_block(block, chain.height + 1, chain.mtp(chain.height), params)
    return info.value


def _check(chain: TestChain, block: Block, params: ChainParams = REGTEST) -> None:
    contextual_check_block(block, chain.height + 1, chain.mtp(chain.height), params)


# -- median time past ------------------------------------------------------------------------


def test_median_time_past() -> None:
    assert median_time_past([5]) == 5
    assert median_time_past([1, 9]) == 9  # Core takes the upper middle of an even count
    assert median_time_past([3, 1, 2]) == 2
    assert median_time_past(list(range(100, 0, -1))) == 6  # only the last 11: 11..1
    with pytest.raises(ChainMisuse):
        median_time_past([])


# -- ContextualCheckBlockHeader ----------------------------------------------------------------


def test_bad_diffbits(base: TestChain) -> None:
    block = base.build()
    err = _header_reason(base, Block(header_with(block.header, bits=0x1D00FFFF), block.txs))
    assert (err.reject_reason, err.result) == ("bad-diffbits", BlockResult.INVALID_HEADER)
    assert "expected 0x207fffff" in err.debug


def test_time_too_old_is_at_or_before_median_time_past(base: TestChain) -> None:
    mtp = base.mtp(base.height)
    err = _header_reason(base, base.build(time=mtp))
    assert (err.reject_reason, err.result) == ("time-too-old", BlockResult.INVALID_HEADER)
    later = base.build(time=mtp + 1)
    contextual_check_block_header(later.header, base.tip, mtp, NOW, REGTEST, base.ancestor)


def test_time_too_new_is_more_than_two_hours_ahead(base: TestChain) -> None:
    now = base.tip.time + 600
    block = base.build(time=now + 7201)
    err = _header_reason(base, block, now=now)
    assert (err.reject_reason, err.result) == ("time-too-new", BlockResult.TIME_FUTURE)
    edge = base.build(time=now + 7200)
    contextual_check_block_header(
        edge.header, base.tip, base.mtp(base.height), now, REGTEST, base.ancestor
    )


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        (1, "bad-version(0x00000001)"),
        (3, "bad-version(0x00000003)"),
        (-1, "bad-version(0xffffffff)"),
    ],
)
def test_bad_version(base: TestChain, version: int, reason: str) -> None:
    err = _header_reason(base, resolve(base.build(), version=version))
    assert (err.reject_reason, err.result) == (reason, BlockResult.INVALID_HEADER)


@pytest.mark.parametrize(
    ("height", "version", "ok"),
    [(999, 1, True), (1000, 1, False), (1000, 2, True), (2000, 2, False), (3000, 3, False)],
)
def test_version_thresholds_follow_the_buried_heights(height: int, version: int, ok: bool) -> None:
    params = dataclasses.replace(REGTEST, bip34_height=1000, bip66_height=2000, bip65_height=3000)
    prev = Entry(height - 1, 1_400_000_000, 0x207FFFFF)
    header = header_with(REGTEST.genesis.header, version=version, time=prev.time + 1)

    def check() -> None:
        contextual_check_block_header(
            header, prev, prev.time - 1, NOW, params, lambda h: Entry(h, prev.time, prev.bits)
        )

    if ok:
        check()
    else:
        with pytest.raises(ValidationError) as info:
            check()
        assert info.value.reject_reason == f"bad-version(0x{version:08x})"


# -- mainnet's first block ------------------------------------------------------------------

BLOCK1_PUBKEY = bytes.fromhex(
    "0496b538e853519c726a2c91e61ec11600ae1390813a627c66fb8be7947be63c52"
    "da7589379515d4e0a604f8141781e62294721166bf621e73a82cbf2342c858ee"
)


def _mainnet_block1() -> Block:
    coinbase = Tx(
        version=1,
        vin=(TxIn(OutPoint(NULL_TXID, NULL_INDEX), bytes.fromhex("04ffff001d0104")),),
        vout=(TxOut(50 * COIN, bytes((65,)) + BLOCK1_PUBKEY + b"\xac"),),
    )
    header = header_with(
        MAINNET.genesis.header,
        prev_block=MAINNET.genesis_hash,
        merkle_root=coinbase.txid,
        time=1231469665,
        nonce=2573394689,
    )
    return Block(header, (coinbase,))


def test_mainnet_block_1_passes_with_genesis_as_parent() -> None:
    block = _mainnet_block1()
    assert block.header.hash_hex == (
        "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048"
    )
    genesis = MAINNET.genesis.header
    prev = Entry(0, genesis.time, genesis.bits)
    check_block_header(block.header, MAINNET)
    check_block(block, MAINNET)
    contextual_check_block_header(
        block.header, prev, genesis.time, block.header.time, MAINNET, lambda h: prev
    )
    contextual_check_block(block, 1, genesis.time, MAINNET)
    harder = header_with(block.header, bits=0x1C00FFFF)
    with pytest.raises(ValidationError) as info:
        contextual_check_block_header(harder, prev, genesis.time, NOW, MAINNET, lambda h: prev)
    assert info.value.reject_reason == "bad-diffbits"


# -- finality (IsFinalTx, BIP113) -------------------------------------------------------------


def test_is_final_tx_by_height_and_time() -> None:
    tx = Tx(2, (TxIn(PREVOUT, b"", 0xFFFFFFFE),), (TxOut(1, OP_TRUE),), lock_time=100)
    assert not is_final_tx(tx, 100, 0)  # nLockTime is the last invalid height
    assert is_final_tx(tx, 101, 0)
    timed = dataclasses.replace(tx, lock_time=500_000_000)
    assert not is_final_tx(timed, 10**6, 500_000_000)
    assert is_final_tx(timed, 0, 500_000_001)
    assert is_final_tx(dataclasses.replace(tx, lock_time=0), 0, 0)
    opted_out = Tx(2, (TxIn(PREVOUT),), tx.vout, lock_time=100)
    assert is_final_tx(opted_out, 1, 0)  # every input SEQUENCE_FINAL: lock time ignored


def test_nonfinal_by_height(base: TestChain) -> None:
    height = base.height + 1
    locked = spend(PREVOUT, value=1, sequence=0, lock_time=height)
    err = _block_reason(base, base.build([locked]))
    assert err.reject_reason == "bad-txns-nonfinal"
    _check(base, base.build([spend(PREVOUT, value=1, sequence=0, lock_time=height - 1)]))


def test_bip113_lock_time_cutoff_is_the_parents_median_time_past(base: TestChain) -> None:
    mtp = base.mtp(base.height)
    block_time = base.tip.time + 600
    assert mtp < block_time
    locked = spend(PREVOUT, value=1, sequence=0, lock_time=mtp)  # a time: >= 500_000_000
    block = base.build([locked], time=block_time)
    err = _block_reason(base, block)  # CSV is active from height 1 on regtest
    assert err.reject_reason == "bad-txns-nonfinal"
    before_csv = dataclasses.replace(REGTEST, csv_height=1000)
    _check(base, block, before_csv)  # before BIP113 the block's own time is the cutoff


# -- BIP34 ------------------------------------------------------------------------------------


def test_bip34_heights_1_to_17_in_real_blocks() -> None:
    chain = TestChain()
    blocks = chain.mine(17)  # connect() runs contextual_check_block on each
    for height, block in enumerate(blocks, start=1):
        script_sig = block.txs[0].vin[0].script_sig
        if height <= 16:
            assert script_sig[0] == 0x50 + height  # OP_1..OP_16
        else:
            assert script_sig[:2] == b"\x01\x11"


@pytest.mark.parametrize(
    ("height", "prefix"),
    [
        (1, "51"),
        (16, "60"),
        (17, "0111"),
        (127, "017f"),
        (128, "028000"),
        (255, "02ff00"),
        (256, "020001"),
        (32768, "03008000"),
        (65536, "03000001"),
        (8388608, "0400008000"),
    ],
)
def test_coinbase_height_prefix(height: int, prefix: str) -> None:
    assert coinbase_height_prefix(height).hex() == prefix


def _with_coinbase_script(block: Block, script_sig: bytes) -> Block:
    coinbase = block.txs[0]
    old = coinbase.vin[0]
    vin = (TxIn(old.prevout, script_sig, old.sequence, old.witness),)
    return resolve(block, [dataclasses.replace(coinbase, vin=vin), *block.txs[1:]])


def test_bad_cb_height(base: TestChain) -> None:
    height = base.height + 1
    wrong = _with_coinbase_script(base.build(), coinbase_height_prefix(height + 1) + b"\x00")
    assert _block_reason(base, wrong).reject_reason == "bad-cb-height"


def test_bad_cb_height_small_heights_need_the_opcode() -> None:
    chain = TestChain()
    chain.mine(4)
    pushed = _with_coinbase_script(chain.build(), b"\x01\x05")  # a push of 5, not OP_5
    assert _block_reason(chain, pushed).reject_reason == "bad-cb-height"
    _check(chain, _with_coinbase_script(chain.build(), b"\x55\x00"))


# -- BIP141 witness commitment -----------------------------------------------------------------


def _witness_spend() -> Tx:
    return Tx(
        2, (TxIn(PREVOUT, b"", 0xFFFFFFFF, (b"\x01" * 72, b"\x02" * 33)),), (TxOut(1, OP_TRUE),)
    )


def _replace_coinbase(
    block: Block,
    *,
    witness: tuple[bytes, ...] | None = None,
    vout: tuple[TxOut, ...] | None = None,
) -> Block:
    coinbase = block.txs[0]
    txin = coinbase.vin[0]
    if witness is not None:
        txin = dataclasses.replace(txin, witness=witness)
    outputs = coinbase.vout if vout is None else vout
    return resolve(block, [Tx(coinbase.version, (txin,), outputs), *block.txs[1:]])


def test_witness_block_with_commitment_passes(base: TestChain) -> None:
    block = base.build([_witness_spend()])
    _check(base, block)
    no_witness_no_commitment = base.build([spend(PREVOUT, value=1)], commit_witness=False)
    _check(base, no_witness_no_commitment)  # a commitment is only needed for witness data


@pytest.mark.parametrize("stack", [(), (bytes(32), bytes(32)), (bytes(31),), (bytes(33),)], ids=len)
def test_bad_witness_nonce_size(base: TestChain, stack: tuple[bytes, ...]) -> None:
    block = _replace_coinbase(base.build([_witness_spend()]), witness=stack)
    err = _block_reason(base, block)
    assert (err.reject_reason, err.result) == ("bad-witness-nonce-size", BlockResult.MUTATED)


def test_bad_witness_merkle_match_after_malleating_a_witness(base: TestChain) -> None:
    block = base.build([_witness_spend()])
    tx = block.txs[1]
    malleated = Tx(tx.version, (dataclasses.replace(tx.vin[0], witness=(b"\x03",)),), tx.vout)
    assert malleated.txid == tx.txid and malleated.wtxid != tx.wtxid
    twin = Block(block.header, (block.txs[0], malleated))
    check_block(twin, REGTEST)  # the header and txids are unchanged: same block hash
    err = _block_reason(base, twin)
    assert (err.reject_reason, err.result) == ("bad-witness-merkle-match", BlockResult.MUTATED)


def test_bad_witness_merkle_match_with_another_reserved_value(base: TestChain) -> None:
    block = _replace_coinbase(base.build([_witness_spend()]), witness=(b"\x01" * 32,))
    assert _block_reason(base, block).reject_reason == "bad-witness-merkle-match"


def test_the_last_commitment_counts(base: TestChain) -> None:
    block = base.build([_witness_spend()])
    good = block.txs[0].vout[1]
    bogus = TxOut(0, witness_commitment_script(bytes(32)))
    first, *_ = block.txs[0].vout
    _check(base, _replace_coinbase(block, vout=(first, bogus, good)))
    wrong_last = _replace_coinbase(block, vout=(first, good, bogus))
    assert _block_reason(base, wrong_last).reject_reason == "bad-witness-merkle-match"


def test_unexpected_witness_without_commitment(base: TestChain) -> None:
    block = base.build([_witness_spend()], commit_witness=False)
    err = _block_reason(base, block)
    assert (err.reject_reason, err.result) == ("unexpected-witness", BlockResult.MUTATED)
    assert "tx 1" in err.debug


def test_unexpected_witness_before_segwit(base: TestChain) -> None:
    pre_segwit = dataclasses.replace(REGTEST, segwit_height=1000)
    committed = base.build([_witness_spend()])
    assert _block_reason(base, committed, pre_segwit).reject_reason == "unexpected-witness"
    # Even the coinbase's reserved value is witness data before segwit.
    plain = base.build([spend(PREVOUT, value=1)])
    assert _block_reason(base, plain, pre_segwit).reject_reason == "unexpected-witness"
    _check(base, base.build([spend(PREVOUT, value=1)], commit_witness=False), pre_segwit)


def test_check_witness_malleation_directly(base: TestChain) -> None:
    block = base.build([_witness_spend()])
    check_witness_malleation(block, expect_witness_commitment=True)
    with pytest.raises(ValidationError, match="unexpected-witness"):
        check_witness_malleation(block, expect_witness_commitment=False)


def test_bad_blk_weight(base: TestChain) -> None:
    heavy = Tx(2, (TxIn(PREVOUT, b"", 0xFFFFFFFF, (bytes(4_000_000),)),), (TxOut(1, OP_TRUE),))
    block = base.build([heavy])
    check_block(block, REGTEST)  # base size is tiny; only the weight is over
    assert block.weight > 4_000_000
    err = _block_reason(base, block)
    assert err.reject_reason == "bad-blk-weight"
    assert str(block.weight) in err.debug


def test_a_block_without_coinbase_is_misuse(base: TestChain) -> None:
    headless = Block(base.build().header, ())
    with pytest.raises(ChainMisuse, match="no coinbase"):
        _check(base, headless)
