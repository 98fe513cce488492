"""The block subsidy and the BIP34 coinbase height prefix."""

from __future__ import annotations

from btcnode.consensus.params import COIN, ChainParams
from btcnode.consensus.script.ops import push_int

INITIAL_SUBSIDY = 50 * COIN


def block_subsidy(height: int, params: ChainParams) -> int:
    """Core's GetBlockSubsidy: 50 BTC halved every `subsidy_halving_interval` blocks."""
    halvings = height // params.subsidy_halving_interval
    if halvings >= 64:  # a shift by 64 or more is undefined in C++; Core returns 0
        return 0
    return INITIAL_SUBSIDY >> halvings


def coinbase_height_prefix(height: int) -> bytes:
    """`CScript() << height`, which BIP34 requires a coinbase scriptSig to start with.

    Heights 1-16 are the single opcodes OP_1..OP_16, as Core encodes them.
    """
    return push_int(height)
