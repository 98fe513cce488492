"""Invalid blocks: refused with Core's reason, marked failed, the UTXO set untouched, and a
valid sibling still connects afterwards."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from btcnode.chain import ChainUpdate, TipStatus
from btcnode.consensus.block import Block, BlockHeader, merkle_root
from btcnode.consensus.errors import BlockResult, BlockValidationError
from btcnode.consensus.params import COIN
from btcnode.consensus.tx import Tx
from btcnode.miner.assemble import solve_block
from tests.btcnode.chain.builder import (
    NOW,
    QUICK_REGTEST,
    ChainBuilder,
    feed,
    new_chainstate,
    spend,
)

SUBSIDY = 50 * COIN
OP_FALSE = b"\x00"


class Setup:
    """Three blocks on QUICK_REGTEST (coinbases spendable one block later)."""

    def __init__(self) -> None:
        self.builder = ChainBuilder(QUICK_REGTEST)
        self.blocks = self.builder.chain(QUICK_REGTEST.genesis.hash, 3)
        self.chainstate = new_chainstate(QUICK_REGTEST)
        feed(self.chainstate, self.blocks)
        self.tip = self.blocks[-1]

    def coinbase(self, index: int) -> tuple[bytes, int]:
        return self.blocks[index].txs[0].txid, 0

    def on_tip(self, txs: list[Tx], *, fees: int, tag: bytes = b"bad") -> Block:
        return self.builder.block(self.tip.hash, txs, fees=fees, tag=tag)


def _bad_script(s: Setup) -> Block:
    to_false = spend([s.coinbase(0)], [SUBSIDY - 1000], script_pubkey=OP_FALSE)
    from_false = spend([(to_false.txid, 0)], [SUBSIDY - 2000])
    return s.on_tip([to_false, from_false], fees=2000)


def _double_spend(s: Setup) -> Block:
    first = spend([s.coinbase(0)], [SUBSIDY - 1000])
    second = spend([s.coinbase(0)], [SUBSIDY - 2000])
    return s.on_tip([first, second], fees=3000)


def _missing_output(s: Setup) -> Block:
    ghost = spend([(b"\x42" * 32, 0)], [1000])
    return s.on_tip([ghost], fees=0)


def _bad_coinbase_amount(s: Setup) -> Block:
    honest = spend([s.coinbase(0)], [SUBSIDY - 1000])
    return s.on_tip([honest], fees=1001)  # claims one satoshi more than the fees


def _spends_missing_after_valid(s: Setup) -> Block:
    fine = spend([s.coinbase(1)], [SUBSIDY - 1000])
    ghost = spend([(fine.txid, 7)], [1])  # the output index does not exist
    return s.on_tip([fine, ghost], fees=1000)


CASES: dict[str, tuple[Callable[[Setup], Block], str, str]] = {
    "bad-script": (
        _bad_script,
        "mandatory-script-verify-flag-failed (Script evaluated without error but finished "
        "with a false/empty top stack element)",
        "tx 2",
    ),
    "double-spend-in-block": (_double_spend, "bad-txns-inputs-missingorspent", "tx 2"),
    "missing-output": (_missing_output, "bad-txns-inputs-missingorspent", "tx 1"),
    "bad-cb-amount": (_bad_coinbase_amount, "bad-cb-amount", "actual="),
    "missing-after-valid": (_spends_missing_after_valid, "bad-txns-inputs-missingorspent", "tx 2"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_invalid_block_is_refused_marked_and_harmless(case: str) -> None:
    build, reason, where = CASES[case]
    s = Setup()
    before = s.chainstate.utxo_stats()
    bad = build(s)
    update = s.chainstate.process_block(bad, NOW)
    assert isinstance(update, ChainUpdate)
    [invalid] = update.invalid
    assert (invalid.hash, invalid.height, invalid.reject_reason) == (bad.hash, 4, reason)
    assert where in invalid.error.debug
    assert update.rejection(bad.hash) is invalid.error
    assert not update.changed and s.chainstate.tip_hash == s.tip.hash
    assert s.chainstate.utxo_stats() == before
    entry = s.chainstate.get_index(bad.hash)
    assert entry is not None and entry.status.failed
    statuses = {tip.hash: tip.status for tip in s.chainstate.chain_tips()}
    assert statuses[bad.hash] is TipStatus.INVALID
    sibling = s.on_tip([spend([s.coinbase(0)], [SUBSIDY - 1000])], fees=1000, tag=b"good")
    assert feed(s.chainstate, [sibling])[0].connected == (sibling,)
    # A child of the invalid block is refused at once.
    child = s.builder.block(bad.hash)
    with pytest.raises(BlockValidationError) as info:
        s.chainstate.process_block(child, NOW)
    assert (info.value.reject_reason, info.value.result) == (
        "bad-prevblk",
        BlockResult.INVALID_PREV,
    )


def _without_last_tx(block: Block) -> Block:
    return Block(block.header, block.txs[:-1])


def test_a_body_that_does_not_match_its_header_is_not_marked_invalid() -> None:
    s = Setup()
    good = s.on_tip([spend([s.coinbase(0)], [SUBSIDY - 1000])], fees=1000)
    with pytest.raises(BlockValidationError) as info:
        s.chainstate.process_block(_without_last_tx(good), NOW)
    assert (info.value.reject_reason, info.value.result) == (
        "bad-txnmrklroot",
        BlockResult.MUTATED,
    )
    entry = s.chainstate.get_index(good.hash)
    assert entry is not None and not entry.status.failed and not entry.status.have_data
    assert feed(s.chainstate, [good])[0].connected == (good,)  # the real body still connects


def test_a_contextually_invalid_block_is_refused_before_it_is_stored() -> None:
    s = Setup()
    # A coinbase committing to height 1 (BIP34), in a block at height 4.
    donor = ChainBuilder(QUICK_REGTEST).block(QUICK_REGTEST.genesis.hash, tag=b"donor")
    shell = s.on_tip([], fees=0, tag=b"forge").header
    root, _ = merkle_root([donor.txs[0].txid])
    header = BlockHeader(shell.version, shell.prev_block, root, shell.time, shell.bits, 0)
    forged = solve_block(Block(header, donor.txs))
    with pytest.raises(BlockValidationError) as info:
        s.chainstate.process_block(forged, NOW)
    assert info.value.reject_reason == "bad-cb-height"
    entry = s.chainstate.get_index(forged.hash)
    assert entry is not None and entry.status.failed and not entry.status.have_data
    assert s.chainstate.get_block(forged.hash) is None
    assert s.chainstate.tip_hash == s.tip.hash
