"""
Tests for L{snomprov.store}: one contract suite run against every
L{IDeviceStore} implementation, then what only the SQLite store promises
(persistence, migrations, durability across a crash).
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.python.filepath import FilePath
from zope.interface.verify import verifyObject

import snomprov
from snomprov.dburl import parseDatabaseURL
from snomprov.device import DeviceInfo, Event, EventPage, Line, Setting, SettingsLayer
from snomprov.interfaces import IDeviceStore
from snomprov.store import NoSuchStore, StoreError, UnknownDevice, openStore
from snomprov.store.memory import MemoryDeviceStore
from snomprov.store.migrations import MIGRATIONS, SchemaError, migrate
from snomprov.store.sql import POSTGRESQL, SQLITE, SQLDeviceStore

MAC1 = "000413922D24"
MAC2 = "000413922D25"
MAC3 = "0004F2000001"


def _reactor():
    from twisted.internet import reactor

    return reactor


def _openSQLite(path, migrations=MIGRATIONS):
    return SQLDeviceStore.openSQLite(str(path), reactor=_reactor(), migrations=migrations)


_databases = itertools.count()


_templates: dict[str, str] = {}


def _migratedTemplate(server) -> str:
    """
    A database of C{server} migrated once (by L{migrate}, straight on a
    psycopg connection), that new test databases copy.
    """
    name = _templates.get(server.directory)
    if name is None:
        name = f"store_template_{os.getpid()}"
        server.createDatabase(name)
        with server.connect(name) as connection:
            connection.autocommit = False
            with connection.cursor() as cursor:
                migrate(cursor, POSTGRESQL, 0.0)
            connection.commit()
        _templates[server.directory] = name
    return name


def _openPostgreSQL(server, name=None, migrations=MIGRATIONS):
    """
    Open a store on a new database of the test PostgreSQL C{server}: a copy
    of one migrated once (the open finds nothing to migrate), or, with
    C{migrations} of a test's own, an empty one.

    @return: C{(Deferred firing with the store, the database's name)}.
    """
    name = name or f"store_{os.getpid()}_{next(_databases)}"
    server.createDatabase(name, template=_migratedTemplate(server) if migrations is MIGRATIONS else None)
    url = parseDatabaseURL(server.dsn(name))
    return SQLDeviceStore.openPostgreSQL(url, reactor=_reactor(), migrations=migrations), name


@pytest.fixture(params=["memory", "sqlite", "sqlite-counting", "postgresql"])
def store(request, tmp_path):
    """
    A fresh, empty store of each implementation; an SQL one is closed
    after the test.  C{sqlite-counting} is SQLite telling new devices as a
    database without C{rowid} would (see L{Dialect.newestDevice});
    C{postgresql} is a new database of the session's test PostgreSQL,
    dropped after the test.
    """
    if request.param == "memory":
        opened = MemoryDeviceStore()
    elif request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        d, name = _openPostgreSQL(server)
        opened = pytest_twisted.blockon(d)
        yield opened
        pytest_twisted.blockon(opened.close())
        server.dropDatabase(name)
        return
    else:
        opened = pytest_twisted.blockon(_openSQLite(tmp_path / "store.sqlite"))
        if request.param == "sqlite-counting":
            opened.dialect = replace(SQLITE, newestDevice=None)
    yield opened
    pytest_twisted.blockon(opened.close())


@defer.inlineCallbacks
def snapshot(store):
    """
    Everything a store holds, as comparable values.
    """
    devices = yield store.listDevices()
    lines = {}
    for device in devices:
        lines[device.mac] = yield store.getLines(device.mac)
    layers = {}
    for scope in (yield store.listScopes()):
        layers[scope] = yield store.getLayer(scope)
    events = yield store.listEvents(limit=1000)
    version = yield store.settingsVersion()
    return devices, lines, layers, events, version


def line(index, user="alice", password="s3cret", **kw):
    return Line(index=index, user=user, password=password, **kw)


FULL = DeviceInfo(
    mac=MAC1,
    vendor="snom",
    model="snomD785",
    firmware="10.1.33.33",
    ip="192.0.2.20",
    state="seen",
    firstSeen=100.0,
    lastSeen=200.0,
    notes="reception",
    sipAddress=("192.0.2.20", 5060),
)


# ---------------------------------------------------------------------------
# The contract, for every implementation.


def test_providesInterface(store):
    """
    Every store provides L{IDeviceStore} fully.
    """
    assert verifyObject(IDeviceStore, store)


@pytest_twisted.inlineCallbacks
def test_emptyStore(store):
    """
    A new store has no devices, lines, layers or events and settings version
    0.
    """
    assert (yield store.getDevice(MAC1)) is None
    assert (yield store.getLines(MAC1)) == ()
    assert (yield store.getLayer("site")) is None
    assert (yield snapshot(store)) == ([], {}, {}, [], 0)


@pytest_twisted.inlineCallbacks
def test_mergeInsertsAndReadsBack(store):
    """
    A merged device comes back with every field as written.
    """
    yield store.mergeDevices([FULL])
    assert (yield store.getDevice(MAC1)) == FULL
    assert (yield store.listDevices()) == [FULL]


@pytest_twisted.inlineCallbacks
def test_mergeNoneKeepsStored(store):
    """
    Merging a device whose fields are C{None} keeps the stored values; known
    fields replace them.
    """
    yield store.mergeDevices([FULL])
    yield store.mergeDevices([DeviceInfo(MAC1, ip="192.0.2.99", lastSeen=300.0)])
    got = yield store.getDevice(MAC1)
    assert got == DeviceInfo(
        **{**vars(FULL), "ip": "192.0.2.99", "lastSeen": 300.0},
    )


@pytest_twisted.inlineCallbacks
def test_mergeFirstSeenEarliestStateForward(store):
    """
    C{firstSeen} keeps the earliest time and C{state} never moves back.
    """
    yield store.mergeDevices([DeviceInfo(MAC1, state="notified", firstSeen=50.0)])
    yield store.mergeDevices([DeviceInfo(MAC1, state="seen", firstSeen=80.0)])
    got = yield store.getDevice(MAC1)
    assert (got.firstSeen, got.state) == (50.0, "notified")
    yield store.mergeDevices([DeviceInfo(MAC1, state="fetched", firstSeen=10.0)])
    got = yield store.getDevice(MAC1)
    assert (got.firstSeen, got.state) == (10.0, "fetched")


@pytest_twisted.inlineCallbacks
def test_mergeSameMACTwiceInOneCall(store):
    """
    Two records of one MAC in one call merge in order.
    """
    yield store.mergeDevices(
        [DeviceInfo(MAC1, vendor="snom", ip="192.0.2.1"), DeviceInfo(MAC1, ip="192.0.2.2")]
    )
    assert (yield store.getDevice(MAC1)) == DeviceInfo(MAC1, vendor="snom", ip="192.0.2.2")


@pytest_twisted.inlineCallbacks
def test_mergeManyDevices(store):
    """
    A batch larger than one C{WHERE mac IN (...)} query merges each device
    with what is stored.
    """
    macs = [f"000413{n:06X}" for n in range(1200)]
    yield store.mergeDevices([DeviceInfo(mac, vendor="snom", firstSeen=1.0) for mac in macs[::2]])
    yield store.mergeDevices([DeviceInfo(mac, ip="192.0.2.1", firstSeen=2.0) for mac in macs])
    devices = {d.mac: d for d in (yield store.listDevices())}
    assert len(devices) == 1200
    assert devices[macs[0]] == DeviceInfo(macs[0], vendor="snom", ip="192.0.2.1", firstSeen=1.0)
    assert devices[macs[1]] == DeviceInfo(macs[1], ip="192.0.2.1", firstSeen=2.0)


@pytest_twisted.inlineCallbacks
def test_recordDevicesAndEvents(store):
    """
    L{record} merges devices and appends events; a bad event writes
    neither.
    """
    yield store.record([DeviceInfo(MAC1, vendor="snom")], [Event(1.0, MAC1, "subscribe")])
    assert (yield store.getDevice(MAC1)).vendor == "snom"
    assert [e.kind for e in (yield store.listEvents(MAC1))] == ["subscribe"]
    if isinstance(store, SQLDeviceStore):
        with pytest.raises(StoreError):
            yield store.record([DeviceInfo(MAC2)], [Event(1.0, "nope", "subscribe")])
        assert (yield store.getDevice(MAC2)) is None


def _randomDevices(rng, macs, count):
    """
    C{count} sightings of some of C{macs}, any field known or not.
    """
    def maybe(value):
        return value if rng.random() < 0.6 else None

    states = (None, "registered", "seen", "notified", "fetched")
    return [
        DeviceInfo(
            rng.choice(macs), vendor=maybe(rng.choice(["snom", "yealink"])),
            model=maybe(rng.choice(["snomD785", "snom720"])), firmware=maybe("10.1"),
            ip=maybe(f"192.0.2.{rng.randrange(4)}"), state=rng.choice(states),
            firstSeen=maybe(float(rng.randrange(100))), lastSeen=maybe(float(rng.randrange(100))),
            notes=maybe("n"), sipAddress=maybe(("192.0.2.9", rng.randrange(5060, 5062))),
        )
        for _ in range(count)
    ]


@defer.inlineCallbacks
def _recordRowsAsRecord(store, seed, macs, batches, largest):
    """
    Write C{batches} random batches of up to C{largest} sightings of
    C{macs} (and an event) with L{recordRows} into C{store} and with
    L{record} into a memory store, checking after each that both hold the
    same, settings version included.
    """
    import random

    from snomprov.store import deviceToRow

    reference = MemoryDeviceStore()
    rng = random.Random(seed)
    for batch in range(batches):
        devices = _randomDevices(rng, macs, rng.randrange(largest + 1))
        events = [Event(float(batch), rng.choice(macs + [None]), "subscribe", f"d{batch}")]
        yield reference.record(devices, events)
        yield store.recordRows([deviceToRow(d) for d in devices],
                               [(e.time, e.mac, e.kind, e.detail) for e in events])
        assert (yield snapshot(store)) == (yield snapshot(reference)), batch


@pytest_twisted.inlineCallbacks
def test_recordRowsAsRecord(store, tmp_path):
    """
    L{recordRows} on the rows of devices and events leaves exactly what
    L{record} on them leaves, settings version included, batch after batch.
    """
    yield _recordRowsAsRecord(store, 7, [MAC1, MAC2, MAC3, "000413000001"], 30, 3)


@pytest_twisted.inlineCallbacks
def test_recordRowsManyAsRecord(store):
    """
    Batches of hundreds of rows (in the SQL store, several multi-row
    upserts), some MACs several times, some vendors and models changing,
    leave exactly what L{record} leaves, settings version included.
    """
    macs = [f"000413{n:06X}" for n in range(300)]
    yield _recordRowsAsRecord(store, 11, macs, 12, 600)


def test_oncePerMAC():
    """
    Device rows are upserted in runs holding each MAC once (PostgreSQL
    refuses an upsert touching a row twice): each MAC's rows in order, one
    per run.
    """
    from snomprov.store.sql import _oncePerMAC

    rows = [(mac, n) for n, mac in enumerate("ABACBAD")]
    assert _oncePerMAC(rows) == [
        [("A", 0), ("B", 1), ("C", 3), ("D", 6)], [("A", 2), ("B", 4)], [("A", 5)]]
    assert _oncePerMAC(rows[:2]) == [rows[:2]]
    assert _oncePerMAC([]) == []


@pytest_twisted.inlineCallbacks
def test_recordRowsSightingsKeepVersion(store):
    """
    Recording sightings of known devices that leave their vendor and model
    as stored (or unknown) keeps the settings version; a new device or a
    changed model moves it once per write.
    """
    from snomprov.store import deviceToRow

    macs = [f"000413{n:06X}" for n in range(200)]
    known = [deviceToRow(DeviceInfo(mac, vendor="snom", model="snomD785")) for mac in macs]
    yield store.recordRows(known, [])
    assert (yield store.settingsVersion()) == 1
    seen = [deviceToRow(DeviceInfo(mac, vendor="snom", ip="192.0.2.1", state="notified",
                                   lastSeen=5.0, sipAddress=("192.0.2.1", 5060))) for mac in macs]
    yield store.recordRows(seen, [])
    yield store.recordRows(known[:150], [])
    assert (yield store.settingsVersion()) == 1
    yield store.recordRows(seen[:150] + [deviceToRow(DeviceInfo(MAC3))], [])
    assert (yield store.settingsVersion()) == 2
    yield store.recordRows(seen[:140] + [deviceToRow(DeviceInfo(macs[140], model="snom720"))], [])
    assert (yield store.settingsVersion()) == 3
    assert (yield store.getDevice(macs[140])) == DeviceInfo(
        macs[140], vendor="snom", model="snom720", ip="192.0.2.1", state="notified",
        lastSeen=5.0, sipAddress=("192.0.2.1", 5060))


@pytest_twisted.inlineCallbacks
def test_recordRowsLargeBatch(store):
    """
    A batch of hundreds of rows (written in several multi-row statements by
    the SQL store) keeps every device and every event, in order.
    """
    from snomprov.store import deviceToRow

    devices = [DeviceInfo(f"000413{n:06X}", vendor="snom", state="notified", lastSeen=float(n))
               for n in range(300)]
    events = [(float(n), devices[n % 300].mac, "subscribe", f"e{n}") for n in range(777)]
    yield store.recordRows([deviceToRow(d) for d in devices], events)
    assert (yield store.listDevices()) == devices
    listed = yield store.listEvents(limit=1000)
    assert [(e.time, e.mac, e.kind, e.detail) for e in reversed(listed)] == events


@pytest_twisted.inlineCallbacks
def test_listDevicesOrderedByMAC(store):
    """
    Devices are listed by MAC whatever the order they were written in.
    """
    yield store.mergeDevices([DeviceInfo(MAC3), DeviceInfo(MAC1)])
    yield store.mergeDevices([DeviceInfo(MAC2)])
    assert [d.mac for d in (yield store.listDevices())] == [MAC1, MAC2, MAC3]


@pytest_twisted.inlineCallbacks
def test_countDevicesByStateAndVendor(store):
    """
    L{countDevices} counts devices per state and vendor, a device of no
    known vendor under C{None}; an empty store counts nothing.
    """
    assert (yield store.countDevices()) == {}
    yield store.mergeDevices([
        DeviceInfo(MAC1, vendor="snom", state="notified"),
        DeviceInfo(MAC2, vendor="snom", state="notified"),
        DeviceInfo(MAC3, vendor="linksys", state="fetched"),
        DeviceInfo("000000000001", state="seen"),
    ])
    assert (yield store.countDevices()) == {
        ("notified", "snom"): 2, ("fetched", "linksys"): 1, ("seen", None): 1}


@pytest.mark.parametrize(
    "device",
    [
        DeviceInfo("00:04:13:92:2d:24"),
        DeviceInfo(MAC1, state="gone"),
        DeviceInfo(MAC1, sipAddress=("192.0.2.1", "5060")),
        DeviceInfo(MAC1, notes="\udc80"),
    ],
)
@pytest_twisted.inlineCallbacks
def test_mergeRefusesBadDevices(store, device):
    """
    A non-normalised MAC, an unknown state, a bad SIP address or text that
    cannot be stored fail with L{StoreError}, and the other devices of the
    call are not written either.
    """
    with pytest.raises(StoreError):
        yield store.mergeDevices([DeviceInfo(MAC2), device])
    assert (yield snapshot(store)) == ([], {}, {}, [], 0)


@pytest_twisted.inlineCallbacks
def test_linesReplacedAndOrdered(store):
    """
    L{IDeviceStore.setLines} replaces all of a device's lines, and they come
    back ordered by index with every field kept.
    """
    yield store.mergeDevices([DeviceInfo(MAC1)])
    two = line(2, "bob", "", displayName="Bob", registrar="pbx", authUser="b", outboundProxy="sbc")
    yield store.setLines(MAC1, [two, line(1)])
    assert (yield store.getLines(MAC1)) == (line(1), two)
    yield store.setLines(MAC1, [line(3)])
    assert (yield store.getLines(MAC1)) == (line(3),)
    yield store.setLines(MAC1, [])
    assert (yield store.getLines(MAC1)) == ()


@pytest_twisted.inlineCallbacks
def test_setLinesUnknownDevice(store):
    """
    Lines for a device that is not stored fail with L{UnknownDevice}.
    """
    with pytest.raises(UnknownDevice):
        yield store.setLines(MAC1, [line(1)])
    assert (yield snapshot(store)) == ([], {}, {}, [], 0)


@pytest.mark.parametrize(
    "lines",
    [[line(0)], [line(1), line(1, "bob")], [Line(1, None)], ["1,alice"]],
)
@pytest_twisted.inlineCallbacks
def test_setLinesRefusesBadLines(store, lines):
    """
    Index 0, a repeated index, a missing user or something that is not a
    L{Line} fail with L{StoreError} and leave the old lines.
    """
    yield store.mergeDevices([DeviceInfo(MAC1)])
    yield store.setLines(MAC1, [line(1, "old")])
    before = yield snapshot(store)
    with pytest.raises(StoreError):
        yield store.setLines(MAC1, lines)
    assert (yield snapshot(store)) == before


@pytest_twisted.inlineCallbacks
def test_deleteDevice(store):
    """
    Deleting a device forgets it, its lines and its device layer, but not
    other layers; it answers whether the device existed.
    """
    yield store.mergeDevices([DeviceInfo(MAC1), DeviceInfo(MAC2)])
    yield store.setLines(MAC1, [line(1)])
    yield store.putLayer(SettingsLayer(f"device:{MAC1}", (Setting("a", "1"),)))
    yield store.putLayer(SettingsLayer("site", (Setting("a", "0"),)))
    assert (yield store.deleteDevice(MAC1)) is True
    assert (yield store.getDevice(MAC1)) is None
    assert (yield store.getLines(MAC1)) == ()
    assert (yield store.listScopes()) == ["site"]
    assert [d.mac for d in (yield store.listDevices())] == [MAC2]
    assert (yield store.deleteDevice(MAC1)) is False


LAYER = SettingsLayer(
    "model:snomD785",
    (
        Setting("user_name", "alice", idx=1, perm=""),
        Setting("user_name", "bob", idx=0, perm=" "),
        Setting("language", "Deutsch", idx=None, perm=None),
        Setting("zeta", "", idx=None, perm="RW"),
        Setting("alpha", "x < y & \"z\"", idx=2, perm="!"),
        Setting("user_pass", "R", idx=1, perm="R"),
    ),
    {"functionKeys": b"<functionKeys>\x00\xff</functionKeys>", "tbook": b""},
)


@pytest_twisted.inlineCallbacks
def test_layerRoundTrip(store):
    """
    A layer comes back exactly: settings in their order, C{perm} C{""},
    C{" "} and C{None} kept apart, C{idx} C{None} and C{0} kept apart, and
    documents as the same bytes.
    """
    yield store.putLayer(LAYER)
    got = yield store.getLayer(LAYER.scope)
    assert got == LAYER
    assert [(s.idx, s.perm) for s in got.settings] == [
        (1, ""), (0, " "), (None, None), (None, "RW"), (2, "!"), (1, "R"),
    ]  # fmt: skip
    assert all(type(body) is bytes for body in got.documents.values())


@pytest_twisted.inlineCallbacks
def test_layerReplaceDeleteAndScopes(store):
    """
    Putting a layer replaces the scope's layer whole; deleting answers
    whether it existed; scopes are listed sorted, empty layers included.
    """
    yield store.putLayer(LAYER)
    yield store.putLayer(SettingsLayer("site"))
    yield store.putLayer(SettingsLayer("vendor:snom", (Setting("a", "1"),)))
    replacement = SettingsLayer(LAYER.scope, (Setting("b", "2"),))
    yield store.putLayer(replacement)
    assert (yield store.getLayer(LAYER.scope)) == replacement
    assert (yield store.getLayer("site")) == SettingsLayer("site")
    assert (yield store.listScopes()) == ["model:snomD785", "site", "vendor:snom"]
    assert (yield store.deleteLayer("vendor:snom")) is True
    assert (yield store.deleteLayer("vendor:snom")) is False
    assert (yield store.listScopes()) == ["model:snomD785", "site"]


@pytest.mark.parametrize(
    "layer",
    [
        SettingsLayer("everywhere"),
        SettingsLayer("device:00:04:13:92:2d:24"),
        SettingsLayer("site", (Setting("a", None),)),
        SettingsLayer("site", (Setting("a", "1", idx=True),)),
        SettingsLayer("site", (), {"tbook": "<tbook/>"}),
    ],
)
@pytest_twisted.inlineCallbacks
def test_putLayerRefusesBadLayers(store, layer):
    """
    A bad or non-normalised scope, a missing value, a boolean index or a
    text document fail with L{StoreError}.
    """
    with pytest.raises(StoreError):
        yield store.putLayer(layer)
    assert (yield store.listScopes()) == []


@pytest_twisted.inlineCallbacks
def test_layersShareNothingMutable(store):
    """
    Changing the documents mapping given to C{putLayer}, or one returned by
    C{getLayer}, does not change the stored layer.
    """
    documents = {"tbook": b"<tbook/>"}
    yield store.putLayer(SettingsLayer("site", (), documents))
    documents["tbook"] = b"changed"
    got = yield store.getLayer("site")
    got.documents["dialplan"] = b"added"
    assert (yield store.getLayer("site")).documents == {"tbook": b"<tbook/>"}


@pytest_twisted.inlineCallbacks
def test_eventsNewestFirst(store):
    """
    Events are listed newest first (in the order they were added, whatever
    their times), limited, and filtered by MAC; events without a MAC are in
    the full list only.
    """
    yield store.addEvents([Event(5.0, MAC1, "subscribe"), Event(4.0, MAC2, "subscribe")])
    yield store.addEvents([Event(6.0, None, "rejected", "no MAC"), Event(7.0, MAC1, "notify-sent")])
    assert [e.kind for e in (yield store.listEvents())] == [
        "notify-sent", "rejected", "subscribe", "subscribe",
    ]  # fmt: skip
    assert (yield store.listEvents(limit=2)) == [
        Event(7.0, MAC1, "notify-sent"),
        Event(6.0, None, "rejected", "no MAC"),
    ]
    assert (yield store.listEvents(MAC1)) == [
        Event(7.0, MAC1, "notify-sent"),
        Event(5.0, MAC1, "subscribe"),
    ]
    assert (yield store.listEvents(MAC1, limit=1)) == [Event(7.0, MAC1, "notify-sent")]
    assert (yield store.listEvents(MAC3)) == []
    assert (yield store.listEvents(limit=0)) == []


@pytest_twisted.inlineCallbacks
def test_eventsAfterFollows(store):
    """
    Without a cursor, C{eventsAfter} gives the newest events oldest first;
    its cursor then reads on to the events added since, and to nothing when
    none was.
    """
    yield store.addEvents([Event(1.0, MAC1, "subscribe"), Event(2.0, MAC2, "subscribe")])
    yield store.addEvents([Event(3.0, None, "rejected", "no MAC")])
    first = yield store.eventsAfter(limit=2)
    assert first.events == (Event(2.0, MAC2, "subscribe"), Event(3.0, None, "rejected", "no MAC"))
    assert (yield store.eventsAfter(first.cursor)) == EventPage((), first.cursor)
    yield store.addEvents([Event(0.5, MAC1, "notify-sent", "u"), Event(4.0, MAC2, "notify-acked")])
    second = yield store.eventsAfter(first.cursor)
    assert second.events == (Event(0.5, MAC1, "notify-sent", "u"), Event(4.0, MAC2, "notify-acked"))
    assert (yield store.eventsAfter(second.cursor)).events == ()
    empty = yield store.eventsAfter(limit=0)
    assert empty.events == () and (yield store.eventsAfter(empty.cursor)).events == ()


@pytest_twisted.inlineCallbacks
def test_eventsAfterLimited(store):
    """
    After a cursor, at most C{limit} events are given, the oldest; the next
    call goes on with the rest.  A limit of 0 does not move the cursor.
    """
    start = yield store.eventsAfter()
    assert start.events == ()
    yield store.addEvents([Event(float(n), MAC1, "subscribe", str(n)) for n in range(5)])
    assert (yield store.eventsAfter(start.cursor, limit=0)).cursor == start.cursor
    read = []
    cursor = start.cursor
    for _ in range(3):
        page = yield store.eventsAfter(cursor, limit=2)
        read.append([e.detail for e in page.events])
        cursor = page.cursor
    assert read == [["0", "1"], ["2", "3"], ["4"]]


@pytest_twisted.inlineCallbacks
def test_eventsAfterOfOneDevice(store):
    """
    With a MAC, only that device's events are given, newest at the start
    and then those added since; other devices' events move the cursor past
    them all the same.
    """
    yield store.addEvents([Event(1.0, MAC1, "subscribe"), Event(2.0, MAC2, "subscribe"),
                           Event(3.0, MAC1, "notify-sent")])
    first = yield store.eventsAfter(mac=MAC1)
    assert first.events == (Event(1.0, MAC1, "subscribe"), Event(3.0, MAC1, "notify-sent"))
    yield store.addEvents([Event(4.0, MAC2, "notify-sent"), Event(5.0, None, "rejected")])
    second = yield store.eventsAfter(first.cursor, mac=MAC1)
    assert second.events == () and second.cursor > first.cursor
    yield store.addEvents([Event(6.0, MAC1, "config-fetched")])
    third = yield store.eventsAfter(second.cursor, mac=MAC1)
    assert third.events == (Event(6.0, MAC1, "config-fetched"),)
    assert (yield store.eventsAfter(first.cursor, mac=MAC3)).events == ()


@pytest_twisted.inlineCallbacks
def test_eventsAfterRefusesBadArguments(store):
    """
    A cursor or limit that is not a natural number is a L{StoreError}.
    """
    for cursor, limit in ((-1, 10), ("3", 10), (True, 10), (0, -1)):
        with pytest.raises(StoreError):
            yield store.eventsAfter(cursor, limit=limit)


@pytest_twisted.inlineCallbacks
def test_eventsAfterRecordedRows(store):
    """
    Events written by C{recordRows} (the daemon's recorder) are read on
    like any others.
    """
    start = yield store.eventsAfter()
    yield store.recordRows([], [(1.0, MAC1, "subscribe", "d")])
    assert (yield store.eventsAfter(start.cursor)).events == (Event(1.0, MAC1, "subscribe", "d"),)


@pytest_twisted.inlineCallbacks
def test_badEventsRefusedWhole(store):
    """
    One bad event (here, an empty kind) refuses the whole batch.
    """
    with pytest.raises(StoreError):
        yield store.addEvents([Event(1.0, MAC1, "subscribe"), Event(2.0, MAC1, "")])
    with pytest.raises(StoreError):
        yield store.listEvents(limit=-1)
    assert (yield store.listEvents()) == []


@pytest_twisted.inlineCallbacks
def test_applyImport(store):
    """
    An import merges its devices and replaces the lines of every MAC it
    names, leaving other devices' lines alone.
    """
    yield store.mergeDevices([DeviceInfo(MAC1, state="fetched"), DeviceInfo(MAC3)])
    yield store.setLines(MAC1, [line(1, "old"), line(2, "old")])
    yield store.setLines(MAC3, [line(1, "keep")])
    yield store.applyImport(
        [DeviceInfo(MAC1, vendor="snom", state="registered"), DeviceInfo(MAC2, vendor="snom")],
        {MAC1: (line(1, "new"),), MAC2: (line(2), line(1))},
    )
    assert (yield store.getDevice(MAC1)) == DeviceInfo(MAC1, vendor="snom", state="fetched")
    assert (yield store.getLines(MAC1)) == (line(1, "new"),)
    assert (yield store.getLines(MAC2)) == (line(1), line(2))
    assert (yield store.getLines(MAC3)) == (line(1, "keep"),)


@pytest.mark.parametrize(
    "devices, lines",
    [
        # Fails half way: MAC1 is merged and its lines written before the
        # lines of MAC3, a device that does not exist, are refused.
        ([DeviceInfo(MAC1, vendor="linksys")], {MAC1: (line(1, "new"),), MAC3: (line(1),)}),
        ([DeviceInfo(MAC2, vendor="snom")], {MAC2: (line(1),), MAC1: (line(0),)}),
        ([DeviceInfo(MAC2)], {MAC1: (line(2), line(2, "bob"))}),
        ([DeviceInfo(MAC2), DeviceInfo("nonsense")], {}),
        ([DeviceInfo(MAC2)], {"00-04-13-92-2D-24": (line(1),)}),
    ],
)
@pytest_twisted.inlineCallbacks
def test_applyImportAllOrNothing(store, devices, lines):
    """
    An import that fails anywhere (lines of an unknown device after a merge,
    a bad index, a repeated index, a bad MAC) changes nothing at all.
    """
    yield store.mergeDevices([DeviceInfo(MAC1, vendor="snom")])
    yield store.setLines(MAC1, [line(1, "old")])
    before = yield snapshot(store)
    with pytest.raises(StoreError):
        yield store.applyImport(devices, lines)
    assert (yield snapshot(store)) == before


@pytest_twisted.inlineCallbacks
def test_settingsVersionMoves(store):
    """
    The settings version grows on a new device, a vendor or model change,
    lines, layers and deletions: once per write.
    """
    versions = [(yield store.settingsVersion())]
    writes = [
        lambda: store.mergeDevices([DeviceInfo(MAC1), DeviceInfo(MAC2)]),
        lambda: store.mergeDevices([DeviceInfo(MAC1, model="snomD785")]),
        lambda: store.setLines(MAC1, [line(1)]),
        lambda: store.applyImport([DeviceInfo(MAC3)], {MAC3: (line(1),), MAC1: ()}),
        lambda: store.putLayer(SettingsLayer("site", (Setting("a", "1"),))),
        lambda: store.putLayer(SettingsLayer("site", (Setting("a", "1", perm=" "),))),
        lambda: store.deleteLayer("site"),
        lambda: store.deleteDevice(MAC2),
    ]
    for write in writes:
        yield write()
        versions.append((yield store.settingsVersion()))
    assert versions == list(range(len(writes) + 1))


@pytest_twisted.inlineCallbacks
def test_settingsVersionStays(store):
    """
    Sightings, events, failed writes and writing back what is already stored
    (the same lines, layer or import) leave the settings version alone.
    """
    layer = SettingsLayer("site", (Setting("a", "1"),), {"tbook": b"<tbook/>"})
    yield store.applyImport([DeviceInfo(MAC1, vendor="snom")], {MAC1: (line(1),)})
    yield store.putLayer(layer)
    version = yield store.settingsVersion()
    yield store.mergeDevices(
        [DeviceInfo(MAC1, ip="192.0.2.5", state="fetched", firmware="10.1", lastSeen=9.0)]
    )
    yield store.addEvents([Event(9.0, MAC1, "config-fetched")])
    yield store.setLines(MAC1, [line(1)])
    yield store.putLayer(SettingsLayer("site", (Setting("a", "1"),), {"tbook": b"<tbook/>"}))
    yield store.applyImport([DeviceInfo(MAC1, vendor="snom")], {MAC1: (line(1),)})
    yield store.deleteLayer("vendor:snom")
    assert (yield store.deleteDevice(MAC2)) is False
    with pytest.raises(StoreError):
        yield store.applyImport([DeviceInfo(MAC2)], {MAC3: (line(1),)})
    assert (yield store.settingsVersion()) == version


@pytest_twisted.inlineCallbacks
def test_reimportChangesNothing(store):
    """
    Applying the same import twice leaves exactly what the first left.
    """
    devices = [DeviceInfo(MAC1, vendor="snom", model="snom360", state="registered")]
    lines = {MAC1: (line(1), line(2, "bob"))}
    yield store.applyImport(devices, lines)
    first = yield snapshot(store)
    yield store.applyImport(devices, lines)
    assert (yield snapshot(store)) == first


# ---------------------------------------------------------------------------
# openStore


@pytest_twisted.inlineCallbacks
def test_openMemory(tmp_path):
    """
    C{memory:} opens a L{MemoryDeviceStore}.
    """
    store = yield openStore("memory:", tmp_path)
    assert isinstance(store, MemoryDeviceStore)


@pytest.mark.parametrize("base", [str, FilePath])
@pytest_twisted.inlineCallbacks
def test_openSQLiteRelative(tmp_path, base):
    """
    A relative C{sqlite:} path is resolved against the given directory (a
    C{str} or a L{FilePath}) and its missing directories are created.
    """
    store = yield openStore("sqlite:var/db/snomprov.sqlite", base(str(tmp_path)), _reactor())
    try:
        yield store.mergeDevices([DeviceInfo(MAC1)])
    finally:
        yield store.close()
    assert (tmp_path / "var" / "db" / "snomprov.sqlite").is_file()


@pytest_twisted.inlineCallbacks
def test_openWithoutCreating(tmp_path):
    """
    With C{create=False}, a missing SQLite file is L{NoSuchStore} naming it,
    and neither it nor its directory is created; an existing one opens.
    """
    path = tmp_path / "var" / "snomprov.sqlite"
    with pytest.raises(NoSuchStore) as e:
        yield openStore("sqlite:var/snomprov.sqlite", str(tmp_path), _reactor(), create=False)
    assert e.value.location == str(path)
    assert not (tmp_path / "var").exists()
    store = yield openStore("sqlite:var/snomprov.sqlite", str(tmp_path), _reactor())
    yield store.close()
    store = yield openStore("sqlite:var/snomprov.sqlite", str(tmp_path), _reactor(), create=False)
    yield store.close()
    memory = yield openStore("memory:", str(tmp_path), create=False)
    assert isinstance(memory, MemoryDeviceStore)


@pytest_twisted.inlineCallbacks
def test_openSQLiteAbsoluteAndMemory(tmp_path):
    """
    An absolute C{sqlite:} path ignores the base directory; C{sqlite::memory:}
    opens a working private database.
    """
    path = tmp_path / "abs.sqlite"
    store = yield openStore(f"sqlite:{path}", "/nonexistent", _reactor())
    yield store.close()
    assert path.is_file()
    store = yield openStore("sqlite::memory:", tmp_path, _reactor())
    try:
        yield store.mergeDevices([DeviceInfo(MAC1)])
        assert (yield store.listDevices()) == [DeviceInfo(MAC1)]
    finally:
        yield store.close()


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgresql:///snomprov", "names no host"),
        ("postgres://u:hunter2@db/", "names no database"),
        ("postgresql://u:hunter2@db:99999/x", "is not a database URL"),
        ("postgresql://u:hunter2@db/x?sslmode=require", "has a query"),
        ("mysql://db/x", "unknown scheme 'mysql'"),
        ("memory:x", "takes nothing"),
        ("sqlite:", "expected sqlite:PATH"),
        ("sqlite:///var/x.sqlite", "expected sqlite:PATH"),
        ("snomprov.sqlite", r"bad \[store\] url"),
    ],
)
@pytest_twisted.inlineCallbacks
def test_openBadURL(tmp_path, url, message):
    """
    URLs the store cannot open fail with a L{StoreError} naming the key and
    saying why, never with the URL's password.
    """
    with pytest.raises(StoreError, match=message) as e:
        yield openStore(url, tmp_path, _reactor())
    assert "[store] url" in str(e.value)
    assert "hunter2" not in str(e.value)


@pytest_twisted.inlineCallbacks
def test_openUnopenableFile(tmp_path):
    """
    A database path that is a directory fails with a L{StoreError} naming
    it.
    """
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(StoreError, match="dir.sqlite"):
        yield openStore("sqlite:dir.sqlite", tmp_path, _reactor())


# ---------------------------------------------------------------------------
# What only the SQL store promises.


def _tableRows(path, query):
    connection = sqlite3.connect(str(path))
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


@pytest_twisted.inlineCallbacks
def test_sqliteReopenGivesEverythingBack(tmp_path):
    """
    Closing and reopening an SQLite store gives back its devices, lines,
    layers, events and settings version.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    yield store.applyImport([FULL], {MAC1: (line(1), line(2, "bob"))})
    yield store.putLayer(LAYER)
    yield store.addEvents([Event(1.5, MAC1, "subscribe", "from 192.0.2.20")])
    before = yield snapshot(store)
    yield store.close()
    store = yield _openSQLite(path)
    try:
        assert (yield snapshot(store)) == before
        assert before[4] == 2
    finally:
        yield store.close()


@pytest_twisted.inlineCallbacks
def test_sqliteSchemaVersionRecordedOnce(tmp_path):
    """
    Opening a new database records every migration once; reopening it runs
    none again.
    """
    path = tmp_path / "store.sqlite"
    for _ in range(3):
        store = yield _openSQLite(path)
        yield store.close()
    assert _tableRows(path, "SELECT version FROM schema_version") == [(v,) for v, _ in MIGRATIONS]
    assert _tableRows(path, "SELECT value FROM meta WHERE name = 'settings_version'") == [(0,)]


@pytest_twisted.inlineCallbacks
def test_sqliteNewerSchemaRefused(tmp_path):
    """
    A database migrated by a newer snomprov is refused with a
    L{SchemaError} naming both versions.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    yield store.close()
    known = len(MIGRATIONS)
    connection = sqlite3.connect(str(path))
    with connection:
        connection.execute("INSERT INTO schema_version VALUES (?, 0)", (known + 1,))
    connection.close()
    newer = rf"schema version {known + 1}, newer than this snomprov knows \({known}\)"
    with pytest.raises(SchemaError, match=newer):
        yield _openSQLite(path)


@pytest_twisted.inlineCallbacks
def test_sqliteFailedMigrationChangesNothing(tmp_path):
    """
    Migrations run in one transaction: when a later one fails, the earlier
    ones are not kept either, and a good open afterwards starts from
    scratch.
    """
    path = tmp_path / "store.sqlite"
    broken = MIGRATIONS + ((len(MIGRATIONS) + 1, ("CREATE TABLE extra (a INTEGER)", "NOT SQL AT ALL")),)
    with pytest.raises(StoreError, match="cannot open"):
        yield _openSQLite(path, broken)
    assert _tableRows(path, "SELECT name FROM sqlite_master") == []
    store = yield _openSQLite(path)
    yield store.close()
    assert _tableRows(path, "SELECT version FROM schema_version") == [(v,) for v, _ in MIGRATIONS]


@pytest_twisted.inlineCallbacks
def test_sqliteMigrationsAppliedInOrder(tmp_path):
    """
    A database at version 1 gets only the newer migrations on open.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path, MIGRATIONS[:1])
    yield store.close()
    newer = MIGRATIONS + ((len(MIGRATIONS) + 1, ("CREATE TABLE extra (a INTEGER)",)),)
    store = yield _openSQLite(path, newer)
    yield store.close()
    assert _tableRows(path, "SELECT version FROM schema_version ORDER BY version") == [
        (v,) for v, _ in newer]
    assert _tableRows(path, "SELECT name FROM sqlite_master WHERE name = 'extra'") == [("extra",)]


@pytest_twisted.inlineCallbacks
def test_sqliteEventsIndexDroppedAndBack(tmp_path):
    """
    Migration 2 dropped the events' per-MAC index (nothing in the daemon
    listed one device's events then, and it made every event write
    dearer); migration 6 brings it back, on C{(mac, id)}, for the
    per-device history.  The events of a version 1 database are all kept
    through both and listed per MAC at each version.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path, MIGRATIONS[:1])
    events = [Event(float(n), (MAC1, MAC2, None)[n % 3], "subscribe", f"e{n}") for n in range(9)]
    yield store.addEvents(events)
    yield store.close()
    indexes = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
    assert [name for name, _ in _tableRows(path, indexes)] == ["events_mac_id"]
    for version, expected in ((2, []), (6, [("events_mac_id", "CREATE INDEX events_mac_id ON events (mac, id)")])):
        store = yield _openSQLite(path, MIGRATIONS[:version])
        try:
            assert (yield store.listEvents(MAC1, limit=2)) == [events[6], events[3]]
            assert (yield store.listEvents(limit=100)) == events[::-1]
        finally:
            yield store.close()
        assert _tableRows(path, indexes) == expected, version


@pytest_twisted.inlineCallbacks
def test_sqlitePragmas(tmp_path):
    """
    The database file is in WAL mode, and the store's connection enforces
    foreign keys and syncs fully on commit.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    try:
        pragmas = yield store._pool.runInteraction(
            lambda txn: [
                txn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "foreign_keys", "synchronous")
            ]
        )
    finally:
        yield store.close()
    assert pragmas == ["wal", 1, 2]


@pytest_twisted.inlineCallbacks
def test_sqliteConstraintBecomesStoreError(tmp_path):
    """
    A write the database itself refuses (a line of an unknown device, past
    the store's own checks) fails with L{StoreError} and is rolled back.
    """
    store = yield _openSQLite(tmp_path / "store.sqlite")
    try:

        def sneak(records):
            records.putDevice(DeviceInfo(MAC2))
            records.putLines(MAC1, (line(1),))

        with pytest.raises(StoreError, match="FOREIGN KEY"):
            yield store._run(sneak, write=True)
        assert (yield store.listDevices()) == []
    finally:
        yield store.close()


_CRASHING_CHILD = """
import os, signal, sys
from twisted.internet import defer, task
from snomprov.dburl import parseDatabaseURL
from snomprov.device import DeviceInfo, Event, Line
from snomprov.store import openStore

@defer.inlineCallbacks
def main(reactor):
    store = yield openStore("sqlite:" + sys.argv[1], "/", reactor)
    mac = "000413922D24"
    yield store.applyImport(
        [DeviceInfo(mac, vendor="snom", state="registered")],
        {mac: (Line(1, "alice", "s3cret"),)},
    )
    yield store.addEvents([Event(1.0, mac, "subscribe")])
    yield store.recordRows(
        [(mac, None, "snomD785", None, "192.0.2.5", "notified", 2.0, 2.0, None, "192.0.2.5", 5060, None)],
        [(2.0, mac, "notify-sent", "http://p/x.xml")],
    )
    sys.stdout.write("ok\\n")
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)

task.react(main)
"""


@pytest_twisted.inlineCallbacks
def test_sqliteAcknowledgedWritesSurviveCrash(tmp_path):
    """
    A child process writes (the recorder's L{recordRows} too), sees its
    Deferreds fire, says so and is killed with SIGKILL without closing
    anything; the writes are all there when the database is opened again.
    """
    path = tmp_path / "store.sqlite"
    env = dict(os.environ, PYTHONPATH=str(Path(snomprov.__file__).resolve().parents[1]))
    child = subprocess.run(
        [sys.executable, "-c", _CRASHING_CHILD, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert (child.stdout, child.returncode) == ("ok\n", -signal.SIGKILL), child.stderr
    store = yield _openSQLite(path)
    try:
        assert (yield store.getDevice(MAC1)) == DeviceInfo(
            MAC1, vendor="snom", model="snomD785", ip="192.0.2.5", state="notified",
            firstSeen=2.0, lastSeen=2.0, sipAddress=("192.0.2.5", 5060))
        assert (yield store.getLines(MAC1)) == (Line(1, "alice", "s3cret"),)
        assert (yield store.listEvents()) == [
            Event(2.0, MAC1, "notify-sent", "http://p/x.xml"), Event(1.0, MAC1, "subscribe")]
        assert (yield store.settingsVersion()) == 2
    finally:
        yield store.close()


@pytest.mark.parametrize("dialect", [SQLITE, POSTGRESQL])
def test_dialectStatements(dialect):
    """
    Every migration statement is complete in every dialect (no type left to
    fill in), and placeholders follow the dialect's parameter style.
    """
    for version, statements in MIGRATIONS:
        for statement in statements:
            assert "{" not in dialect.ddl(statement)
    upsert = dialect.upsert("devices", ("mac",), ("mac", "ip"))
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    rows = (f"SELECT c0, c1 FROM unnest({mark}::TEXT[], {mark}::TEXT[]) WITH ORDINALITY AS r(c0, c1, n) ORDER BY n"
            if dialect.arrayRows else f"VALUES ({mark}, {mark})")
    assert upsert == (
        f"INSERT INTO devices (mac, ip) {rows} "
        "ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip"
    )
