"""Free TCP ports for processes started on this machine (the cluster's internal services, tests).

A port the kernel hands out for `bind(0)` comes from the ephemeral range, the same range outgoing
connections take their local ports from: between choosing it and the server binding it, a client
connection (to PostgreSQL, Redis, RabbitMQ...) can take it, and the server fails with "address already
in use". Ports are therefore chosen below that range, at random, and never twice in one process."""
from __future__ import annotations

import random
import socket
from pathlib import Path

_LOW = 10000
_given: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nobody listens on, outside the ephemeral range, not handed out before by this process."""
    high = _ephemeral_start() - 1
    for _ in range(1000):
        port = random.randint(_LOW, high)
        if port not in _given and _bindable(port):
            _given.add(port)
            return port
    raise RuntimeError(f"no free port between {_LOW} and {high}")
