"""Benchmarks against peer libraries: `python -m bench NAME` (or `all`).

Each benchmark prints a table and, as its last line,
`RESULT name=NAME ours=<value> peer=<value> ratio=<ours/peer> unit=<unit>`.
"""
