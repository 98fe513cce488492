"""ctlog: a Certificate Transparency log (RFC 6962 and static-ct), its clients and auditors.

Layers, bottom up: `merkle` (hashing, proofs, verification, the persisted tree), the TLS wire
types and keys (`tls`, `keys`, `sth`, `leaf`, `sct`, `x509`), signed notes and checkpoints
(`note`), the replicated log (`log`, `server`), and the client side (`client`, `monitor`,
`auditor`, `witness`). Every verification function is pure and raises a `VerificationError`
that carries its evidence.
"""

__all__: list[str] = []
