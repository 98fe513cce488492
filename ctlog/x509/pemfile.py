"""PEM certificate files: read a chain or a root bundle, write a chain.

The only part of `ctlog.x509` that touches the disk; the CLI, the server's configuration
and the dev PKI share it. Parsing is `ctlog.x509.pem_to_ders`, strict.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

from ctlog.errors import InputError, UsageError
from ctlog.x509._certs import RootSet
from ctlog.x509._pem import ders_to_pem, pem_to_ders


def read_pem_chain(path: str | PathLike[str]) -> list[bytes]:
    """The CERTIFICATE blocks of the PEM file at `path`, in order, as DER."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return pem_to_ders(data)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def write_pem_chain(path: str | PathLike[str], ders: Sequence[bytes]) -> None:
    """Write `ders` as CERTIFICATE blocks, leaf first."""
    try:
        with open(path, "wb") as f:
            f.write(ders_to_pem(ders))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def load_roots(path: str | PathLike[str]) -> RootSet:
    """A log's accepted roots from a PEM bundle file."""
    return RootSet.from_ders(read_pem_chain(path))


__all__ = ["load_roots", "read_pem_chain", "write_pem_chain"]
