"""Bitcoin addresses and WIF keys: Base58Check, bech32/bech32m and output scripts.

Pure: no I/O, no globals. The network is always a `ChainParams` passed in (no
`SelectParams`). `script_for_address` and `address_for_script` are the entry points; the
encodings are in `base58` and `bech32`, WIF keys in `wif`; every refusal is an
`AddressError` whose `problem` says what is wrong.
"""

from btcnode.address.base58 import b58check_decode, b58check_encode, b58decode, b58encode
from btcnode.address.bech32 import (
    Bech32Encoding,
    bech32_decode,
    bech32_encode,
    convert_bits,
    decode_segwit_address,
    encode_segwit_address,
)
from btcnode.address.destination import (
    MAX_ADDRESS_CHARS,
    address_for_script,
    script_for_address,
    witness_script,
)
from btcnode.address.errors import AddressError, AddressProblem
from btcnode.address.wif import WifKey, decode_wif, encode_wif

__all__ = [
    "MAX_ADDRESS_CHARS",
    "AddressError",
    "AddressProblem",
    "Bech32Encoding",
    "WifKey",
    "address_for_script",
    "b58check_decode",
    "b58check_encode",
    "b58decode",
    "b58encode",
    "bech32_decode",
    "bech32_encode",
    "convert_bits",
    "decode_segwit_address",
    "decode_wif",
    "encode_segwit_address",
    "encode_wif",
    "script_for_address",
    "witness_script",
]
