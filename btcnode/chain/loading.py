"""Creating a chainstate in an empty store, and loading one back.

A new store gets, in one synced batch: the schema version, the genesis block, its index
record (fully valid, data stored) and the tip pointing at it. The genesis outputs are not
added to the UTXO set (Core never connects the genesis coinbase).

Loading reads every index record, rebuilds the tree in height order (summing chain work),
recomputes which nodes have their whole chain stored, and sets the active chain to the
stored tip. Anything inconsistent raises `CorruptChainstate`; a store made for other chain
parameters raises `ChainMisuse`.
"""

from __future__ import annotations

from btcnode.chain.active import ActiveChain
from btcnode.chain.blockstore import serialize_block
from btcnode.chain.encoding import CorruptChainstate
from btcnode.chain.index import (
    VALIDITY_MASK,
    BlockIndex,
    BlockNode,
    StatusFlag,
    Validity,
)
from btcnode.chain.layout import (
    INDEX_PREFIX,
    SCHEMA_VERSION,
    TIP_KEY,
    VERSION_KEY,
    IndexRecord,
    block_key,
    decode_tip,
    decode_version,
    encode_version,
    index_key,
)
from btcnode.consensus.errors import ChainMisuse
from btcnode.consensus.hashes import hash256_hex
from btcnode.consensus.params import ChainParams
from common.store.api import Store, WriteBatch

GENESIS_SEQUENCE_ID = 1
_KNOWN_VALIDITY = {int(level) for level in Validity}


def initialise(store: Store, params: ChainParams) -> None:
    """Write the genesis block as the tip of a new chainstate."""
    genesis = params.genesis
    status = int(Validity.SCRIPTS) | StatusFlag.HAVE_DATA
    record = IndexRecord(genesis.header, 0, status, GENESIS_SEQUENCE_ID)
    batch = WriteBatch()
    batch.put(block_key(genesis.hash), serialize_block(genesis)[0])
    batch.put(index_key(genesis.hash), record.encode())
    batch.put(TIP_KEY, genesis.hash)
    batch.put(VERSION_KEY, encode_version())
    store.write(batch, sync=True)


def load(store: Store, params: ChainParams) -> tuple[BlockIndex, ActiveChain]:
    """The block index and active chain stored in `store` (created first if empty)."""
    version = store.get(VERSION_KEY)
    if version is None:
        initialise(store, params)
    elif decode_version(version) != SCHEMA_VERSION:
        raise CorruptChainstate(f"schema version {decode_version(version)} is not supported")
    records = sorted(_read_records(store), key=lambda record: record.height)
    index = _build_index(records, params)
    raw_tip = store.get(TIP_KEY)
    if raw_tip is None:
        raise CorruptChainstate("the store has a block index but no tip")
    tip = index.get(decode_tip(raw_tip))
    if tip is None or not tip.have_chain:
        raise CorruptChainstate(f"tip {hash256_hex(raw_tip)} is not a stored, indexed block")
    active = ActiveChain(index.genesis)
    active.set_tip(tip)
    return index, active


def _read_records(store: Store) -> list[IndexRecord]:
    records = []
    for key, raw in store.iterate(prefix=INDEX_PREFIX):
        record = IndexRecord.decode(key, raw)
        if record.status & VALIDITY_MASK not in _KNOWN_VALIDITY:
            raise CorruptChainstate(f"index record {key.hex()} has status {record.status:#x}")
        records.append(record)
    return records


def _build_index(records: list[IndexRecord], params: ChainParams) -> BlockIndex:
    if not records or records[0].height != 0:
        raise CorruptChainstate("the block index has no genesis record")
    first = records[0]
    if first.header != params.genesis.header:
        raise ChainMisuse(
            f"the store holds a chain with genesis {first.header.hash_hex}, "
            f"not {params.name}'s {params.genesis.header.hash_hex}"
        )
    genesis = BlockNode(first.header, None, first.status, first.sequence_id)
    genesis.have_chain = genesis.has(StatusFlag.HAVE_DATA)
    index = BlockIndex(genesis)
    for record in records[1:]:
        if index.get(record.header.prev_block) is None:
            raise CorruptChainstate(f"index record {record.header.hash_hex} has no parent")
        node = index.add(record.header, record.status, record.sequence_id)
        if node.height != record.height:
            raise CorruptChainstate(f"{node} was stored with height {record.height}")
        assert node.parent is not None
        node.have_chain = node.has(StatusFlag.HAVE_DATA) and node.parent.have_chain
    index.recompute_best_header()
    return index
