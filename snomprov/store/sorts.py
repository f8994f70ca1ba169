# -*- test-case-name: tests.test_store_sorts -*-
"""
The orders a page of devices can be read in, written once for every
backend: each sort's key of a device (what the memory store sorts by and
what a keyset cursor holds) and the same key as an SQL expression.  The
MAC breaks ties, always ascending, so that an order is total and a cursor
C{(key, MAC)} names one place in it.  A device without the value sorts as
the empty text, the time 0 or, for the state, before every state.  Text
compares by code point, as Python's C{str} does (SQLite's C{BINARY}
collation; PostgreSQL's C{"C"}, whatever the database's locale).  Pure.
"""

from __future__ import annotations

from typing import Callable

from snomprov.device import DEVICE_STATES, DeviceInfo

__all__ = ["DEVICE_SORTS", "checkSortKey", "isAfter", "sortExpression", "sortKey", "sortedDevices"]


def _text(name: str) -> Callable[[DeviceInfo], str]:
    return lambda device: getattr(device, name) or ""


def _state(device: DeviceInfo) -> int:
    return DEVICE_STATES.index(device.state) if device.state in DEVICE_STATES else -1


_STATE_SQL = ("CASE devices.state " + " ".join(f"WHEN '{state}' THEN {index}"
                                               for index, state in enumerate(DEVICE_STATES))
              + " ELSE -1 END")

_SORTS: dict[str, tuple[Callable[[DeviceInfo], object], str, type | tuple[type, ...]]] = {
    "mac": (lambda device: device.mac, "devices.mac", str),
    "vendor": (_text("vendor"), "COALESCE(devices.vendor, ''){collate}", str),
    "model": (_text("model"), "COALESCE(devices.model, ''){collate}", str),
    "firmware": (_text("firmware"), "COALESCE(devices.firmware, ''){collate}", str),
    "state": (_state, _STATE_SQL, int),
    "seen": (lambda device: device.lastSeen or 0.0, "COALESCE(devices.last_seen, 0)", (int, float)),
}

DEVICE_SORTS = tuple(_SORTS)
"""
The names of the sorts, C{"mac"} first (the store's natural order).
"""


def sortKey(sort: str, device: DeviceInfo) -> object:
    """
    C{device}'s key in the order C{sort} (without the MAC breaking ties).
    """
    return _SORTS[sort][0](device)


def sortExpression(sort: str, collate: str = "") -> str:
    """
    The SQL expression of C{sort}'s key, a text one compared with the
    collation clause C{collate} (C{' COLLATE "C"'}; empty for SQLite's
    default C{BINARY}).
    """
    return _SORTS[sort][1].format(collate=collate)


def checkSortKey(sort: str, key: object) -> bool:
    """
    Whether C{key} could be a key of C{sort} (its type).
    """
    return isinstance(key, _SORTS[sort][2]) and not isinstance(key, bool)


def sortedDevices(devices, sort: str = "mac", descending: bool = False) -> list[DeviceInfo]:
    """
    C{devices} in the order C{sort}, descending or not, the MAC ascending
    breaking ties.
    """
    get = _SORTS[sort][0]
    byMAC = sorted(devices, key=lambda device: device.mac)
    return sorted(byMAC, key=get, reverse=descending)


def isAfter(sort: str, descending: bool, device: DeviceInfo, after: tuple[object, str]) -> bool:
    """
    Whether C{device} comes after the cursor C{after} (a key and a MAC) in
    the order C{sort}.
    """
    key, mac = sortKey(sort, device), device.mac
    if key == after[0]:
        return mac > after[1]
    return key < after[0] if descending else key > after[0]  # type: ignore[operator]
