"""Chain parameters as frozen values passed in (no global `SelectParams`).

`REGTEST` is identical to Bitcoin Core's regtest (genesis 0f9188f1…2206, bits 0x207fffff,
no retargeting, halving every 150 blocks, BIP34/65/66/CSV from height 1 and segwit from
genesis); `MAINNET` carries mainnet's header rules (retargeting every 2016 blocks with the
1/4 to 4x clamp) so real mainnet headers and blocks can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from btcnode.consensus.block import Block, BlockHeader, merkle_root
from btcnode.consensus.tx import NULL_INDEX, NULL_TXID, SEQUENCE_FINAL, OutPoint, Tx, TxIn, TxOut

COIN = 100_000_000  # satoshis per bitcoin
MAX_MONEY = 21_000_000 * COIN  # Core's amount.h: a sanity bound, not the real supply

_GENESIS_TIMESTAMP = b"The Times 03/Jan/2009 Chancellor on brink of second bailout for banks"
_GENESIS_PUBKEY = bytes.fromhex(
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb6"
    "49f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
)


def genesis_block(time: int, nonce: int, bits: int, version: int = 1) -> Block:
    """Core's CreateGenesisBlock with the Times headline and Satoshi's output key."""
    # scriptSig: CScript() << 486604799 << CScriptNum(4) << headline
    script_sig = (
        b"\x04\xff\xff\x00\x1d"
        + b"\x01\x04"
        + bytes((len(_GENESIS_TIMESTAMP),))
        + _GENESIS_TIMESTAMP
    )
    script_pubkey = bytes((len(_GENESIS_PUBKEY),)) + _GENESIS_PUBKEY + b"\xac"
    coinbase = Tx(
        version=1,
        vin=(TxIn(OutPoint(NULL_TXID, NULL_INDEX), script_sig, SEQUENCE_FINAL),),
        vout=(TxOut(50 * COIN, script_pubkey),),
        lock_time=0,
    )
    root, _ = merkle_root([coinbase.txid])
    header = BlockHeader(version, bytes(32), root, time, bits, nonce)
    return Block(header, (coinbase,))


@dataclass(frozen=True, slots=True)
class ChainParams:
    name: str
    genesis: Block
    pow_limit: int
    pow_target_timespan: int  # seconds per retarget window
    pow_target_spacing: int  # seconds per block
    pow_allow_min_difficulty_blocks: bool
    pow_no_retargeting: bool
    subsidy_halving_interval: int
    bip34_height: int
    bip65_height: int
    bip66_height: int
    csv_height: int
    segwit_height: int
    coinbase_maturity: int
    max_future_block_time: int  # seconds a header's time may run ahead of adjusted time
    message_start: bytes
    default_port: int
    rpc_port: int
    bech32_hrp: str
    base58_pubkey_prefix: int
    base58_script_prefix: int
    base58_secret_prefix: int
    bip32_public_version: int
    bip32_private_version: int
    bip44_coin_type: int

    @property
    def genesis_hash(self) -> bytes:
        return self.genesis.header.hash

    @property
    def difficulty_adjustment_interval(self) -> int:
        return self.pow_target_timespan // self.pow_target_spacing


REGTEST = ChainParams(
    name="regtest",
    genesis=genesis_block(time=1296688602, nonce=2, bits=0x207FFFFF),
    pow_limit=0x7FFFFF << 232,
    pow_target_timespan=14 * 24 * 60 * 60,
    pow_target_spacing=10 * 60,
    pow_allow_min_difficulty_blocks=True,
    pow_no_retargeting=True,
    subsidy_halving_interval=150,
    bip34_height=1,
    bip65_height=1,
    bip66_height=1,
    csv_height=1,
    segwit_height=0,
    coinbase_maturity=100,
    max_future_block_time=2 * 60 * 60,
    message_start=bytes.fromhex("fabfb5da"),
    default_port=18444,
    rpc_port=18443,
    bech32_hrp="bcrt",
    base58_pubkey_prefix=111,
    base58_script_prefix=196,
    base58_secret_prefix=239,
    bip32_public_version=0x043587CF,
    bip32_private_version=0x04358394,
    bip44_coin_type=1,
)

MAINNET = ChainParams(
    name="mainnet",
    genesis=genesis_block(time=1231006505, nonce=2083236893, bits=0x1D00FFFF),
    pow_limit=0xFFFF << 208,
    pow_target_timespan=14 * 24 * 60 * 60,
    pow_target_spacing=10 * 60,
    pow_allow_min_difficulty_blocks=False,
    pow_no_retargeting=False,
    subsidy_halving_interval=210_000,
    bip34_height=227_931,
    bip65_height=388_381,
    bip66_height=363_725,
    csv_height=419_328,
    segwit_height=481_824,
    coinbase_maturity=100,
    max_future_block_time=2 * 60 * 60,
    message_start=bytes.fromhex("f9beb4d9"),
    default_port=8333,
    rpc_port=8332,
    bech32_hrp="bc",
    base58_pubkey_prefix=0,
    base58_script_prefix=5,
    base58_secret_prefix=128,
    bip32_public_version=0x0488B21E,
    bip32_private_version=0x0488ADE4,
    bip44_coin_type=0,
)

NETWORKS = {params.name: params for params in (REGTEST, MAINNET)}
