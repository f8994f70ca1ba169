# -*- test-case-name: tests.test_store_pbx -*-
"""
The values of the PBX account sync state (DESIGN §2, §8) that the stores
hand out, and the checks of what they are given.  Pure.

Every line of every device has an account version (C{account_lines}),
moved by every write that changes what a PBX receives of it
(L{snomprov.store.writes.PBX_FIELDS}) and by its removal, which leaves a
tombstone.  Each sink has, per line, the version it last applied
(C{account_sync}); a line whose version is above it is pending for that
sink.  A tombstone every sink has applied can be pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from snomprov.device import Line
from snomprov.store.checks import checkLimit, checkMAC
from snomprov.store.errors import StoreError

__all__ = ["PendingAccount", "LineSyncState", "checkSink", "checkSinks", "checkApplied", "checkKeys"]


@dataclass(frozen=True)
class PendingAccount:
    """
    One line a sink has not applied at its current version.

    @ivar line: the line as stored now, or C{None} for a tombstone.
    @ivar appliedUsername: the user name the sink last applied for the
        line, or C{None}.
    """

    mac: str
    index: int
    version: int
    deleted: bool
    line: Line | None
    appliedUsername: str | None = None


@dataclass(frozen=True)
class LineSyncState:
    """
    One line's state for one sink.

    @ivar version: the line's current account version.
    @ivar appliedVersion: the version the sink applied last (0: none).
    @ivar lastError: the last failure's message (no secret), or C{None}.
    @ivar nextTry: POSIX time of the next attempt after a failure, or C{None}.
    """

    sink: str
    index: int
    version: int
    deleted: bool
    appliedVersion: int = 0
    lastError: str | None = None
    nextTry: float | None = None
    tries: int = 0

    @property
    def inSync(self) -> bool:
        return self.appliedVersion >= self.version


def checkSink(sink: str) -> str:
    """
    @raise StoreError: for a sink name that is not a non-empty string.
    """
    if not isinstance(sink, str) or not sink:
        raise StoreError(f"bad sink name {sink!r}")
    return sink


def checkSinks(sinks: Iterable[str]) -> tuple[str, ...]:
    if isinstance(sinks, str):
        raise StoreError("sinks must be names, not one string")
    return tuple(dict.fromkeys(checkSink(sink) for sink in sinks))


def _checkIndex(index: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or index < 1:
        raise StoreError(f"bad line index {index!r}")
    return index


def checkApplied(rows: Iterable[tuple[str, int, int, str | None]]) -> list[tuple[str, int, int, str | None]]:
    """
    C{markApplied} rows: C{(mac, index, version, username or None)}.
    """
    checked = []
    for mac, index, version, username in rows:
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise StoreError(f"bad account version {version!r} for {mac}")
        if username is not None and not isinstance(username, str):
            raise StoreError(f"bad user name {username!r} for {mac}")
        checked.append((checkMAC(mac), _checkIndex(index), version, username))
    return checked


def checkKeys(keys: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """
    C{markFailed} keys: C{(mac, index)}.
    """
    return list(dict.fromkeys((checkMAC(mac), _checkIndex(index)) for mac, index in keys))


def checkPendingLimit(limit: int) -> int:
    return checkLimit(limit)
