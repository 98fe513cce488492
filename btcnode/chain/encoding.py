"""Compact encodings of coins and undo data, as Bitcoin Core's chainstate and rev files use.

- `VARINT` is Core's serialize.h base-128 encoding with the "+1 per continuation" offset, so
  every value has exactly one encoding; reads are bounded to 64 bits.
- Amounts are stored compressed (Core's CompressAmount: trailing decimal zeros folded).
- Scripts are stored compressed for the common templates (Core's compressor.cpp): P2PKH as
  0x00 + key hash, P2SH as 0x01 + script hash, compressed-key P2PK as 0x02/0x03 + x; every
  other script as VARINT(len + 6) + script. Uncompressed-key P2PK (Core's types 4 and 5) is
  stored verbatim: decompressing it needs curve arithmetic on every read.
- A coin is VARINT(height * 2 + is_coinbase) + VARINT(compressed amount) + script.
- Undo data of a block (Core's CBlockUndo) is one CTxUndo per non-coinbase transaction, each
  the coins its inputs spent, in input order; a coin is written as Core's TxInUndoFormatter
  writes it (with the dummy version byte after a non-zero height).

Every decoder bounds what it reads and refuses trailing bytes; a decode failure means the
store is corrupt (`CorruptChainstate`), never bad input from a peer.
"""

from __future__ import annotations

from collections.abc import Sequence

from btcnode.consensus.coins import Coin
from btcnode.consensus.errors import ChainError, SerializationError
from btcnode.consensus.serialize import ByteReader, ser_compact_size
from btcnode.consensus.tx import TxOut

MAX_U64 = (1 << 64) - 1
# Core's compressor.h: scripts with no special form are written with their size plus this.
SPECIAL_SCRIPT_COUNT = 6
MAX_SCRIPT_BYTES = 10_000  # Core's MAX_SCRIPT_SIZE; a stored coin never holds a larger script
MAX_UNDO_COINS = 1 << 20  # more spent coins than any 4 MB block can hold; bounds the decoder

_P2PKH_HEAD, _P2PKH_TAIL = b"\x76\xa9\x14", b"\x88\xac"
_P2SH_HEAD, _P2SH_TAIL = b"\xa9\x14", b"\x87"


class CorruptChainstate(ChainError):
    """Stored chain data does not decode or contradicts itself: the database is damaged."""


# -- VARINT (Core's serialize.h, VarIntMode::DEFAULT) -----------------------------------------

_ONE_BYTE = [bytes((i,)) for i in range(0x80)]  # the common case, without building anything


_TWO_BYTES_END = 0x4080  # values below take at most two bytes
_THREE_BYTES_END = 0x204080  # ... at most three: heights and most compressed amounts


def ser_varint(n: int) -> bytes:
    """Core's WriteVarInt of a value in [0, 2**64)."""
    if 0 <= n < 0x80:
        return _ONE_BYTE[n]
    # The general loop below, unrolled for the lengths coins and undo data are made of.
    if 0 <= n < _TWO_BYTES_END:
        return bytes((((n >> 7) - 1) | 0x80, n & 0x7F))
    if 0 <= n < _THREE_BYTES_END:
        high = (n >> 7) - 1
        return bytes((((high >> 7) - 1) | 0x80, (high & 0x7F) | 0x80, n & 0x7F))
    if not 0 <= n <= MAX_U64:
        raise ValueError(f"VARINT value out of range: {n}")
    out = bytearray((n & 0x7F,))
    while n > 0x7F:
        n = (n >> 7) - 1
        out.append((n & 0x7F) | 0x80)
    out.reverse()
    return bytes(out)


def varint_at(buf: bytes, pos: int) -> tuple[int, int]:
    """Core's ReadVarInt at `pos`, refusing values past 64 bits: (value, next position)."""
    n = 0
    while True:
        if pos >= len(buf):
            raise SerializationError(f"truncated VARINT at offset {pos}")
        byte = buf[pos]
        pos += 1
        if n > MAX_U64 >> 7:
            raise SerializationError("ReadVarInt(): size too large")
        n = (n << 7) | (byte & 0x7F)
        if byte < 0x80:
            return n, pos
        if n == MAX_U64:
            raise SerializationError("ReadVarInt(): size too large")
        n += 1


def read_varint(reader: ByteReader) -> int:
    value, reader.pos = varint_at(reader.buf, reader.pos)
    return value


def _take(buf: bytes, pos: int, size: int) -> tuple[bytes, int]:
    end = pos + size
    if end > len(buf):
        raise SerializationError(f"truncated: wanted {size} bytes at offset {pos}")
    return buf[pos:end], end


# -- amounts and scripts (Core's compressor.cpp) ----------------------------------------------


def compress_amount(n: int) -> int:
    """Core's CompressAmount: fold up to nine trailing decimal zeros into the low digit."""
    if not 0 <= n <= MAX_U64:
        raise ValueError(f"amount out of range for compression: {n}")
    if n == 0:
        return 0
    e = 0
    while n % 10 == 0 and e < 9:
        n //= 10
        e += 1
    if e < 9:
        d = n % 10
        n //= 10
        return 1 + (n * 9 + d - 1) * 10 + e
    return 1 + (n - 1) * 10 + 9


def decompress_amount(x: int) -> int:
    """Core's DecompressAmount, the inverse of `compress_amount`."""
    if x == 0:
        return 0
    x -= 1
    e = x % 10
    x //= 10
    if e < 9:
        d = x % 9 + 1
        x //= 9
        n = x * 10 + d
    else:
        n = x + 1
    return n * 10**e


def compress_script(script: bytes) -> bytes:
    """The compressed form of `script` (see the module docstring)."""
    size = len(script)
    if size == 25 and script[:3] == _P2PKH_HEAD and script[23:] == _P2PKH_TAIL:
        return b"\x00" + script[3:23]
    if size == 23 and script[:2] == _P2SH_HEAD and script[22:] == _P2SH_TAIL:
        return b"\x01" + script[2:22]
    if size == 35 and script[0] == 33 and script[1] in (2, 3) and script[34] == 0xAC:
        return script[1:34]
    return ser_varint(size + SPECIAL_SCRIPT_COUNT) + script


def compressed_script_at(buf: bytes, pos: int) -> tuple[bytes, int]:
    kind, pos = varint_at(buf, pos)
    if kind == 0:
        key_hash, pos = _take(buf, pos, 20)
        return _P2PKH_HEAD + key_hash + _P2PKH_TAIL, pos
    if kind == 1:
        script_hash, pos = _take(buf, pos, 20)
        return _P2SH_HEAD + script_hash + _P2SH_TAIL, pos
    if kind in (2, 3):
        x, pos = _take(buf, pos, 32)
        return b"\x21" + bytes((kind,)) + x + b"\xac", pos
    if kind < SPECIAL_SCRIPT_COUNT:
        raise SerializationError(f"compressed script type {kind} is not written by this node")
    size = kind - SPECIAL_SCRIPT_COUNT
    if size > MAX_SCRIPT_BYTES:
        raise SerializationError(f"stored script of {size} bytes exceeds {MAX_SCRIPT_BYTES}")
    return _take(buf, pos, size)


def read_compressed_script(reader: ByteReader) -> bytes:
    script, reader.pos = compressed_script_at(reader.buf, reader.pos)
    return script


def ser_txout_compressed(out: TxOut) -> bytes:
    return ser_varint(compress_amount(out.value)) + compress_script(out.script_pubkey)


def txout_compressed_at(buf: bytes, pos: int) -> tuple[TxOut, int]:
    amount, pos = varint_at(buf, pos)
    script, pos = compressed_script_at(buf, pos)
    return TxOut(decompress_amount(amount), script), pos


# -- coins and undo data ----------------------------------------------------------------------


def _coin_code(coin: Coin) -> int:
    return coin.height * 2 + int(coin.is_coinbase)


def encode_coin(coin: Coin) -> bytes:
    """A coin as stored under its outpoint key (Core's Coin::Serialize)."""
    out = coin.out  # ser_txout_compressed, inline: a flush encodes every new coin
    return (
        ser_varint(_coin_code(coin))
        + ser_varint(compress_amount(out.value))
        + compress_script(out.script_pubkey)
    )


def decode_coin(buf: bytes) -> Coin:
    """The inverse of `encode_coin`; raises `CorruptChainstate` on any malformation."""
    try:
        code, pos = varint_at(buf, 0)
        out, pos = txout_compressed_at(buf, pos)
    except SerializationError as exc:
        raise CorruptChainstate(f"stored coin does not decode: {exc}") from exc
    if pos != len(buf):
        raise CorruptChainstate(f"stored coin has {len(buf) - pos} trailing bytes")
    return Coin(out, code >> 1, bool(code & 1))


def _ser_undo_coin(coin: Coin) -> bytes:
    head = ser_varint(_coin_code(coin))
    if coin.height > 0:
        head += b"\x00"  # Core's TxInUndoFormatter: a dummy version for old readers
    return head + ser_txout_compressed(coin.out)


def _read_undo_coin(reader: ByteReader) -> Coin:
    code = read_varint(reader)
    if code >> 1 > 0:
        read_varint(reader)  # the dummy version
    out, reader.pos = txout_compressed_at(reader.buf, reader.pos)
    return Coin(out, code >> 1, bool(code & 1))


BlockUndo = tuple[tuple[Coin, ...], ...]
"""Spent coins per non-coinbase transaction of a block, in input order (Core's CBlockUndo)."""


def encode_block_undo(undo: Sequence[Sequence[Coin]]) -> bytes:
    parts = [ser_compact_size(len(undo))]
    for tx_undo in undo:
        parts.append(ser_compact_size(len(tx_undo)))
        parts.extend(_ser_undo_coin(coin) for coin in tx_undo)
    return b"".join(parts)


def decode_block_undo(buf: bytes) -> BlockUndo:
    """The inverse of `encode_block_undo`; raises `CorruptChainstate` on any malformation."""
    try:
        reader = ByteReader(buf)
        out = []
        for _ in range(reader.read_compact_size(MAX_UNDO_COINS)):
            count = reader.read_compact_size(MAX_UNDO_COINS)
            out.append(tuple(_read_undo_coin(reader) for _ in range(count)))
        reader.finish()
    except SerializationError as exc:
        raise CorruptChainstate(f"stored undo data does not decode: {exc}") from exc
    return tuple(out)
