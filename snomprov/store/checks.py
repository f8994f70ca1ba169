# -*- test-case-name: tests.test_store -*-
"""
Validation of what is written to a store: every backend refuses bad input
with a L{StoreError} before anything is touched.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from snomprov.device import (
    DEVICE_STATES,
    DeviceInfo,
    Event,
    InvalidMAC,
    InvalidScope,
    Line,
    Setting,
    SettingsLayer,
    parseMAC,
    parseScope,
)
from snomprov.store.errors import StoreError
from snomprov.store.sorts import DEVICE_SORTS, checkSortKey

_UPPER_HEX = frozenset("0123456789ABCDEF")


def checkMAC(mac: object, what: str = "device") -> str:
    """
    A MAC must already be normalised (see L{parseMAC}).
    """
    if not isinstance(mac, str):
        raise StoreError(f"{what}: MAC must be a string, not {type(mac).__name__}")
    if len(mac) == 12 and _UPPER_HEX.issuperset(mac):
        return mac
    try:
        normal = parseMAC(mac)
    except InvalidMAC:
        normal = None
    if normal != mac:
        raise StoreError(f"{what}: MAC {mac!r} is not 12 upper-case hex digits")
    return mac


def _checkText(value: object, what: str, optional: bool = False) -> None:
    """
    A text field must be a C{str} every backend can store (UTF-8 encodable).
    The value itself is never put in the message: it may be a password.
    """
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise StoreError(f"{what} must be a string, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(f"{what} is not valid Unicode text") from None


def _checkNumber(value: object, what: str, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StoreError(f"{what} must be a number")


def _checkInt(value: object, what: str, minimum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise StoreError(f"{what} must be a 64-bit integer")
    if minimum is not None and value < minimum:
        raise StoreError(f"{what} must be at least {minimum}, not {value}")


def checkDevices(devices: Iterable[DeviceInfo]) -> tuple[DeviceInfo, ...]:
    """
    Validate devices to be merged.

    @return: them, as a tuple.
    @raise StoreError: naming the first bad one.
    """
    devices = tuple(devices)
    for device in devices:
        if not isinstance(device, DeviceInfo):
            raise StoreError(f"not a DeviceInfo: {type(device).__name__}")
        mac = checkMAC(device.mac)
        for name in ("vendor", "model", "firmware", "ip", "notes"):
            _checkText(getattr(device, name), f"{name} of {mac}", optional=True)
        if device.state is not None and device.state not in DEVICE_STATES:
            raise StoreError(
                f"state of {mac}: {device.state!r} is not one of {', '.join(DEVICE_STATES)}"
            )
        _checkNumber(device.firstSeen, f"firstSeen of {mac}")
        _checkNumber(device.lastSeen, f"lastSeen of {mac}")
        if device.sipAddress is not None:
            if not (isinstance(device.sipAddress, tuple) and len(device.sipAddress) == 2):
                raise StoreError(f"sipAddress of {mac} must be a (host, port) tuple")
            _checkText(device.sipAddress[0], f"SIP host of {mac}")
            _checkInt(device.sipAddress[1], f"SIP port of {mac}", minimum=0)
    return devices


_LINE_TEXTS = ("user", "password", "displayName", "registrar", "authUser", "outboundProxy")


def checkLines(mac: str, lines: Iterable[Line]) -> tuple[Line, ...]:
    """
    Validate a device's lines: L{Line} values with distinct indexes from 1.

    @return: the lines ordered by index.
    @raise StoreError: naming the first bad one (never its password).
    """
    checkMAC(mac, "lines")
    lines = tuple(lines)
    seen: set[int] = set()
    for line in lines:
        if not isinstance(line, Line):
            raise StoreError(f"lines of {mac}: not a Line: {type(line).__name__}")
        _checkInt(line.index, f"line index of {mac}", minimum=1)
        if line.index in seen:
            raise StoreError(f"lines of {mac}: index {line.index} given twice")
        seen.add(line.index)
        for name in _LINE_TEXTS:
            _checkText(getattr(line, name), f"{name} of line {line.index} of {mac}")
    return tuple(sorted(lines, key=lambda line: line.index))


def checkImport(
    devices: Iterable[DeviceInfo], lines: Mapping[str, Iterable[Line]]
) -> tuple[tuple[DeviceInfo, ...], dict[str, tuple[Line, ...]]]:
    """
    Validate an import (see L{checkDevices}, L{checkLines}).
    """
    return checkDevices(devices), {mac: checkLines(mac, ls) for mac, ls in lines.items()}


def checkScope(scope: object) -> str:
    """
    A scope must already be in its normal form (see L{parseScope}).
    """
    if not isinstance(scope, str):
        raise StoreError(f"scope must be a string, not {type(scope).__name__}")
    try:
        normal = parseScope(scope)
    except InvalidScope as e:
        raise StoreError(str(e)) from None
    if normal != scope:
        raise StoreError(f"scope {scope!r} is not normalised (expected {normal!r})")
    return scope


def checkLayer(layer: SettingsLayer) -> SettingsLayer:
    """
    Validate a settings layer.

    @return: a copy that shares nothing mutable with C{layer}.
    """
    if not isinstance(layer, SettingsLayer):
        raise StoreError(f"not a SettingsLayer: {type(layer).__name__}")
    scope = checkScope(layer.scope)
    settings = tuple(layer.settings)
    for position, setting in enumerate(settings):
        what = f"setting {position} of {scope}"
        if not isinstance(setting, Setting):
            raise StoreError(f"{what}: not a Setting: {type(setting).__name__}")
        _checkText(setting.name, f"name of {what}")
        _checkText(setting.value, f"value of {what}")
        _checkText(setting.perm, f"perm of {what}", optional=True)
        if setting.idx is not None:
            _checkInt(setting.idx, f"idx of {what}")
    documents = dict(layer.documents)
    for name, body in documents.items():
        _checkText(name, f"document name in {scope}")
        if not isinstance(body, bytes):
            raise StoreError(f"document {name!r} of {scope} must be bytes")
    return SettingsLayer(scope, settings, documents)


def checkEvents(events: Iterable[Event]) -> tuple[Event, ...]:
    """
    Validate events to be appended.
    """
    events = tuple(events)
    for event in events:
        if not isinstance(event, Event):
            raise StoreError(f"not an Event: {type(event).__name__}")
        if event.mac is not None:
            checkMAC(event.mac, "event")
        _checkNumber(event.time, "event time", optional=False)
        _checkText(event.kind, "event kind")
        if not event.kind:
            raise StoreError("event kind is empty")
        _checkText(event.detail, "event detail")
    return events


def checkCursor(cursor: object) -> int | None:
    """
    A position in the events (an L{snomprov.device.EventPage.cursor}): an
    integer, 0 or more, or C{None}.
    """
    if cursor is not None:
        _checkInt(cursor, "event cursor", minimum=0)
    return cursor  # type: ignore[return-value]


def checkTime(value: object) -> float:
    """
    A POSIX time: a number.
    """
    _checkNumber(value, "time", optional=False)
    return float(value)  # type: ignore[arg-type]


def checkLimit(limit: object) -> int:
    """
    An event listing limit: an integer, 0 or more.
    """
    _checkInt(limit, "limit", minimum=0)
    return limit  # type: ignore[return-value]


def checkRevision(revision: object) -> int | None:
    """
    An expected device revision: an integer, 0 or more, or C{None} (no
    expectation).
    """
    if revision is not None:
        _checkInt(revision, "revision", minimum=0)
    return revision  # type: ignore[return-value]


def checkDevicePage(
    state: object, vendor: object, model: object, text: object, after: object, limit: object,
    sort: object = "mac", descending: object = False,
) -> tuple[str | None, str | None, str | None, str | None, object, int, str, bool]:
    """
    The filters, cursor, limit and order of a page of devices (see
    L{snomprov.interfaces.IDeviceStore.pageDevices}).
    """
    if state is not None and state not in DEVICE_STATES:
        raise StoreError(f"state {state!r} is not one of {', '.join(DEVICE_STATES)}")
    for name, value in (("vendor", vendor), ("model", model), ("text", text)):
        _checkText(value, f"{name} filter", optional=True)
    if not isinstance(sort, str) or sort not in DEVICE_SORTS:
        raise StoreError(f"sort {sort!r} is not one of {', '.join(DEVICE_SORTS)}")
    if not isinstance(descending, bool):
        raise StoreError(f"descending must be a bool, not {type(descending).__name__}")
    if after is not None:
        if sort == "mac":
            checkMAC(after, "page cursor")
        elif not (isinstance(after, tuple) and len(after) == 2 and checkSortKey(sort, after[0])
                  and (not isinstance(after[0], float) or math.isfinite(after[0]))):
            raise StoreError(f"page cursor: {after!r} is not a ({sort} key, MAC) pair")
        else:
            checkMAC(after[1], "page cursor")
    checkLimit(limit)
    return state, vendor, model, text, after, limit, sort, descending  # type: ignore[return-value]
