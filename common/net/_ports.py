"""Picking free TCP ports on this machine (tests, benchmarks, local networks)."""

from __future__ import annotations

import socket


def free_tcp_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports that were free a moment ago (the OS may reuse them later)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


__all__ = ["free_tcp_ports"]
