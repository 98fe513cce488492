"""What the chainstate reports: tip changes, waiting blocks, chain tips and UTXO statistics."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from btcnode.consensus.block import Block
from btcnode.consensus.errors import BlockValidationError
from btcnode.consensus.hashes import hash256_hex


@dataclass(frozen=True, slots=True)
class InvalidBlock:
    """A block found invalid while activating the best chain, with the rule it broke."""

    hash: bytes
    height: int
    error: BlockValidationError

    @property
    def reject_reason(self) -> str:
        return self.error.reject_reason


@dataclass(frozen=True, slots=True)
class ChainUpdate:
    """The net change of the active chain made by one call.

    `disconnected` runs from the old tip down (tip first); `connected` from just above the
    fork point up to the new tip. Blocks disconnected and connected again within the call
    appear in neither. `invalid` lists the blocks that failed to connect during the call
    (each marked failed, its descendants too); the chain then fell back to the best valid one.
    """

    disconnected: tuple[Block, ...]
    connected: tuple[Block, ...]
    tip_hash: bytes
    tip_height: int
    invalid: tuple[InvalidBlock, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.disconnected or self.connected)

    def rejection(self, block_hash: bytes) -> BlockValidationError | None:
        """The error `block_hash` failed with during this call, if it did."""
        for item in self.invalid:
            if item.hash == block_hash:
                return item.error
        return None

    def __repr__(self) -> str:
        return (
            f"<ChainUpdate -{len(self.disconnected)} +{len(self.connected)} "
            f"tip={hash256_hex(self.tip_hash)[:16]}@{self.tip_height} invalid={len(self.invalid)}>"
        )


class BlockOutcome(enum.Enum):
    """A processed block that did not reach block validation yet."""

    ORPHAN = "orphan"  # its parent is unknown; it waits in the orphan pool for the parent


class TipStatus(enum.Enum):
    """Core's getchaintips statuses."""

    ACTIVE = "active"  # the tip of the active chain
    VALID_FORK = "valid-fork"  # fully validated, not on the active chain
    VALID_HEADERS = "valid-headers"  # all blocks stored, not all validated
    HEADERS_ONLY = "headers-only"  # some block of the branch was never received
    INVALID = "invalid"  # the branch contains an invalid block


@dataclass(frozen=True, slots=True)
class ChainTip:
    """A block without children in the index (Core's getchaintips entry)."""

    hash: bytes
    height: int
    branch_len: int  # blocks between the tip and the active chain (0 for the active tip)
    status: TipStatus


@dataclass(frozen=True, slots=True)
class UtxoStats:
    """A summary of the UTXO set at one tip, for consistency checks.

    `utxo_hash` is SHA-256 over every coin in (txid, index) order, each serialized as
    outpoint (36 bytes) | uint32 (height * 2 + is_coinbase) | output (value, script).
    """

    tip_hash: bytes
    tip_height: int
    coins: int
    total_amount: int
    utxo_hash: bytes
