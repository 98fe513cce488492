"""Block headers and blocks: serialization, hashes, merkle roots and the witness commitment.

`merkle_root` returns Core's `mutated` flag (CVE-2012-2459: two identical adjacent hashes at
any level let a different transaction list produce the same root), and the block checks
refuse such a block as `bad-txns-duplicate`. The witness commitment is BIP141's: an
OP_RETURN output of the coinbase holding SHA-256d(witness merkle root || reserved value).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from btcnode.consensus.hashes import hash256_hex, sha256d
from btcnode.consensus.serialize import ByteReader, ser_compact_size
from btcnode.consensus.tx import MIN_TX_BYTES, Tx

HEADER_BYTES = 80
MAX_BLOCK_WEIGHT = 4_000_000  # BIP141
WITNESS_COMMITMENT_HEADER = b"\x6a\x24\xaa\x21\xa9\xed"  # OP_RETURN, push 36, 0xaa21a9ed
MINIMUM_WITNESS_COMMITMENT = 38  # the header above plus 32 bytes of commitment

_HEADER = struct.Struct("<i32s32sIII")


@dataclass(frozen=True, slots=True)
class BlockHeader:
    version: int
    prev_block: bytes  # internal byte order
    merkle_root: bytes
    time: int
    bits: int
    nonce: int
    _hash: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.prev_block) != 32 or len(self.merkle_root) != 32:
            raise ValueError("prev_block and merkle_root are 32 bytes")
        for name in ("time", "bits", "nonce"):
            if not 0 <= getattr(self, name) <= 0xFFFFFFFF:
                raise ValueError(f"{name} out of uint32 range")
        if not -(2**31) <= self.version < 2**31:
            raise ValueError(f"version out of int32 range: {self.version}")

    def serialize(self) -> bytes:
        return _HEADER.pack(
            self.version, self.prev_block, self.merkle_root, self.time, self.bits, self.nonce
        )

    @classmethod
    def deserialize(cls, buf: bytes) -> BlockHeader:
        reader = ByteReader(buf)
        header = cls.read_from(reader)
        reader.finish()
        return header

    @classmethod
    def read_from(cls, reader: ByteReader) -> BlockHeader:
        raw = reader.read(HEADER_BYTES)
        header = cls(*_HEADER.unpack(raw))
        object.__setattr__(header, "_hash", sha256d(raw))
        return header

    @property
    def hash(self) -> bytes:
        """The block hash (internal byte order; `hash_hex` for display)."""
        if self._hash is None:
            object.__setattr__(self, "_hash", sha256d(self.serialize()))
        assert self._hash is not None
        return self._hash

    @property
    def hash_hex(self) -> str:
        return hash256_hex(self.hash)

    def with_nonce(self, nonce: int) -> BlockHeader:
        return BlockHeader(
            self.version, self.prev_block, self.merkle_root, self.time, self.bits, nonce
        )


@dataclass(frozen=True, slots=True)
class Block:
    header: BlockHeader
    txs: tuple[Tx, ...]
    _sizes: tuple[int, int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def hash(self) -> bytes:
        return self.header.hash

    def serialize(self, *, with_witness: bool = True) -> bytes:
        parts = [self.header.serialize(), ser_compact_size(len(self.txs))]
        parts.extend(tx.serialize(with_witness=with_witness) for tx in self.txs)
        return b"".join(parts)

    @classmethod
    def deserialize(cls, buf: bytes) -> Block:
        """Exactly one block; trailing bytes are an error."""
        reader = ByteReader(buf)
        block = cls.read_from(reader)
        reader.finish()
        return block

    @classmethod
    def read_from(cls, reader: ByteReader) -> Block:
        """One block from `reader`, its sizes known from the bytes read."""
        start = reader.pos
        header = BlockHeader.read_from(reader)
        count = reader.read_count(MIN_TX_BYTES)
        txs = tuple(Tx.read_from(reader) for _ in range(count))
        block = cls(header, txs)
        base = HEADER_BYTES + len(ser_compact_size(count)) + sum(tx.base_size for tx in txs)
        object.__setattr__(block, "_sizes", (base, reader.pos - start))
        return block

    def _size_pair(self) -> tuple[int, int]:
        if self._sizes is None:
            head = HEADER_BYTES + len(ser_compact_size(len(self.txs)))
            base = head + sum(tx.base_size for tx in self.txs)
            total = head + sum(tx.total_size for tx in self.txs)
            object.__setattr__(self, "_sizes", (base, total))
        assert self._sizes is not None
        return self._sizes

    @property
    def base_size(self) -> int:
        return self._size_pair()[0]

    @property
    def total_size(self) -> int:
        return self._size_pair()[1]

    @property
    def weight(self) -> int:
        base, total = self._size_pair()
        return base * 3 + total


def merkle_root(hashes: list[bytes]) -> tuple[bytes, bool]:
    """(root, mutated) over `hashes` (Core's ComputeMerkleRoot).

    `mutated` is True when some level has two identical hashes in a pair position, the
    CVE-2012-2459 pattern. An empty list has the all-zero root.
    """
    if not hashes:
        return bytes(32), False
    level = list(hashes)
    mutated = False
    while len(level) > 1:
        for i in range(0, len(level) - 1, 2):
            if level[i] == level[i + 1]:
                mutated = True
        if len(level) & 1:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0], mutated


def block_merkle_root(block: Block) -> tuple[bytes, bool]:
    return merkle_root([tx.txid for tx in block.txs])


def witness_merkle_root(non_coinbase_txs: Sequence[Tx]) -> bytes:
    """The witness root of a block whose transactions after the coinbase are these: their
    wtxids, after the coinbase's, which counts as all zeros (BIP141)."""
    return merkle_root([bytes(32)] + [tx.wtxid for tx in non_coinbase_txs])[0]


def block_witness_merkle_root(block: Block) -> bytes:
    return witness_merkle_root(block.txs[1:])


def witness_commitment_index(block: Block) -> int | None:
    """The index of the last coinbase output carrying a witness commitment (BIP141)."""
    if not block.txs:
        return None
    found = None
    for i, out in enumerate(block.txs[0].vout):
        script = out.script_pubkey
        if len(script) >= MINIMUM_WITNESS_COMMITMENT and script[:6] == WITNESS_COMMITMENT_HEADER:
            found = i
    return found


def witness_commitment(witness_root: bytes, reserved_value: bytes = bytes(32)) -> bytes:
    """SHA-256d(witness root || witness reserved value), the 32 bytes after the header."""
    return sha256d(witness_root + reserved_value)


def witness_commitment_script(commitment: bytes) -> bytes:
    return WITNESS_COMMITMENT_HEADER + commitment
