"""
Reading the log file of a server the tests started.
"""

from __future__ import annotations

__all__ = ["readLog"]


def readLog(path: str) -> str:
    """
    A server's log as text so far (undecodable bytes replaced), or C{""}
    before it has one.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""
