# -*- test-case-name: tests.test_store_changes -*-
"""
The change feed's pieces every backend shares (DESIGN §2): how many change
rows are kept, which devices a scope covers, and the listeners a store tells
of its own committed changes.

A change is one scope (C{site}, C{vendor:V}, C{model:M}, C{device:MAC})
recorded with a sequence number each time a write moves the settings
version.  A reader remembers the last sequence number it saw and asks
C{changesAfter(seq)} for the scopes changed since; when C{seq} is older
than the oldest row kept (the feed is bounded), the answer is C{None}:
start again from nothing.
"""

from __future__ import annotations

from typing import Callable

from twisted.logger import Logger

from snomprov.device import DeviceInfo

__all__ = ["CHANGES_KEPT", "ChangeListeners", "covers"]

CHANGES_KEPT = 10_000
"""
How many of the newest change rows a store keeps.
"""

_log = Logger()


def covers(scope: str, device: DeviceInfo) -> bool:
    """
    Whether a layer of C{scope} applies to C{device} as stored (its vendor
    and model as registered): the safe guess of whose files a layer write
    changes, when the writer does not say.
    """
    if scope == "site":
        return True
    kind, _, name = scope.partition(":")
    if kind == "vendor":
        return device.vendor == name
    if kind == "model":
        return device.model == name
    return kind == "device" and device.mac == name


Listener = Callable[[frozenset[str] | None], None]


class ChangeListeners:
    """
    The functions a store calls, after a write commits, with the
    C{frozenset} of scopes it changed (C{None}, from a pushed feed that
    fell too far behind: everything may have changed).  A listener that
    raises is logged and does not stop the others (nor fail the write).
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def tell(self, scopes: frozenset[str] | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(scopes)
            except Exception:
                _log.failure("A change listener failed")
