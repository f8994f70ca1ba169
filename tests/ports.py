"""
Ports for the servers the tests start (the daemon, PostgreSQL, MySQL,
slapd, Kamailio).

A port asked of the kernel with C{bind(0)} comes from its ephemeral range,
where any client socket opened meanwhile (curl, psycopg, a phone's) may take
it before the server it was chosen for binds it.  So ports are drawn below
that range, free for both TCP and UDP when drawn, and never handed out
twice by one test process.
"""

from __future__ import annotations

import random
import socket

__all__ = ["freePort"]

_given: set[int] = set()


def _ephemeralStart() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int, host: str) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        try:
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind((host, port))
        except OSError:
            return False
    return True


def freePort(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """
    A port free for both TCP and UDP on C{host} right now, outside the
    kernel's ephemeral range, not handed out before by this process.
    C{kind} is accepted for the callers that name the one they will use.
    """
    top = _ephemeralStart() - 1
    low = 10000
    if top - low < 1000:
        raise RuntimeError(f"the ephemeral port range starts at {top + 1}: no room below it for test servers")
    while True:
        port = random.randint(low, top)
        if port not in _given and _bindable(port, host):
            _given.add(port)
            return port
