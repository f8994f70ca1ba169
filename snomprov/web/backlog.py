# -*- test-case-name: tests.test_web_backlog -*-
"""
The listen backlog of the HTTP listeners: C{[http] backlog} written into
each endpoint description that takes one and does not set its own.

Twisted's descriptions default to a backlog of 50 connections waiting to
be accepted; in a boot storm thousands of phones connect within seconds,
and past the backlog the kernel drops their SYNs (the phone's next try
comes a second later, then three...).
"""

from __future__ import annotations

import re

__all__ = ["BACKLOG_TYPES", "withBacklog"]

BACKLOG_TYPES = frozenset({"tcp", "tcp6", "ssl", "unix"})
"""
The endpoint types whose descriptions take C{backlog=}; others (C{systemd:},
whose socket is already listening, and plugins') are left as they are.
"""

_SETS_BACKLOG = re.compile(r"(?:^|(?<!\\):)backlog=")


def withBacklog(description: str, backlog: int) -> str:
    """
    C{description} with C{:backlog=<backlog>} added when its type takes a
    backlog and it sets none.
    """
    kind = description.partition(":")[0].strip().lower()
    if kind not in BACKLOG_TYPES or _SETS_BACKLOG.search(description):
        return description
    return f"{description}:backlog={backlog}"
