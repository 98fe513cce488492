"""The wallet-rescan benchmark on a tiny chain: node A really serves it, the wallet restored
from the benchmark mnemonic finds exactly the generated wallet transactions, and the plain
scan finds exactly the generated wallet outputs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench import _wallet_chain, wallet_rescan
from btcnode.consensus.tx import OutPoint

pytestmark = pytest.mark.integration

TXS_PER_BLOCK, BLOCKS, WALLET_PER_BLOCK = 9, 8, 5  # 4 chains and the 5-slot wallet lane


def test_rescan_and_floor_find_exactly_the_generated_wallet_transactions(tmp_path: Path) -> None:
    chain = _wallet_chain.generate(TXS_PER_BLOCK, BLOCKS, WALLET_PER_BLOCK, processes=1)
    expected = chain.expected
    assert len(expected.txids) == BLOCKS * WALLET_PER_BLOCK
    assert expected.receives and expected.spends  # the rescan sees both kinds

    m = wallet_rescan.measure(chain, tmp_path)

    height = _wallet_chain.SETUP_BLOCKS + BLOCKS
    generated_outputs = sorted((OutPoint(r.txid, r.vout) for r in expected.receives), key=str)
    for floor in m.floors:
        assert floor.blocks == height + 1
        assert sorted(floor.found, key=str) == generated_outputs

    ours = m.ours
    assert (ours.blocks, ours.blocks_scanned) == (height + 1, height + 1)
    assert {entry.txid for entry in ours.history} == expected.txids
    assert len(ours.history) == len(expected.txids)
    amounts = {entry.txid: entry.amount for entry in ours.history}
    assert all(amounts[r.txid] == r.value for r in expected.receives)
    assert all(amounts[s.txid] == -s.value for s in expected.spends)
    assert ours.balance.confirmed == expected.balance == sum(amounts.values())
    assert {coin.outpoint for coin in ours.unspent} == expected.unspent
    assert wallet_rescan.rescan_problems(ours, expected) == []

    kept = next(r for r in expected.receives if OutPoint(r.txid, r.vout) in expected.unspent)
    missing_one = dataclasses.replace(
        expected, receives=tuple(r for r in expected.receives if r != kept)
    )
    with pytest.raises(wallet_rescan.RescanMismatch) as caught:
        wallet_rescan.check_rescan(ours, missing_one)
    n = len(expected.txids)
    assert caught.value.problems == [
        f"{n} history entries for {n - 1} generated "
        "(0 missing, 1 extra, 0 with a wrong height or amount)",
        f"balance ({expected.balance}, 0, 0) (confirmed, unconfirmed, immature), "
        f"want {expected.balance - kept.value}",
        f"{len(expected.unspent)} unspent coins, want {len(expected.unspent) - 1}",
    ]


def test_a_plain_scan_missing_an_output_is_refused() -> None:
    chain = _wallet_chain.generate(TXS_PER_BLOCK, 4, WALLET_PER_BLOCK, processes=1)
    expected = chain.expected
    missing_one = dataclasses.replace(expected, receives=expected.receives[1:])
    floor = wallet_rescan.FloorScan(
        1, 1.0, tuple(OutPoint(r.txid, r.vout) for r in expected.receives)
    )
    wallet_rescan.check_floor(floor, expected)
    with pytest.raises(RuntimeError, match=f"found {len(expected.receives)} wallet outputs"):
        wallet_rescan.check_floor(floor, missing_one)
