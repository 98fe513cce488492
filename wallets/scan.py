"""Finding a wallet's transactions in a block: outputs paying its scripts, inputs spending
its coins.

This is the hot loop of a rescan, so it does the least a scan can: each transaction is
decoded once by btcnode's decoder (which also hashes it), every output script is looked up
in the wallet's script set and every input's outpoint in its outpoint set; only matching
transactions produce objects. An output of the same block that pays the wallet counts as
watched for the block's later transactions (a payment and its spend in one block).

Pure: no I/O. The caller grows its script set (BIP44 gap limit) and scans again when a
match uses an address near the end of its window (see `wallets.state`).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from btcnode.consensus.block import Block
from btcnode.consensus.tx import OutPoint, Tx

__all__ = ["BlockMatch", "TxMatch", "scan_block", "scan_decoded_block", "scan_tx"]


@dataclass(frozen=True, slots=True)
class TxMatch:
    """A transaction touching the wallet: its position in the block, the indices of the
    outputs paying the wallet and of the inputs spending watched outpoints."""

    tx: Tx
    position: int
    received: tuple[int, ...]
    spent: tuple[int, ...]

    @property
    def received_scripts(self) -> list[bytes]:
        return [self.tx.vout[n].script_pubkey for n in self.received]


@dataclass(frozen=True, slots=True)
class BlockMatch:
    """What a block holds for the wallet, and the header fields a wallet records."""

    block_hash: bytes
    prev_hash: bytes
    time: int
    tx_count: int
    matches: tuple[TxMatch, ...]


def scan_tx(
    tx: Tx, scripts: Container[bytes], outpoints: Container[OutPoint], position: int = 0
) -> TxMatch | None:
    """The match of one transaction, None if it neither pays nor spends the wallet."""
    received = tuple(n for n, out in enumerate(tx.vout) if out.script_pubkey in scripts)
    spent = tuple(n for n, txin in enumerate(tx.vin) if txin.prevout in outpoints)
    if not received and not spent:
        return None
    return TxMatch(tx, position, received, spent)


def scan_block(raw: bytes, scripts: Container[bytes], outpoints: Container[OutPoint]) -> BlockMatch:
    """Every transaction of the serialized block `raw` that pays or spends the wallet."""
    return scan_decoded_block(Block.deserialize(raw), scripts, outpoints)


def scan_decoded_block(
    block: Block, scripts: Container[bytes], outpoints: Container[OutPoint]
) -> BlockMatch:
    """`scan_block` of a block already decoded: a rescan that grows its script set scans
    the same block again without decoding it again (decoding is most of a scan)."""
    matches: list[TxMatch] = []
    created: set[OutPoint] = set()
    for position, tx in enumerate(block.txs):
        received = [n for n, out in enumerate(tx.vout) if out.script_pubkey in scripts]
        spent = [
            n
            for n, txin in enumerate(tx.vin)
            if txin.prevout in outpoints or (created and txin.prevout in created)
        ]
        if received or spent:
            matches.append(TxMatch(tx, position, tuple(received), tuple(spent)))
            txid = tx.txid
            created.update(OutPoint(txid, n) for n in received)
    header = block.header
    return BlockMatch(block.hash, header.prev_block, header.time, len(block.txs), tuple(matches))
