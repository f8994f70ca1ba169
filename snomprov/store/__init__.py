# -*- test-case-name: tests.test_store -*-
"""
Device stores: L{snomprov.interfaces.IDeviceStore} implementations.

L{openStore} turns a C{[store] url} into an open store:

  - C{memory:}: L{snomprov.store.memory.MemoryDeviceStore}, gone at exit;
  - C{sqlite:PATH}: L{snomprov.store.sql.SQLDeviceStore} on an SQLite file,
    a relative C{PATH} being resolved against the given base directory;
    C{sqlite::memory:} is a private in-memory SQLite database;
  - C{postgresql://...}: refused for now with a L{StoreError}.

This module also holds what every implementation shares, so that the
semantics live in one place: validation of what is written (a L{StoreError}
before anything is touched) and the write logic itself, written against
L{Records}, one transaction's view of the stored records.  Each backend
provides L{Records} (over dictionaries, over SQL) and runs the shared
functions inside its own transaction.

The settings version moves at most once per write, and only when the write
changed something a rendered file depends on: a device's lines, a settings
layer, or a device's registration (a device added or forgotten, its vendor or
model changed).  Sightings (address, firmware, state, times) and events never
move it, and writing back what is already stored (re-importing the same CSV
file, putting the same layer again) leaves it where it is.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Protocol

from twisted.internet import defer
from twisted.python.filepath import FilePath

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

__all__ = [
    "StoreError",
    "UnknownDevice",
    "openStore",
    "Records",
    "StoreWrites",
    "whenValid",
    "checkMAC",
    "checkDevices",
    "checkLines",
    "checkImport",
    "checkScope",
    "checkLayer",
    "checkEvents",
    "checkLimit",
    "deviceToRow",
    "deviceFromRow",
    "mergeDeviceRows",
]


class StoreError(Exception):
    """
    A store refused a write or could not be opened; nothing was changed.
    """


class UnknownDevice(StoreError):
    """
    A write needs a device that is not stored (lines for an unknown MAC).
    """


# ---------------------------------------------------------------------------
# Opening


def openStore(url: str, dataDir: FilePath | str, reactor=None):
    """
    Open the store named by C{url}.

    @param url: C{memory:}, C{sqlite:PATH}, C{sqlite::memory:} or
        C{postgresql://...} (not yet available).
    @param dataDir: the directory a relative SQLite C{PATH} is resolved
        against (the configuration's base directory).  The file's directory
        is created if missing.
    @param reactor: the reactor whose thread pool runs SQL; the global one
        if C{None}.
    @return: C{Deferred} firing with an L{IDeviceStore} provider, or failing
        with L{StoreError} for a URL it cannot open.
    """
    try:
        kind, location = _parseStoreURL(url, dataDir)
    except StoreError:
        return defer.fail()
    if kind == "memory":
        from snomprov.store.memory import MemoryDeviceStore

        return defer.succeed(MemoryDeviceStore())
    if reactor is None:
        from twisted.internet import reactor
    from snomprov.store.sql import SQLDeviceStore

    return SQLDeviceStore.openSQLite(location, reactor=reactor)


def _parseStoreURL(url: str, dataDir: FilePath | str) -> tuple[str, str | None]:
    """
    Split a store URL into a backend kind and its location.

    @return: C{("memory", None)} or C{("sqlite", path)}, C{path} being
        absolute or C{":memory:"}.
    @raise StoreError: for anything else.
    """
    scheme, sep, rest = url.partition(":")
    if not sep:
        raise StoreError(
            f"bad store url {url!r}: expected memory:, sqlite:PATH or postgresql://..."
        )
    if scheme in ("postgresql", "postgres"):
        raise StoreError("PostgreSQL backend not yet available; use a sqlite: store url")
    if scheme == "memory" and not rest:
        return ("memory", None)
    if scheme == "sqlite":
        if rest == ":memory:":
            return ("sqlite", rest)
        if not rest or rest.startswith("//"):
            raise StoreError(
                f"bad store url {url!r}: expected sqlite:PATH "
                "(relative to the data directory or absolute)"
            )
        base = dataDir if isinstance(dataDir, FilePath) else FilePath(dataDir)
        path = FilePath(rest) if rest.startswith("/") else base.preauthChild(rest)
        return ("sqlite", path.path)
    raise StoreError(f"bad store url {url!r}: unknown scheme {scheme!r}")


# ---------------------------------------------------------------------------
# Validation: everything a write carries is checked before it starts.


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


def checkLimit(limit: object) -> int:
    """
    An event listing limit: an integer, 0 or more.
    """
    _checkInt(limit, "limit", minimum=0)
    return limit  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# Device rows: a device as a tuple in the order of the SQL columns, for the
# recorder's trusted path (L{IDeviceStore.recordRows}).


def deviceToRow(device: DeviceInfo) -> tuple[Any, ...]:
    """
    C{(mac, vendor, model, firmware, ip, state, firstSeen, lastSeen, notes,
    sipHost, sipPort)} of a device.
    """
    host, port = device.sipAddress or (None, None)
    return (
        device.mac, device.vendor, device.model, device.firmware, device.ip, device.state,
        device.firstSeen, device.lastSeen, device.notes, host, port,
    )  # fmt: skip


def deviceFromRow(row: tuple[Any, ...]) -> DeviceInfo:
    """
    The device of a row (see L{deviceToRow}).
    """
    (mac, vendor, model, firmware, ip, state, firstSeen, lastSeen, notes, sipHost, sipPort) = row
    return DeviceInfo(
        mac=mac,
        vendor=vendor,
        model=model,
        firmware=firmware,
        ip=ip,
        state=state,
        firstSeen=firstSeen,
        lastSeen=lastSeen,
        notes=notes,
        sipAddress=None if sipHost is None else (sipHost, sipPort),
    )


_STATE_RANK = {state: rank for rank, state in enumerate(DEVICE_STATES)}


def mergeDeviceRows(old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[Any, ...]:
    """
    L{DeviceInfo.mergedWith} on rows: C{new}'s known fields win, except
    C{firstSeen} (the earliest) and C{state} (only forward); the SIP host and
    port go together.
    """
    (_, vendor, model, firmware, ip, state, firstSeen, lastSeen, notes, sipHost, sipPort) = new
    oldFirst = old[6]
    if firstSeen is None or (oldFirst is not None and oldFirst <= firstSeen):
        firstSeen = oldFirst
    oldState = old[5]
    if state is None or (oldState is not None and _STATE_RANK[oldState] >= _STATE_RANK[state]):
        state = oldState
    if sipHost is None:
        sipHost, sipPort = old[9], old[10]
    return (
        old[0],
        old[1] if vendor is None else vendor,
        old[2] if model is None else model,
        old[3] if firmware is None else firmware,
        old[4] if ip is None else ip,
        state,
        firstSeen,
        old[7] if lastSeen is None else lastSeen,
        old[8] if notes is None else notes,
        sipHost,
        sipPort,
    )


# ---------------------------------------------------------------------------
# The write logic, shared by every backend.


class Records(Protocol):
    """
    One transaction's view of a store's records: what a backend provides so
    that the write logic below runs on it.  Values going in are already
    validated; C{putLines} receives lines ordered by index.
    """

    def getDevice(self, mac: str) -> DeviceInfo | None: ...

    def getDevices(self, macs: list[str]) -> dict[str, DeviceInfo]: ...

    def putDevice(self, device: DeviceInfo) -> None: ...

    def putDevices(self, devices: list[DeviceInfo]) -> None: ...

    def removeDevice(self, mac: str) -> bool: ...

    def getLines(self, mac: str) -> tuple[Line, ...]: ...

    def putLines(self, mac: str, lines: tuple[Line, ...]) -> None: ...

    def getLayer(self, scope: str) -> SettingsLayer | None: ...

    def putLayer(self, layer: SettingsLayer) -> None: ...

    def removeLayer(self, scope: str) -> bool: ...

    def bumpVersion(self) -> None: ...


def _registrationChanged(old: DeviceInfo | None, new: DeviceInfo) -> bool:
    """
    Whether a device's change matters to its rendered files: it is new, or
    its vendor or model changed (which settings layers apply).
    """
    return old is None or (old.vendor, old.model) != (new.vendor, new.model)


def _mergeDevices(records: Records, devices: tuple[DeviceInfo, ...]) -> bool:
    known = records.getDevices([device.mac for device in devices])
    changed = False
    merged = {}  # one row per MAC: a multi-row upsert may not touch a row twice
    for device in devices:
        old = known.get(device.mac)
        new = device if old is None else old.mergedWith(device)
        if new != old:
            merged[device.mac] = new
            known[device.mac] = new
            changed = changed or _registrationChanged(old, new)
    if merged:
        records.putDevices(list(merged.values()))
    return changed


def mergeDeviceRowsInto(records, rows: list[tuple[Any, ...]]) -> bool:
    """
    L{_mergeDevices} on device rows (see L{deviceToRow}), for a backend whose
    records read and write rows (C{getDeviceRows}, C{putDeviceRows}).

    @return: whether a device's registration changed.
    """
    known = records.getDeviceRows([row[0] for row in rows])
    changed = False
    merged = {}  # one row per MAC: a multi-row upsert may not touch a row twice
    for row in rows:
        mac = row[0]
        old = known.get(mac)
        if old is None:
            new = row
            changed = True
        else:
            new = mergeDeviceRows(old, row)
            if new == old:
                continue
            changed = changed or old[1] != new[1] or old[2] != new[2]
        merged[mac] = new
        known[mac] = new
    if merged:
        records.putDeviceRows(list(merged.values()))
    return changed


def _replaceLines(records: Records, mac: str, lines: tuple[Line, ...]) -> bool:
    if records.getDevice(mac) is None:
        raise UnknownDevice(f"lines for unknown device {mac}")
    if records.getLines(mac) == lines:
        return False
    records.putLines(mac, lines)
    return True


def _finish(records: Records, changed: bool) -> None:
    if changed:
        records.bumpVersion()


def mergeDevicesInto(records: Records, devices: tuple[DeviceInfo, ...]) -> None:
    """
    L{IDeviceStore.mergeDevices} on validated devices.
    """
    _finish(records, _mergeDevices(records, devices))


def setLinesIn(records: Records, mac: str, lines: tuple[Line, ...]) -> None:
    """
    L{IDeviceStore.setLines} on validated lines.

    @raise UnknownDevice: if the device is not stored.
    """
    _finish(records, _replaceLines(records, mac, lines))


def applyImportTo(
    records: Records, devices: tuple[DeviceInfo, ...], lines: Mapping[str, tuple[Line, ...]]
) -> None:
    """
    L{IDeviceStore.applyImport} on validated devices and lines.  The caller
    undoes everything if this raises.

    @raise UnknownDevice: for lines of a device neither stored nor merged.
    """
    changed = _mergeDevices(records, devices)
    for mac, deviceLines in lines.items():
        changed = _replaceLines(records, mac, deviceLines) or changed
    _finish(records, changed)


def deleteDeviceFrom(records: Records, mac: str) -> bool:
    """
    L{IDeviceStore.deleteDevice}: the device, its lines (by the backend)
    and its device layer.

    @return: whether the device existed.
    """
    existed = records.removeDevice(mac)
    hadLayer = records.removeLayer(f"device:{mac}")
    _finish(records, existed or hadLayer)
    return existed


def putLayerIn(records: Records, layer: SettingsLayer) -> None:
    """
    L{IDeviceStore.putLayer} on a validated layer; writing an identical
    layer changes nothing.
    """
    if records.getLayer(layer.scope) != layer:
        records.putLayer(layer)
        records.bumpVersion()


def deleteLayerFrom(records: Records, scope: str) -> bool:
    """
    L{IDeviceStore.deleteLayer}.

    @return: whether the layer existed.
    """
    existed = records.removeLayer(scope)
    _finish(records, existed)
    return existed


def whenValid(check: Callable[[], Any], then: Callable[[Any], defer.Deferred]) -> defer.Deferred:
    """
    Run C{then} on what C{check} returns; a L{StoreError} from either
    becomes a failed Deferred.
    """
    try:
        return then(check())
    except StoreError:
        return defer.fail()


class StoreWrites:
    """
    The writes of L{IDeviceStore} that touch L{Records}, written once: a
    backend mixes this in and provides C{_write(check, apply)}, which runs
    C{check()} (raising L{StoreError} before anything is touched) and then
    C{apply(records, checked)} in one transaction, returning a Deferred
    with C{apply}'s result.
    """

    def _write(self, check, apply):
        raise NotImplementedError()

    def mergeDevices(self, devices):
        return self._write(lambda: checkDevices(devices), mergeDevicesInto)

    def record(self, devices, events):
        """
        L{mergeDevices} then L{addEvents}; a backend may do both in one
        transaction.
        """
        return self.mergeDevices(devices).addCallback(lambda _: self.addEvents(events))

    def recordRows(self, deviceRows, eventRows):
        """
        L{record} on rows the caller has validated: device rows (see
        L{deviceToRow}) and C{(time, mac, kind, detail)} event rows.  This
        default builds the devices and events and calls L{record}.
        """
        return self.record(
            [deviceFromRow(row) for row in deviceRows], [Event(*row) for row in eventRows]
        )

    def deleteDevice(self, mac):
        return self._write(lambda: checkMAC(mac), deleteDeviceFrom)

    def setLines(self, mac, lines):
        return self._write(
            lambda: checkLines(mac, lines),
            lambda records, checked: setLinesIn(records, mac, checked),
        )

    def applyImport(self, devices, lines):
        return self._write(
            lambda: checkImport(devices, lines),
            lambda records, checked: applyImportTo(records, *checked),
        )

    def putLayer(self, layer):
        return self._write(lambda: checkLayer(layer), putLayerIn)

    def deleteLayer(self, scope):
        return self._write(lambda: checkScope(scope), deleteLayerFrom)
