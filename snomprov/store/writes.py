# -*- test-case-name: tests.test_store -*-
"""
The write logic every backend shares, written against L{Records}, one
transaction's view of the stored records.  Each backend provides L{Records}
(over dictionaries, over SQL) and runs these functions inside its own
transaction, so the semantics live in one place.

The settings version moves at most once per write, and only when the write
changed something a rendered file depends on: a device's lines, a settings
layer, or a device's registration (a device added or forgotten, its vendor or
model changed).  Sightings (address, firmware, state, times) and events never
move it, and writing back what is already stored leaves it where it is.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

from twisted.internet import defer

from snomprov.device import (
    DeviceInfo,
    Event,
    Line,
    SettingsLayer,
)
from snomprov.store.checks import (
    checkDevices,
    checkEvents,
    checkImport,
    checkLayer,
    checkLines,
    checkMAC,
    checkScope,
)
from snomprov.store.errors import StoreError, UnknownDevice
from snomprov.store.rows import deviceFromRow


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

    def addEvents(self, events: tuple[Event, ...]) -> None: ...


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
    @return: whether it changed what rendered files depend on.
    """
    changed = _mergeDevices(records, devices)
    for mac, deviceLines in lines.items():
        changed = _replaceLines(records, mac, deviceLines) or changed
    _finish(records, changed)
    return changed


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

    def applyImport(self, devices, lines, events=()):
        """
        @param events: written in the same transaction (audit events).
        @return: Deferred firing with whether the import changed devices'
            registrations or lines (C{False}: it was applied already).
        """

        def apply(records, checked):
            changed = applyImportTo(records, *checked[0])
            records.addEvents(checked[1])
            return changed

        return self._write(lambda: (checkImport(devices, lines), checkEvents(events)), apply)

    def putLayer(self, layer, events=()):
        """
        @param events: written in the same transaction (audit events).
        """

        def apply(records, checked):
            putLayerIn(records, checked[0])
            records.addEvents(checked[1])

        return self._write(lambda: (checkLayer(layer), checkEvents(events)), apply)

    def deleteLayer(self, scope, events=()):
        """
        @param events: written in the same transaction (audit events).
        @return: Deferred firing with whether the layer existed.
        """

        def apply(records, checked):
            existed = deleteLayerFrom(records, checked[0])
            records.addEvents(checked[1])
            return existed

        return self._write(lambda: (checkScope(scope), checkEvents(events)), apply)
