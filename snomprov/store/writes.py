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

Every move of the version is also a change of the feed (DESIGN §2): the
scopes it touched (C{device:<MAC>} for a device's registration, lines and
device layer; a layer's scope for a layer write) are recorded with it, so
that caches drop only what those scopes made.  And every device whose files
the write altered gets the new version as its I{current} one: the device
itself for its own writes; for a site, vendor or model layer, the devices
the caller names (C{affected}), or every device the scope covers when it
names none.  A device whose C{fetched} version (L{markFetched}) is below its
current one is I{stale}; one never fetched is not stale but never-fetched.

Each device also has a revision (what the API's C{ETag} is): it moves on
every change an operator sees of its vendor, model, notes or lines, to a
new value of a store-wide counter, which never goes back (not even when a
device is deleted and made again).  Sightings that change only the
address, firmware, state or times leave it alone.  L{writeDeviceIn} and
L{deleteDeviceFrom} check an expected revision in the same transaction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Iterable, Mapping, Protocol

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
    checkRevision,
    checkScope,
)
from snomprov.store.errors import PreconditionFailed, StoreError, UnknownDevice
from snomprov.store.columns import (
    OPERATOR_FIELDS as _OPERATOR_FIELDS,
    REGISTRATION_FIELDS,
    deviceFromRow,
    mergeDevice,
)


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

    def bumpVersion(self, scopes: Iterable[str]) -> int:
        """
        Move the settings version by one, recording C{scopes} in the change
        feed.

        @return: the new version.
        """

    def setCurrent(self, version: int, macs: Iterable[str]) -> None:
        """
        Give the stored devices among C{macs} C{version} as their current
        settings version (others are ignored).
        """

    def setCurrentCovered(self, version: int, scope: str) -> None:
        """
        Give every stored device that C{scope} covers (C{site}: all;
        C{vendor:V}: that vendor's; C{model:M}: that model's;
        C{device:MAC}: that one) C{version} as its current one.
        """

    def getRevision(self, mac: str) -> int | None:
        """
        A stored device's revision, C{None} for a device not stored.
        """

    def moveRevisions(self, macs: list[str], onlyNew: bool = False) -> None:
        """
        Give each device of C{macs} (all stored, distinct) one new value
        of the store's revision counter; with C{onlyNew}, only those that
        have no revision yet.
        """

    def addEvents(self, events: tuple[Event, ...]) -> None: ...

    def moveAccountLines(self, mac: str, moves: list[tuple[int, bool]]) -> None:
        """
        Give each line C{(index, deleted)} of C{moves} (at least one) a new
        account version, one new value of the store-wide account counter,
        and record whether the line is gone (a tombstone).
        """


PBX_FIELDS = ("user", "authUser", "password", "displayName", "registrar")
"""
The fields of a line that reach a PBX (DESIGN §8): a change of one moves
the line's account version.
"""


def accountMoves(old: tuple[Line, ...], new: tuple[Line, ...]) -> list[tuple[int, bool]]:
    """
    The lines whose account changed from C{old} to C{new}: C{(index,
    deleted)} for each line added, changed in a L{PBX_FIELDS} field, or
    removed (C{deleted} true), ordered by index.
    """
    before = {line.index: line for line in old}
    after = {line.index: line for line in new}
    moves = []
    for index in sorted(set(before) | set(after)):
        was, now = before.get(index), after.get(index)
        if now is None:
            moves.append((index, True))
        elif was is None or any(getattr(was, name) != getattr(now, name) for name in PBX_FIELDS):
            moves.append((index, False))
    return moves


def _registrationChanged(old: DeviceInfo | None, new: DeviceInfo) -> bool:
    """
    Whether a device's change matters to its rendered files: it is new, or
    its vendor or model changed (which settings layers apply).
    """
    return old is None or any(getattr(old, name) != getattr(new, name) for name in REGISTRATION_FIELDS)


OPERATOR_FIELDS = _OPERATOR_FIELDS
"""
The fields of a device an operator sets (the operator columns of
L{snomprov.store.columns.DEVICE_COLUMNS}): a change of one moves its
revision.
"""


def operatorFieldsChanged(old: DeviceInfo | None, new: DeviceInfo) -> bool:
    """
    Whether a device's change moves its revision: it is new, or its
    vendor, model or notes changed.
    """
    return old is None or any(getattr(old, name) != getattr(new, name) for name in OPERATOR_FIELDS)


def _mergeDevices(records: Records, devices: tuple[DeviceInfo, ...]) -> list[str]:
    """
    @return: the MACs of the devices added or whose registration changed.
    """
    known = records.getDevices([device.mac for device in devices])
    changed: dict[str, None] = {}
    merged = {}  # one row per MAC: a multi-row upsert may not touch a row twice
    moved: dict[str, None] = {}
    for device in devices:
        old = known.get(device.mac)
        new = device if old is None else mergeDevice(old, device)
        if new != old:
            merged[device.mac] = new
            known[device.mac] = new
            if _registrationChanged(old, new):
                changed[device.mac] = None
            if operatorFieldsChanged(old, new):
                moved[device.mac] = None
    if merged:
        records.putDevices(list(merged.values()))
    if moved:
        records.moveRevisions(list(moved))
    return list(changed)


def _replaceLines(records: Records, mac: str, lines: tuple[Line, ...]) -> bool:
    if records.getDevice(mac) is None:
        raise UnknownDevice(f"lines for unknown device {mac}")
    old = records.getLines(mac)
    if old == lines:
        return False
    records.putLines(mac, lines)
    records.moveRevisions([mac])
    moves = accountMoves(old, lines)
    if moves:
        records.moveAccountLines(mac, moves)
    return True


def _finish(records: Records, macs: Iterable[str], current: bool = True) -> None:
    """
    Move the version for a write that changed the files of the devices
    C{macs} through their own scopes (none: nothing moves), and with
    C{current}, make it their current version.
    """
    macs = list(dict.fromkeys(macs))
    if macs:
        version = records.bumpVersion([f"device:{mac}" for mac in macs])
        if current:
            records.setCurrent(version, macs)
def _checkExpected(records: Records, mac: str, expected: int | None) -> DeviceInfo | None:
    """
    The stored device, once its revision is known to be C{expected}.

    @raise PreconditionFailed: if C{expected} is not C{None} and the device
        is missing or at another revision.
    """
    old = records.getDevice(mac)
    if expected is not None:
        current = None if old is None else records.getRevision(mac)
        if current != expected:
            now = "it is not stored" if current is None else f"it is at revision {current}"
            raise PreconditionFailed(f"device {mac} is not at revision {expected}: {now}")
    return old


def finishSightings(records: Records, macs: Iterable[str]) -> None:
    """
    What a backend's own merge of sightings (L{IDeviceStore.recordRows},
    the recorder's rows) calls with the MACs it added or whose
    registration changed: their scopes change, but their current version
    does not.  A sighting reports what the phone is (its vendor, its
    model), which the files it was just served were already made for, so
    it does not make the phone stale.
    """
    _finish(records, macs, current=False)


def mergeDevicesInto(records: Records, devices: tuple[DeviceInfo, ...], sightings: bool = False) -> None:
    """
    L{IDeviceStore.mergeDevices} on validated devices; with C{sightings},
    as L{finishSightings} says.
    """
    _finish(records, _mergeDevices(records, devices), current=not sightings)


def setLinesIn(records: Records, mac: str, lines: tuple[Line, ...]) -> None:
    """
    L{IDeviceStore.setLines} on validated lines.

    @raise UnknownDevice: if the device is not stored.
    """
    _finish(records, [mac] if _replaceLines(records, mac, lines) else [])


def applyImportTo(
    records: Records, devices: tuple[DeviceInfo, ...], lines: Mapping[str, tuple[Line, ...]]
) -> bool:
    """
    L{IDeviceStore.applyImport} on validated devices and lines.  The caller
    undoes everything if this raises.

    @raise UnknownDevice: for lines of a device neither stored nor merged.
    @return: whether it changed what rendered files depend on.
    """
    changed = _mergeDevices(records, devices)
    for mac, deviceLines in lines.items():
        if _replaceLines(records, mac, deviceLines):
            changed.append(mac)
    _finish(records, changed)
    return bool(changed)


def writeDeviceIn(
    records: Records,
    device: DeviceInfo,
    lines: tuple[Line, ...],
    expected: int | None = None,
    events: tuple[Event, ...] = (),
    new: bool = False,
) -> int:
    """
    L{IDeviceStore.writeDevice} on validated values: set a device's
    operator fields (L{OPERATOR_FIELDS}; what was seen of it is kept, and a
    new device is C{registered}), replace its lines and append C{events}.

    @param expected: the revision the device must be at, or C{None}.
    @param new: the device must not be stored yet.
    @return: the device's revision after the write.
    @raise PreconditionFailed: when C{expected} or C{new} does not hold.
    """
    mac = device.mac
    old = _checkExpected(records, mac, expected)
    if new and old is not None:
        raise PreconditionFailed(f"device {mac} exists already")
    fields = {name: getattr(device, name) for name in OPERATOR_FIELDS}
    stored = DeviceInfo(mac, state="registered", **fields) if old is None else replace(old, **fields)
    changed = False
    if stored != old:
        records.putDevice(stored)
        changed = _registrationChanged(old, stored)
        if operatorFieldsChanged(old, stored):
            records.moveRevisions([mac])
    changed = _replaceLines(records, mac, lines) or changed
    records.addEvents(events)
    _finish(records, [mac] if changed else [])
    revision = records.getRevision(mac)
    assert revision is not None
    return revision


def deleteDeviceFrom(
    records: Records, mac: str, expected: int | None = None, events: tuple[Event, ...] = ()
) -> bool:
    """
    L{IDeviceStore.deleteDevice}: the device, its lines and revision (by
    the backend) and its device layer; its lines' accounts become
    tombstones; C{events} are appended when the
    device existed.

    @return: whether the device existed.
    @raise PreconditionFailed: if C{expected} is not C{None} and the device
        is missing or at another revision.
    """
    _checkExpected(records, mac, expected)
    moves = accountMoves(records.getLines(mac), ())
    existed = records.removeDevice(mac)
    if moves:
        records.moveAccountLines(mac, moves)
    hadLayer = records.removeLayer(f"device:{mac}")
    if existed:
        records.addEvents(events)
    if existed or hadLayer:
        records.bumpVersion([f"device:{mac}"])
    return existed


def _layerChanged(records: Records, scope: str, affected: tuple[str, ...] | None) -> None:
    """
    Move the version for a change of the layer of C{scope}, making it the
    current version of the devices C{affected} (or, for C{None}, of every
    device the scope covers; a device layer's device in any case).
    """
    version = records.bumpVersion([scope])
    if scope.startswith("device:"):
        records.setCurrent(version, [scope[len("device:"):]])
    elif affected is None:
        records.setCurrentCovered(version, scope)
    elif affected:
        records.setCurrent(version, affected)


def putLayerIn(records: Records, layer: SettingsLayer, affected: tuple[str, ...] | None = None) -> None:
    """
    L{IDeviceStore.putLayer} on a validated layer; writing an identical
    layer changes nothing.
    """
    if records.getLayer(layer.scope) != layer:
        records.putLayer(layer)
        _layerChanged(records, layer.scope, affected)


def deleteLayerFrom(records: Records, scope: str, affected: tuple[str, ...] | None = None) -> bool:
    """
    L{IDeviceStore.deleteLayer}.

    @return: whether the layer existed.
    """
    existed = records.removeLayer(scope)
    if existed:
        _layerChanged(records, scope, affected)
    return existed


def checkAffected(affected: Iterable[str] | None) -> tuple[str, ...] | None:
    """
    The C{affected} MACs of a layer write, normalised.

    @raise StoreError: for one that is not a MAC.
    """
    if affected is None:
        return None
    if isinstance(affected, str):
        raise StoreError("affected must be MACs, not one string")
    return tuple(dict.fromkeys(checkMAC(mac) for mac in affected))


def checkFetched(rows: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """
    C{markFetched} rows: C{(MAC, version)}, the last version per MAC kept.

    @raise StoreError: for a bad MAC or version.
    """
    found: dict[str, int] = {}
    for mac, version in rows:
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise StoreError(f"bad fetched version {version!r} for {mac}")
        found[checkMAC(mac)] = version
    return list(found.items())


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

    def deleteDevice(self, mac, expected=None, events: Iterable[Event] = ()):
        return self._write(
            lambda: (checkMAC(mac), checkRevision(expected), checkEvents(events)),
            lambda records, checked: deleteDeviceFrom(records, *checked),
        )

    def writeDevice(self, device, lines, expected=None, events: Iterable[Event] = (), new=False):
        def check():
            (checked,) = checkDevices([device])
            return checked, checkLines(checked.mac, lines), checkRevision(expected), checkEvents(events)

        return self._write(check, lambda records, checked: writeDeviceIn(records, *checked, new=bool(new)))

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

    def putLayer(self, layer, affected=None, events=()):
        """
        @param events: written in the same transaction (audit events).
        """

        def apply(records, checked):
            putLayerIn(records, *checked[:2])
            records.addEvents(checked[2])

        return self._write(lambda: (checkLayer(layer), checkAffected(affected), checkEvents(events)), apply)

    def deleteLayer(self, scope, affected=None, events=()):
        """
        @param events: written in the same transaction (audit events).
        @return: Deferred firing with whether the layer existed.
        """

        def apply(records, checked):
            existed = deleteLayerFrom(records, *checked[:2])
            records.addEvents(checked[2])
            return existed

        return self._write(lambda: (checkScope(scope), checkAffected(affected), checkEvents(events)), apply)
