"""The demo's story of a scenario result: lines of text, and the hash-share table's cells.

`narrate(result)` tells what happened with the figures that prove it (heights, shortened
block hashes and txids, confirmations before and after); `hash_share_cells(rows)` is the
private-chain table as a header and rows of strings. Pure: the command prints them.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcnode.rpc.jsonfmt import Amount
from btcnode.scenarios.keys import short_hex
from btcnode.scenarios.results import (
    MiningRaceResult,
    NodeTip,
    NodeTxids,
    NodeUtxo,
    PartitionResult,
    PrivateChainResult,
    RaceAttackResult,
    ReplaceByFeeResult,
    ScenarioResult,
    all_equal,
)
from btcnode.scenarios.simulation import HashShareRow, RaceEstimate

__all__ = ["HASH_SHARE_HEADER", "format_btc", "hash_share_cells", "narrate"]

HASH_SHARE_HEADER = (
    "q",
    "z (P<0.1%)",
    "P Nakamoto",
    "P simulated",
    "P random timing",
    "exact",
    "z random timing",
)


def format_btc(sats: int) -> str:
    return f"{Amount(sats)} BTC"


def _tips(final: Sequence[NodeTip]) -> str:
    if all_equal(tuple(t.tip for t in final)):
        t = final[0]
        return f"all {len(final)} nodes on tip {short_hex(t.tip)} at height {t.height}"
    shown = ", ".join(f"{t.node} {short_hex(t.tip)} at {t.height}" for t in final)
    return f"nodes DISAGREE: {shown}"


def _utxo(utxo: Sequence[NodeUtxo]) -> str:
    if all_equal(tuple(u.summary for u in utxo)):
        s = utxo[0].summary
        digest = f", hash {short_hex(s.digest)}" if s.digest else ""
        return (
            f"UTXO sets equal on all {len(utxo)} nodes: {s.txouts} outputs, "
            f"{format_btc(s.total_sats)}{digest}"
        )
    shown = "; ".join(f"{u.node}: {u.summary.txouts} outputs at {u.summary.height}" for u in utxo)
    return f"UTXO sets DIFFER: {shown}"


def _mempools(seen: Sequence[NodeTxids]) -> str:
    return ", ".join(
        f"{m.node} [{', '.join(short_hex(t) for t in m.txids) or 'empty'}]" for m in seen
    )


def _mining_race(r: MiningRaceResult) -> list[str]:
    return [
        f"Mining race: two blocks at height {r.fork_height}",
        f"  miner-a found {short_hex(r.block_a)} holding tx {short_hex(r.tx_a)}",
        f"  miner-b found {short_hex(r.block_b)} holding tx {short_hex(r.tx_b)}",
        f"observer saw {short_hex(r.observer_first)} first and kept it after learning of the "
        "other (equal work: the first seen wins)",
        f"{r.winner} extended {short_hex(r.winning_block)}: every node moved to the chain "
        "with most work",
        f"block {short_hex(r.losing_block)} was disconnected; tx {short_hex(r.losing_tx)} went "
        f"back to the mempool of {', '.join(r.returned_to) or 'no node'}",
        f"and was mined again at height {r.remined_height}",
        _tips(r.final_tips),
    ]


def _race_attack(r: RaceAttackResult) -> list[str]:
    names = {r.payment: "payment", r.double_spend: "double spend"}
    kept = ", ".join(
        f"{m.node} kept the {' and '.join(names.get(t, t) for t in m.txids)}" for m in r.first_seen
    )
    refused = "; ".join(
        f"{x.node} refused the {names.get(x.txid, x.txid)} ({x.reason}, code {x.code})"
        for x in r.rejections
    )
    return [
        f"Race attack on coin {short_hex(r.outpoint, 12)}",
        f"  payment {short_hex(r.payment)} to the merchant's node and double spend "
        f"{short_hex(r.double_spend)} to the miner's node, at the same moment",
        f"first seen: {kept}",
        f"refused: {refused}",
        f"the block at height {r.confirmed_height} confirmed the "
        f"{names.get(r.confirmed, r.confirmed)} {short_hex(r.confirmed)}",
        f"mempools after it: {_mempools(r.mempools_after)}",
        _tips(r.final_tips),
        _utxo(r.utxo),
    ]


def _rate(fee: int, vsize: int) -> str:
    return f"{fee} sats, {fee / vsize:.1f} sat/vB"


def _replace_by_fee(r: ReplaceByFeeResult) -> list[str]:
    return [
        "Replace-by-fee (BIP125)",
        f"  payment {short_hex(r.original)} ({_rate(r.original_fee, r.original_vsize)}), "
        f"signalling, reached {', '.join(r.original_seen_by)}",
        f"  replacement {short_hex(r.replacement)} "
        f"({_rate(r.replacement_fee, r.replacement_vsize)}) sent to the miner's node",
        f"mempools after the replacement spread: {_mempools(r.mempools_after_replacement)}",
        f"mined in block {short_hex(r.mined_block)} at height {r.mined_height}",
        _tips(r.final_tips),
    ]


def _private_chain(r: PrivateChainResult) -> list[str]:
    return [
        f"51% attack: a private chain from height {r.fork_height}",
        f"merchant, public chain at height {r.public_height}: {r.merchant_before.describe()}",
        f"attacker's private chain reached height {r.attacker_height}; linked again, the "
        f"public nodes reorganised {r.reorg_depth} blocks deep",
        f"merchant after the reorg: {r.merchant_after.describe()}",
        _tips(r.final_tips),
        f"confirmations needed against an attacker with hash share q ({r.simulation_runs} "
        f"seeded races per cell, seed {r.simulation_seed}):",
        "  simulated: the race model under the paper's timing (the merchant's blocks take "
        "their expected time); random timing: every block comes at random, its exact P and "
        "the z it needs (Rosenfeld 2014)",
    ]


def _partition(r: PartitionResult) -> list[str]:
    lines = [f"Partition and heal: split at height {r.fork_height}"]
    for half in r.halves:
        lines.append(
            f"  {' and '.join(half.nodes)} mined {half.blocks_mined} blocks: "
            f"tip {short_hex(half.tip)} at height {half.height}"
        )
    lines += [f"healed: {_tips(r.final_tips)}", _utxo(r.utxo)]
    return lines


def narrate(result: ScenarioResult) -> tuple[str, ...]:
    """The story of `result`, one line per step, ending with the run time."""
    if isinstance(result, MiningRaceResult):
        lines = _mining_race(result)
    elif isinstance(result, RaceAttackResult):
        lines = _race_attack(result)
    elif isinstance(result, ReplaceByFeeResult):
        lines = _replace_by_fee(result)
    elif isinstance(result, PrivateChainResult):
        lines = _private_chain(result)
    else:
        lines = _partition(result)
    return (*lines, f"({result.elapsed_s:.1f} s)")


def _estimate(e: RaceEstimate) -> str:
    return f"{e.probability:.4f} ({e.successes}/{e.runs})"


def hash_share_cells(rows: Sequence[HashShareRow]) -> tuple[tuple[str, ...], ...]:
    """HASH_SHARE_HEADER, then one row per attacker share."""
    body = tuple(
        (
            f"{row.q:.2f}",
            str(row.z),
            f"{row.nakamoto:.7f}",
            _estimate(row.simulated),
            _estimate(row.random_timing),
            f"{row.exact:.7f}",
            str(row.z_random_timing),
        )
        for row in rows
    )
    return (HASH_SHARE_HEADER, *body)
