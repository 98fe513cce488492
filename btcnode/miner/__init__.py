"""Block assembly and mining: templates ordered by ancestor fee rate, coinbase, CPU miner."""

from btcnode.miner.assemble import assemble_block, create_coinbase, solve_block

__all__ = ["assemble_block", "create_coinbase", "solve_block"]
