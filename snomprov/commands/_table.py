"""
Aligned text tables for the commands' listings.
"""

from __future__ import annotations

import time
from typing import Sequence

__all__ = ["formatAccounts", "formatRows", "formatTime"]


def formatRows(rows: Sequence[Sequence[str]]) -> str:
    """
    Rows (the first being the header) as aligned columns, one line each.
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)


def formatTime(when: float | None) -> str:
    """
    A POSIX time as local C{YYYY-MM-DD HH:MM:SS}, or C{-}.
    """
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when)) if when else "-"


def formatAccounts(accounts, timeHeading: str) -> str:
    """
    Operators or tokens (C{name}, C{role}, C{created}) as a table, the time
    column headed C{timeHeading}.
    """
    rows = [("NAME", "ROLE", timeHeading)]
    rows += [(a.name, a.role, formatTime(a.created)) for a in accounts]
    return formatRows(rows)
