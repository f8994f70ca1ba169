# -*- test-case-name: tests.test_store -*-
"""
The reference L{IDeviceStore}: everything in dictionaries, for tests and for
C{memory:} stores.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, TypeVar

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from snomprov.accounts import Operator, Token
from snomprov.device import DeviceInfo, Event, EventPage, Line, SettingsLayer
from snomprov.interfaces import IAccountStore, IAccountSyncStore, IDeviceStore
from snomprov.store.accounts import AccountWrites
from snomprov.store.changes import CHANGES_KEPT, ChangeListeners, covers
from snomprov.store.checks import checkCursor, checkDevicePage, checkEvents, checkLimit, checkMAC, checkTime
from snomprov.store.filters import textMatches
from snomprov.store.sorts import isAfter, sortedDevices
from snomprov.store.columns import deviceFromRow
from snomprov.store.pbxstate import (
    LineSyncState,
    PendingAccount,
    checkApplied,
    checkKeys,
    checkPendingLimit,
    checkSink,
    checkSinks,
)
from snomprov.store.writes import StoreWrites, checkFetched, mergeDevicesInto, whenValid

__all__ = ["MemoryDeviceStore"]

_T = TypeVar("_T")


def _copyLayer(layer: SettingsLayer) -> SettingsLayer:
    """
    A layer sharing no mutable state with C{layer} (its documents mapping).
    """
    return replace(layer, documents=dict(layer.documents))


@dataclass
class _MemoryRecords:
    """
    L{snomprov.store.Records} over dictionaries: a copy of the store's state
    that becomes the state only when a write succeeds.
    """

    devices: dict[str, DeviceInfo]
    lines: dict[str, tuple[Line, ...]]
    layers: dict[str, SettingsLayer]
    version: int
    operators: dict[str, Operator] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)
    revisionCounter: int = 0
    """
    The last revision given to a device (store-wide, never going back).
    """
    newEvents: list[Event] = field(default_factory=list)
    """
    Events a write appends: the store's when the write succeeds.
    """
    changes: deque = field(default_factory=lambda: deque(maxlen=CHANGES_KEPT))
    """
    The change feed's newest C{(seq, scope)} rows.
    """
    seq: int = 0
    versions: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    """
    MAC to C{(current, fetched)} settings versions.
    """
    newScopes: set[str] = field(default_factory=set)
    """
    The scopes a write changed: told to the listeners when it succeeds.
    """
    accountLines: dict[tuple[str, int], tuple[int, bool]] = field(default_factory=dict)
    """
    C{(mac, index)} to C{(account version, deleted)}.
    """
    accountCounter: int = 0

    def copy(self) -> "_MemoryRecords":
        return _MemoryRecords(
            dict(self.devices), dict(self.lines), dict(self.layers), self.version,
            dict(self.operators), dict(self.tokens), dict(self.revisions), self.revisionCounter,
            [], deque(self.changes, CHANGES_KEPT), self.seq, dict(self.versions),
            set(), dict(self.accountLines), self.accountCounter,
        )  # fmt: skip

    def moveAccountLines(self, mac: str, moves: list[tuple[int, bool]]) -> None:
        self.accountCounter += 1
        for index, deleted in moves:
            self.accountLines[(mac, index)] = (self.accountCounter, deleted)

    def getDevice(self, mac: str) -> DeviceInfo | None:
        return self.devices.get(mac)

    def getDevices(self, macs: list[str]) -> dict[str, DeviceInfo]:
        devices = self.devices
        return {mac: devices[mac] for mac in macs if mac in devices}

    def putDevice(self, device: DeviceInfo) -> None:
        self.devices[device.mac] = device

    def putDevices(self, devices: list[DeviceInfo]) -> None:
        for device in devices:
            self.devices[device.mac] = device

    def removeDevice(self, mac: str) -> bool:
        self.lines.pop(mac, None)
        self.versions.pop(mac, None)
        self.revisions.pop(mac, None)
        return self.devices.pop(mac, None) is not None

    def getLines(self, mac: str) -> tuple[Line, ...]:
        return self.lines.get(mac, ())

    def putLines(self, mac: str, lines: tuple[Line, ...]) -> None:
        self.lines[mac] = lines

    def getLayer(self, scope: str) -> SettingsLayer | None:
        return self.layers.get(scope)


    def putLayer(self, layer: SettingsLayer) -> None:
        self.layers[layer.scope] = _copyLayer(layer)

    def removeLayer(self, scope: str) -> bool:
        return self.layers.pop(scope, None) is not None

    def bumpVersion(self, scopes: Iterable[str]) -> int:
        self.version += 1
        for scope in dict.fromkeys(scopes):
            self.seq += 1
            self.changes.append((self.seq, scope))
            self.newScopes.add(scope)
        return self.version

    def setCurrent(self, version: int, macs: Iterable[str]) -> None:
        devices, versions = self.devices, self.versions
        for mac in macs:
            if mac in devices:
                versions[mac] = (version, versions.get(mac, (0, None))[1])

    def setCurrentCovered(self, version: int, scope: str) -> None:
        self.setCurrent(version, [mac for mac, device in self.devices.items() if covers(scope, device)])

    def getRevision(self, mac: str) -> int | None:
        return self.revisions.get(mac)

    def moveRevisions(self, macs: list[str], onlyNew: bool = False) -> None:
        self.revisionCounter += 1
        for mac in macs:
            if not (onlyNew and mac in self.revisions):
                self.revisions[mac] = self.revisionCounter

    def getOperator(self, name: str) -> Operator | None:
        return self.operators.get(name)

    def listOperators(self) -> list[Operator]:
        return [self.operators[name] for name in sorted(self.operators)]

    def putOperator(self, operator: Operator) -> None:
        self.operators[operator.name] = operator

    def removeOperator(self, name: str) -> bool:
        return self.operators.pop(name, None) is not None

    def getToken(self, name: str) -> Token | None:
        return self.tokens.get(name)

    def findToken(self, tokenHash: str) -> Token | None:
        return next((t for t in self.tokens.values() if t.tokenHash == tokenHash), None)

    def listTokens(self) -> list[Token]:
        return [self.tokens[name] for name in sorted(self.tokens)]

    def putToken(self, token: Token) -> None:
        self.tokens[token.name] = token

    def removeToken(self, name: str) -> bool:
        return self.tokens.pop(name, None) is not None

    def addEvents(self, events: tuple[Event, ...]) -> None:
        self.newEvents.extend(events)


@dataclass
class _SyncRow:
    """
    One sink's state of one line (C{account_sync}).
    """

    applied: int = 0
    username: str | None = None
    error: str | None = None
    nextTry: float | None = None
    tries: int = 0


@implementer(IDeviceStore, IAccountStore, IAccountSyncStore)
class MemoryDeviceStore(StoreWrites, AccountWrites):
    """
    An L{IDeviceStore} in memory.  Every Deferred it returns has already
    fired; values handed out are immutable or fresh copies.  A write either
    happens whole or fails with L{StoreError} and changes nothing.
    """

    _log = Logger()

    def __init__(self) -> None:
        self._records = _MemoryRecords({}, {}, {}, 0)
        self._events: list[Event] = []
        # How many events were pruned from the head of _events: an event's
        # position (its id) is its place in the list, from 1, plus these.
        self._pruned = 0
        self._listeners = ChangeListeners()
        self._accountSync: dict[tuple[str, str, int], _SyncRow] = {}

    def _write(self, check: Callable[[], _T], apply: Callable[[_MemoryRecords, _T], object]):
        """
        Check, then apply to a copy of the records, which replaces them only
        if C{apply} succeeds.

        @return: an already-fired Deferred with C{apply}'s result.
        """

        def run(checked: _T):
            records = self._records.copy()
            result = apply(records, checked)
            self._events.extend(records.newEvents)
            records.newEvents = []
            self._records = records
            self._told(records)
            return defer.succeed(result)

        return whenValid(check, run)

    def _read(self, work):
        return defer.succeed(work(self._records))

    def getDevice(self, mac):
        return defer.succeed(self._records.devices.get(mac))

    def listDevices(self):
        devices = self._records.devices
        return defer.succeed([devices[mac] for mac in sorted(devices)])

    def pageDevices(self, state=None, vendor=None, model=None, text=None, after=None, limit=100,
                    sort="mac", descending=False):
        return whenValid(
            lambda: checkDevicePage(state, vendor, model, text, after, limit, sort, descending),
            lambda checked: defer.succeed(self._devicePage(*checked)),
        )

    def _devicePage(self, state, vendor, model, text, after, limit, sort, descending) -> list[DeviceInfo]:
        records = self._records
        if sort == "mac" and not descending:
            macs = sorted(mac for mac in records.devices if after is None or mac > after)
            ordered = (records.devices[mac] for mac in macs)
        else:
            ordered = sortedDevices(records.devices.values(), sort, descending)
            if after is not None:
                cursor = (after, after) if sort == "mac" else after
                ordered = [device for device in ordered if isAfter(sort, descending, device, cursor)]
        found: list[DeviceInfo] = []
        for device in ordered:
            if len(found) >= limit:
                break
            if state is not None and device.state != state:
                continue
            if vendor is not None and device.vendor != vendor:
                continue
            if model is not None and device.model != model:
                continue
            if text is not None and not textMatches(text, device, records.getLines(device.mac)):
                continue
            found.append(device)
        return found

    def deviceRevision(self, mac):
        return defer.succeed(self._records.revisions.get(mac))

    def readDevice(self, mac):
        records = self._records
        device = records.devices.get(mac)
        if device is None:
            return defer.succeed(None)
        return defer.succeed((device, records.getLines(mac), records.revisions[mac]))

    def readDevices(self, macs):
        def read(checked):
            records = self._records
            found = {}
            for mac in checked:
                device = records.devices.get(mac)
                version = records.versions[mac][0] if mac in records.versions else None
                layer = records.layers.get(f"device:{mac}")
                found[mac] = (device, () if device is None else records.getLines(mac), version,
                              None if layer is None else _copyLayer(layer))
            return defer.succeed(found)

        return whenValid(lambda: [checkMAC(mac) for mac in macs], read)

    def countDevices(self):
        counts: dict[tuple[str, str | None], int] = {}
        for device in self._records.devices.values():
            key = (device.state, device.vendor)
            counts[key] = counts.get(key, 0) + 1
        return defer.succeed(counts)

    def getLines(self, mac):
        return defer.succeed(self._records.getLines(mac))

    def getLayer(self, scope):
        layer = self._records.layers.get(scope)
        return defer.succeed(None if layer is None else _copyLayer(layer))

    def listScopes(self):
        return defer.succeed(sorted(self._records.layers))

    def addEvents(self, events):
        return whenValid(lambda: checkEvents(events), self._appendEvents)

    def _appendEvents(self, events: tuple[Event, ...]):
        self._events.extend(events)
        return defer.succeed(None)

    def recordRows(self, deviceRows, eventRows):
        """
        L{record} on rows the caller has validated, applied to the records
        in place: merging valid devices cannot fail half-way, so the copy
        that makes other writes all-or-nothing (as large as the store) is
        not needed.
        """
        devices = tuple(deviceFromRow(row) for row in deviceRows)
        events = [Event(*row) for row in eventRows]
        mergeDevicesInto(self._records, devices, sightings=True)
        self._events.extend(events)
        self._told(self._records)
        return defer.succeed(None)

    def _told(self, records: _MemoryRecords) -> None:
        scopes, records.newScopes = records.newScopes, set()
        if scopes:
            self._listeners.tell(frozenset(scopes))

    def addChangeListener(self, listener):
        self._listeners.add(listener)

    def removeChangeListener(self, listener):
        self._listeners.remove(listener)

    def pushesChanges(self):
        """
        C{False}: the Provisioner's poll of the feed is what its tests
        exercise, though this process's changes are all told.
        """
        return False

    def changesAfter(self, seq):
        records = self._records
        changes = records.changes
        latest = records.seq
        if seq is None or seq > latest or (seq < latest and (not changes or changes[0][0] > seq + 1)):
            return defer.succeed((latest, None))
        return defer.succeed((latest, frozenset(scope for s, scope in changes if s > seq)))

    def markFetched(self, rows):
        return whenValid(lambda: checkFetched(rows), self._markFetched)

    def _markFetched(self, rows):
        versions = self._records.versions
        for mac, version in rows:
            known = versions.get(mac)
            if known is not None:
                versions[mac] = (known[0], version)
        return defer.succeed(None)

    def deviceVersions(self, macs):
        def read(checked):
            versions = self._records.versions
            return defer.succeed({mac: versions[mac] for mac in checked if mac in versions})

        return whenValid(lambda: [checkMAC(mac) for mac in macs], read)

    def pageStale(self, after=None, limit=100):
        def read(checked):
            found = sorted(
                (mac, current, fetched)
                for mac, (current, fetched) in self._records.versions.items()
                if fetched is not None and current > fetched and (after is None or mac > after)
            )
            return defer.succeed(found[:checked])

        return whenValid(lambda: checkLimit(limit), read)

    def countStale(self):
        return defer.succeed(sum(
            1 for current, fetched in self._records.versions.values()
            if fetched is not None and current > fetched
        ))

    def listEvents(self, mac=None, limit=100):
        return whenValid(lambda: checkLimit(limit), lambda n: defer.succeed(self._newest(mac, n)))

    def _newest(self, mac: str | None, limit: int) -> list[Event]:
        found: list[Event] = []
        for event in reversed(self._events):
            if len(found) >= limit:
                break
            if mac is None or event.mac == mac:
                found.append(event)
        return found

    def eventsAfter(self, cursor=None, mac=None, limit=100):
        """
        An event's position is its place in the list, from 1, counting the
        pruned ones.
        """
        return whenValid(
            lambda: (checkCursor(cursor), checkLimit(limit)),
            lambda checked: defer.succeed(self._after(mac, *checked)),
        )

    def _after(self, mac: str | None, cursor: int | None, limit: int) -> EventPage:
        events, first = self._events, self._pruned
        end = first + len(events)
        if cursor is None:
            return EventPage(tuple(reversed(self._newest(mac, limit))), end)
        found: list[Event] = []
        position = min(max(cursor, first), end)
        while position < end and len(found) < limit:
            event = events[position - first]
            position += 1
            if mac is None or event.mac == mac:
                found.append(event)
        return EventPage(tuple(found), end if len(found) < limit else position)

    def pageEvents(self, mac=None, kind=None, before=None, limit=100):
        return whenValid(lambda: checkLimit(limit),
                         lambda n: defer.succeed(self._eventPage(mac, kind, before, n)))

    def _eventPage(self, mac, kind, before, limit) -> list[tuple[int, Event]]:
        # An event's id is its position (see eventsAfter).
        found: list[tuple[int, Event]] = []
        first, count = self._pruned, len(self._events)
        end = count if before is None else max(0, min(before - 1 - first, count))
        for index in range(end - 1, -1, -1):
            if len(found) >= limit:
                break
            event = self._events[index]
            if (mac is None or event.mac == mac) and (kind is None or event.kind == kind):
                found.append((first + index + 1, event))
        return found

    def pruneEvents(self, before, limit):
        def prune(checked: tuple[float, int]):
            before, limit = checked
            events = self._events
            count, most = 0, min(limit, len(events))
            while count < most and events[count].time < before:
                count += 1
            del events[:count]
            self._pruned += count
            return defer.succeed(count)

        return whenValid(lambda: (checkTime(before), checkLimit(limit)), prune)

    def settingsVersion(self):
        return defer.succeed(self._records.version)

    # -- IAccountSyncStore

    def _pending(self, sink: str) -> list[tuple[int, str, int, bool]]:
        sync = self._accountSync
        return sorted(
            (version, mac, index, deleted)
            for (mac, index), (version, deleted) in self._records.accountLines.items()
            if version > sync.get((sink, mac, index), _SyncRow()).applied
        )

    def pendingAccounts(self, sink, limit=100):
        def read(checked):
            sink, limit = checked
            found = []
            for version, mac, index, deleted in self._pending(sink)[:limit]:
                line = None if deleted else next(
                    (line for line in self._records.getLines(mac) if line.index == index), None)
                row = self._accountSync.get((sink, mac, index), _SyncRow())
                found.append(PendingAccount(mac, index, version, deleted, line, row.username))
            return defer.succeed(found)

        return whenValid(lambda: (checkSink(sink), checkPendingLimit(limit)), read)

    def markApplied(self, sink, rows):
        def write(checked):
            sink, rows = checked
            for mac, index, version, username in rows:
                row = self._accountSync.setdefault((sink, mac, index), _SyncRow())
                if version >= row.applied:
                    self._accountSync[(sink, mac, index)] = _SyncRow(version, username)
            return defer.succeed(None)

        return whenValid(lambda: (checkSink(sink), checkApplied(rows)), write)

    def markFailed(self, sink, keys, error, nextTry, tries):
        def write(checked):
            sink, keys = checked
            for mac, index in keys:
                row = self._accountSync.setdefault((sink, mac, index), _SyncRow())
                row.error, row.nextTry, row.tries = str(error), nextTry, tries
            return defer.succeed(None)

        return whenValid(lambda: (checkSink(sink), checkKeys(keys)), write)

    def accountBacklog(self, sinks):
        return whenValid(lambda: checkSinks(sinks),
                         lambda sinks: defer.succeed({sink: len(self._pending(sink)) for sink in sinks}))

    def accountSyncState(self, mac, sinks):
        def read(checked):
            mac, sinks = checked
            found = []
            for (lineMAC, index), (version, deleted) in sorted(self._records.accountLines.items()):
                if lineMAC != mac:
                    continue
                for sink in sinks:
                    row = self._accountSync.get((sink, mac, index), _SyncRow())
                    found.append(LineSyncState(sink, index, version, deleted, row.applied, row.error,
                                               row.nextTry, row.tries))
            return defer.succeed(found)

        return whenValid(lambda: (checkMAC(mac), checkSinks(sinks)), read)

    def pruneAccounts(self, sinks):
        def write(sinks):
            lines, sync = self._records.accountLines, self._accountSync
            gone = [
                key for key, (version, deleted) in lines.items()
                if deleted and all(sync.get((sink, *key), _SyncRow()).applied >= version for sink in sinks)
            ]
            for key in gone:
                del lines[key]
                for sink in list(sync):
                    if sink[1:] == key:
                        del sync[sink]
            return defer.succeed(len(gone))

        return whenValid(lambda: checkSinks(sinks), write)

    def close(self):
        return defer.succeed(None)
