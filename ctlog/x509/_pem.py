"""PEM (RFC 7468) certificate bundles to DER and back, strictly.

Only `CERTIFICATE` blocks are accepted: a private key or a CSR pasted into a chain or root
bundle is refused rather than skipped. Text outside blocks (comments in bundles) is ignored.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from ctlog.errors import InputError
from ctlog.sth import b64decode_strict

LABEL = "CERTIFICATE"  # RFC 7468 §5
LINE_WIDTH = 64  # RFC 7468 §2: writers wrap base64 at 64 characters


def pem_to_ders(pem: bytes) -> list[bytes]:
    """Every CERTIFICATE block of `pem`, in order, as DER."""
    try:
        text = pem.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("PEM data is not ASCII text") from None
    ders: list[bytes] = []
    label: str | None = None
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line.startswith("-----BEGIN ") and line.endswith("-----"):
            if label is not None:
                raise InputError(f"PEM line {number}: BEGIN inside an open {label} block")
            label, body = line[11:-5], []
            if label != LABEL:
                raise InputError(f"PEM line {number}: a {label} block is not a certificate")
        elif line.startswith("-----END ") and line.endswith("-----"):
            if label is None or line[9:-5] != label:
                raise InputError(f"PEM line {number}: END without a matching BEGIN")
            ders.append(_decode_body(body, len(ders)))
            label = None
        elif label is not None:
            body.append(line)
    if label is not None:
        raise InputError(f"PEM {label} block is not terminated")
    if not ders:
        raise InputError("no PEM CERTIFICATE blocks found")
    return ders


def _decode_body(lines: list[str], index: int) -> bytes:
    der = b64decode_strict("".join(lines), f"PEM certificate {index}")
    if not der:
        raise InputError(f"PEM certificate {index} is empty")
    return der


def ders_to_pem(ders: Sequence[bytes]) -> bytes:
    """CERTIFICATE blocks for each DER, in order."""
    out: list[str] = []
    for der in ders:
        encoded = base64.b64encode(der).decode("ascii")
        out.append(f"-----BEGIN {LABEL}-----")
        out.extend(encoded[i : i + LINE_WIDTH] for i in range(0, len(encoded), LINE_WIDTH))
        out.append(f"-----END {LABEL}-----")
    return ("\n".join(out) + "\n").encode("ascii")


__all__ = ["ders_to_pem", "pem_to_ders"]
