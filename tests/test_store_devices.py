"""
Tests for the device store's paging and revisions
(L{snomprov.interfaces.IDeviceStore.pageDevices}, C{deviceRevision},
C{readDevice}, C{writeDevice}, C{deleteDevice} with an expected revision),
against every backend, then the SQLite query plan of a page.
"""

from __future__ import annotations

import sqlite3

import pytest
import pytest_twisted

from snomprov.device import DeviceInfo, Event, Line
from snomprov.store import PreconditionFailed, StoreError
from snomprov.store.filters import foldText, likePattern
from snomprov.store.columns import deviceToRow
from snomprov.store.sql import devicePageQuery

from test_store import _openSQLite, snapshot, store  # noqa: F401

MAC1 = "000413000001"
MAC2 = "000413000002"
MAC3 = "0004F2000003"


def line(index, user="alice", password="pw-secret", **kw):
    return Line(index=index, user=user, password=password, **kw)


@pytest_twisted.inlineCallbacks
def allPages(store, limit, **filters):
    """
    Every page of C{pageDevices} with C{filters}, asking C{limit + 1} to
    know whether another page follows, as the API does.
    """
    pages, after = [], None
    while True:
        found = yield store.pageDevices(after=after, limit=limit + 1, **filters)
        page = found[:limit]
        pages.append([d.mac for d in page])
        if len(found) <= limit:
            return pages
        after = page[-1].mac


@pytest_twisted.inlineCallbacks
def test_pagesCoverEveryDeviceOnce(store):
    """
    Pages of any size hold every device exactly once, in MAC order.
    """
    macs = [f"000413{index:06X}" for index in range(23)]
    yield store.mergeDevices([DeviceInfo(mac, state="seen") for mac in reversed(macs)])
    for limit in (1, 4, 22, 23, 50):
        pages = yield allPages(store, limit)
        assert [mac for page in pages for mac in page] == macs
        assert all(len(page) <= limit for page in pages)
        assert len(pages) == -(-23 // limit)
    assert (yield store.pageDevices(limit=0)) == []
    assert [d.mac for d in (yield store.pageDevices(after=macs[20]))] == macs[21:]


@pytest_twisted.inlineCallbacks
def test_emptyStorePage(store):
    assert (yield store.pageDevices()) == []
    assert (yield store.pageDevices(text="x", state="seen")) == []


@pytest.fixture
def populated(store):
    pytest_twisted.blockon(_populate(store))
    return store


def _populate(store):
    devices = [
        DeviceInfo(MAC1, vendor="snom", model="snomD785", state="fetched", ip="192.0.2.1",
                   firmware="10.1.33.33", notes="Reception desk"),
        DeviceInfo(MAC2, vendor="snom", model="snom360", state="seen", notes="100% busy"),
        DeviceInfo(MAC3, vendor="linksys", model="SPA942", state="registered", notes="back_office"),
    ]
    return store.applyImport(devices, {
        MAC1: (line(1, user="1001", displayName="Ada Lovelace"),),
        MAC3: (line(1, user="2002", authUser="auth-Zed", displayName="Zoë"),),
    })


@pytest.mark.parametrize("filters,expected", [
    ({"state": "seen"}, [MAC2]),
    ({"state": "notified"}, []),
    ({"vendor": "snom"}, [MAC1, MAC2]),
    ({"vendor": "SNOM"}, []),
    ({"model": "SPA942"}, [MAC3]),
    ({"vendor": "snom", "model": "snom360"}, [MAC2]),
    ({"vendor": "snom", "state": "fetched"}, [MAC1]),
    ({"text": "0004f2"}, [MAC3]),          # the MAC, any case
    ({"text": "d785"}, [MAC1]),            # the model
    ({"text": "RECEPTION"}, [MAC1]),       # the notes
    ({"text": "192.0.2."}, [MAC1]),        # the address
    ({"text": "10.1.33"}, [MAC1]),         # the firmware
    ({"text": "2002"}, [MAC3]),            # a line's user
    ({"text": "auth-zed"}, [MAC3]),        # a line's auth user
    ({"text": "lovelace"}, [MAC1]),        # a line's display name
    ({"text": "Zoë"}, [MAC3]),
    ({"text": "ZOË"}, []),                # only ASCII letters fold, everywhere
    ({"text": "pw-secret"}, []),           # never the password
    ({"text": "snom"}, [MAC1, MAC2]),      # the model snom360 and snomD785
    ({"text": "nothing like it"}, []),
    ({"text": "snom", "state": "seen"}, [MAC2]),
])
@pytest_twisted.inlineCallbacks
def test_filters(populated, filters, expected):
    """
    Each filter, and filters together, select the devices matching all of
    them, in MAC order and across pages.
    """
    assert [d.mac for d in (yield populated.pageDevices(**filters))] == expected
    pages = yield allPages(populated, 1, **filters)
    assert [mac for page in pages for mac in page] == expected


@pytest.mark.parametrize("text,expected", [
    ("%", [MAC2]), ("100%", [MAC2]), ("0% b", [MAC2]), ("_", [MAC3]), ("k_o", [MAC3]),
    ("back_", [MAC3]), ("\\", []), ("0_0", []), ("%%", []),
])
@pytest_twisted.inlineCallbacks
def test_textWildcardsAreLiteral(populated, text, expected):
    """
    C{%}, C{_} and C{\\} in the text are the characters themselves, not
    SQL wildcards: C{_} does not match the C{0} of any MAC.
    """
    assert [d.mac for d in (yield populated.pageDevices(text=text))] == expected


@pytest_twisted.inlineCallbacks
def test_backslashInText(store):
    yield store.mergeDevices([DeviceInfo(MAC1, notes="C:\\phones"), DeviceInfo(MAC2, notes="C:phones")])
    assert [d.mac for d in (yield store.pageDevices(text=":\\p"))] == [MAC1]


def test_foldAndPattern():
    assert foldText("ÄbC-Zoë") == "Äbc-zoë"
    assert likePattern("A%_\\") == "%a\\%\\_\\\\%"


@pytest.mark.parametrize("filters", [
    {"state": "asleep"}, {"vendor": 3}, {"text": b"x"}, {"after": "00:04:13:00:00:01"},
    {"after": "nope"}, {"limit": -1}, {"limit": "10"},
])
@pytest_twisted.inlineCallbacks
def test_badPageRefused(store, filters):
    with pytest.raises(StoreError):
        yield store.pageDevices(**filters)


# ---------------------------------------------------------------------------
# Revisions


@pytest_twisted.inlineCallbacks
def test_revisionRules(store):
    """
    A new device has a revision; sightings leave it; a change of vendor,
    model, notes or lines moves it to a value no device had before.
    """
    assert (yield store.deviceRevision(MAC1)) is None
    yield store.mergeDevices([DeviceInfo(MAC1, state="seen", ip="192.0.2.1")])
    seen = []

    @pytest_twisted.inlineCallbacks
    def revision():
        value = yield store.deviceRevision(MAC1)
        assert isinstance(value, int)
        seen.append(value)
        return value

    first = yield revision()
    for sighting in (DeviceInfo(MAC1, ip="192.0.2.2", firmware="1.0", lastSeen=5.0, firstSeen=4.0),
                     DeviceInfo(MAC1, state="fetched", sipAddress=("192.0.2.2", 5060)),
                     DeviceInfo(MAC1)):
        yield store.mergeDevices([sighting])
        assert (yield revision()) == first
    for change in (DeviceInfo(MAC1, vendor="snom"), DeviceInfo(MAC1, model="snomD785"),
                   DeviceInfo(MAC1, notes="desk")):
        before = seen[-1]
        yield store.mergeDevices([change])
        assert (yield revision()) > before
    yield store.mergeDevices([DeviceInfo(MAC1, vendor="snom", notes="desk")])  # the same again
    assert (yield revision()) == seen[-2]
    yield store.setLines(MAC1, [line(1)])
    assert (yield revision()) > seen[-2]
    yield store.setLines(MAC1, [line(1)])
    assert (yield revision()) == seen[-2]
    yield store.applyImport([], {MAC1: [line(1), line(2, user="bob")]})
    assert (yield revision()) > seen[-2]
    yield store.applyImport([DeviceInfo(MAC1, model="snom360")], {})
    assert (yield revision()) > seen[-2]
    # Deleted and made again: a revision it never had.
    assert (yield store.deleteDevice(MAC1)) is True
    assert (yield store.deviceRevision(MAC1)) is None
    yield store.mergeDevices([DeviceInfo(MAC1)])
    assert (yield revision()) > max(seen[:-1])
    assert seen == sorted(seen)


@pytest_twisted.inlineCallbacks
def test_revisionsOfOtherDevicesKept(store):
    yield store.mergeDevices([DeviceInfo(MAC1), DeviceInfo(MAC2)])
    other = yield store.deviceRevision(MAC2)
    yield store.setLines(MAC1, [line(1)])
    yield store.mergeDevices([DeviceInfo(MAC1, notes="x")])
    assert (yield store.deviceRevision(MAC2)) == other


@pytest_twisted.inlineCallbacks
def test_recordedRowsMoveRevisions(store):
    """
    The recorder's path (C{recordRows}, which SQL merges without reading
    back) follows the same rules: new devices get a revision, sightings keep
    it, vendor, model or notes move it.
    """
    yield store.recordRows([deviceToRow(DeviceInfo(MAC1, state="seen", ip="192.0.2.1"))], [])
    first = yield store.deviceRevision(MAC1)
    assert isinstance(first, int)
    rows = [deviceToRow(DeviceInfo(mac, state="seen", lastSeen=float(i)))
            for i, mac in enumerate((MAC1, MAC2, MAC1))]
    yield store.recordRows(rows, [(1.0, MAC1, "subscribe", "")])
    assert (yield store.deviceRevision(MAC1)) == first
    second = yield store.deviceRevision(MAC2)
    assert isinstance(second, int) and second > first
    yield store.recordRows([deviceToRow(DeviceInfo(MAC1, vendor="snom")),
                            deviceToRow(DeviceInfo(MAC2, ip="192.0.2.9"))], [])
    moved = yield store.deviceRevision(MAC1)
    assert moved > second and (yield store.deviceRevision(MAC2)) == second
    yield store.recordRows([deviceToRow(DeviceInfo(MAC2, notes="hall"))], [])
    assert (yield store.deviceRevision(MAC2)) > moved
    version = yield store.settingsVersion()
    yield store.recordRows([deviceToRow(DeviceInfo(MAC2, notes="lobby"))], [])
    assert (yield store.settingsVersion()) == version  # notes are not rendered


@pytest_twisted.inlineCallbacks
def test_writeDeviceCreates(store):
    """
    A new device is C{registered} with its operator fields and lines, and
    its audit event, in one write; the revision returned is the stored one.
    """
    event = Event(5.0, MAC1, "audit", "cli device:000413000001: registered")
    revision = yield store.writeDevice(DeviceInfo(MAC1, vendor="snom", model="snomD785", notes="n",
                                                  ip="ignored", state="fetched"),
                                       [line(2), line(1)], events=[event], new=True)
    assert revision == (yield store.deviceRevision(MAC1))
    assert (yield store.getDevice(MAC1)) == DeviceInfo(MAC1, vendor="snom", model="snomD785", notes="n",
                                                       state="registered")
    assert (yield store.getLines(MAC1)) == (line(1), line(2))
    assert (yield store.listEvents()) == [event]
    assert (yield store.readDevice(MAC1)) == ((yield store.getDevice(MAC1)), (line(1), line(2)), revision)
    assert (yield store.readDevice(MAC2)) is None
    assert (yield store.settingsVersion()) == 1


@pytest_twisted.inlineCallbacks
def test_writeDeviceKeepsSightings(store):
    """
    Writing a seen device replaces its operator fields (C{None} clears
    one) and keeps what was seen of it; the settings version moves only
    for what a rendered file depends on.
    """
    seen = DeviceInfo(MAC1, vendor="snom", model="snom360", firmware="8.7", ip="192.0.2.3", state="fetched",
                      firstSeen=1.0, lastSeen=2.0, notes="old", sipAddress=("192.0.2.3", 5060))
    yield store.mergeDevices([seen])
    start = yield store.deviceRevision(MAC1)
    version = yield store.settingsVersion()
    revision = yield store.writeDevice(DeviceInfo(MAC1, vendor="snom", model="snom360"), [], expected=start)
    assert revision > start and (yield store.settingsVersion()) == version  # only the notes went
    assert (yield store.getDevice(MAC1)) == DeviceInfo(
        MAC1, vendor="snom", model="snom360", firmware="8.7", ip="192.0.2.3", state="fetched",
        firstSeen=1.0, lastSeen=2.0, notes=None, sipAddress=("192.0.2.3", 5060))
    again = yield store.writeDevice(DeviceInfo(MAC1, vendor="snom", model="snom360"), [], expected=revision)
    assert again == revision  # nothing changed
    withLines = yield store.writeDevice(DeviceInfo(MAC1, vendor="snom", model="snom360"), [line(1)])
    assert withLines > revision and (yield store.settingsVersion()) == version + 1
    yield store.writeDevice(DeviceInfo(MAC1, vendor="snom", model="snomD785"), [line(1)])
    assert (yield store.settingsVersion()) == version + 2


@pytest.mark.parametrize("how", ["stale", "missing", "exists"])
@pytest_twisted.inlineCallbacks
def test_writeDevicePreconditionChangesNothing(store, how):
    """
    A write against a revision that is not the stored one, against a device
    that is missing, or creating one that exists, fails with
    L{PreconditionFailed} and changes nothing: not the device, its lines,
    the versions, nor the events.
    """
    yield store.writeDevice(DeviceInfo(MAC2, vendor="snom"), [line(1)])
    revision = yield store.deviceRevision(MAC2)
    mac, kwargs = {
        "stale": (MAC2, {"expected": revision - 1}),
        "missing": (MAC1, {"expected": revision}),
        "exists": (MAC2, {"new": True}),
    }[how]
    before = yield snapshot(store)
    with pytest.raises(PreconditionFailed):
        yield store.writeDevice(DeviceInfo(mac, vendor="linksys", notes="second"), [line(1, user="bob")],
                                events=[Event(9.0, mac, "audit", "x device:y: z")], **kwargs)
    assert (yield snapshot(store)) == before
    assert (yield store.deviceRevision(MAC2)) == revision


@pytest_twisted.inlineCallbacks
def test_twoWritersSecondRefused(store):
    """
    Two writers read the same revision; the first wins, the second is
    refused and the first's change is intact.
    """
    yield store.writeDevice(DeviceInfo(MAC1, vendor="snom"), [line(1)])
    read = yield store.deviceRevision(MAC1)
    first = yield store.writeDevice(DeviceInfo(MAC1, vendor="snom", notes="first"), [line(1)], expected=read)
    with pytest.raises(PreconditionFailed):
        yield store.writeDevice(DeviceInfo(MAC1, vendor="snom", notes="second"), [], expected=read)
    assert (yield store.readDevice(MAC1)) == (DeviceInfo(MAC1, vendor="snom", notes="first", state="registered"),
                                              (line(1),), first)


@pytest_twisted.inlineCallbacks
def test_writeDeviceRefusesBadInput(store):
    for device, lines, kwargs in [
        (DeviceInfo("00:04:13:00:00:01"), [], {}),
        (DeviceInfo(MAC1), [line(1), line(1)], {}),
        (DeviceInfo(MAC1), [], {"expected": "3"}),
        (DeviceInfo(MAC1), [], {"events": ["not an event"]}),
        ("not a device", [], {}),
    ]:
        with pytest.raises(StoreError):
            yield store.writeDevice(device, lines, **kwargs)
    assert (yield snapshot(store)) == ([], {}, {}, [], 0)


@pytest_twisted.inlineCallbacks
def test_deleteDeviceExpected(store):
    """
    A delete against a stale revision changes nothing; against the stored
    one it deletes, appending its events; the one-argument call still works.
    """
    yield store.writeDevice(DeviceInfo(MAC1, vendor="snom"), [line(1)])
    yield store.writeDevice(DeviceInfo(MAC2, vendor="snom"), [line(1)])
    revision = yield store.deviceRevision(MAC1)
    before = yield snapshot(store)
    event = Event(3.0, MAC1, "audit", "cli device:000413000001: deleted")
    with pytest.raises(PreconditionFailed):
        yield store.deleteDevice(MAC1, expected=revision + 1, events=[event])
    with pytest.raises(PreconditionFailed):
        yield store.deleteDevice(MAC3, expected=revision, events=[event])
    assert (yield snapshot(store)) == before
    assert (yield store.deleteDevice(MAC1, expected=revision, events=[event])) is True
    assert (yield store.getDevice(MAC1)) is None and (yield store.getLines(MAC1)) == ()
    assert (yield store.listEvents()) == [event]
    assert (yield store.deleteDevice(MAC2)) is True
    assert (yield store.deleteDevice(MAC2, events=[event])) is False
    assert (yield store.listEvents()) == [event]


# ---------------------------------------------------------------------------
# SQLite: a page reads the primary key in order.

MIDDLE = f"{50_000:012X}"


@pytest.mark.parametrize("filters", [
    {}, {"after": MIDDLE}, {"state": "seen", "after": MIDDLE}, {"vendor": "snom", "model": "snom360"},
    {"text": "desk", "after": MIDDLE}, {"descending": True, "after": MIDDLE},
])
@pytest_twisted.inlineCallbacks
def test_pageQueryUsesTheKeyInOrder(tmp_path, filters):
    """
    On 100,000 devices a page is read along the MAC's index, stopping at
    the limit: no table scan sorted afterwards (no temporary B-tree for the
    C{ORDER BY}); the text filter searches the lines once per page.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    yield store.close()
    with sqlite3.connect(path) as connection:
        connection.executemany("INSERT INTO devices (mac, vendor, model, state) VALUES (?, ?, ?, ?)",
                               [(f"{index:012X}", "snom", "snom360", "seen") for index in range(100_000)])
        connection.execute("ANALYZE")
        query = dict(state=None, vendor=None, model=None, text=None, after=None, limit=101)
        query.update(filters)
        statement, params = devicePageQuery(**query)
        plan = " / ".join(row[-1] for row in connection.execute("EXPLAIN QUERY PLAN " + statement, params))
        rows = connection.execute(statement, params).fetchall()
    assert "TEMP B-TREE" not in plan, plan
    assert "sqlite_autoindex_devices_1" in plan or "PRIMARY KEY" in plan, plan
    if "text" in filters:  # the lines are searched once, not once per device
        assert "LIST SUBQUERY" in plan and "CORRELATED" not in plan, plan
    assert len(rows) == (0 if "text" in filters else 101)


@pytest_twisted.inlineCallbacks
def test_migratedDevicesGetARevision(tmp_path):
    """
    Devices stored before revisions existed start at one revision, and a
    change moves them past it.
    """
    from test_store import MIGRATIONS

    path = tmp_path / "store.sqlite"
    old = yield _openSQLite(path, MIGRATIONS[:3])
    yield old.close()
    with sqlite3.connect(path) as connection:  # as an older snomprov wrote them
        connection.executemany("INSERT INTO devices (mac, vendor) VALUES (?, ?)", [(MAC1, "snom"), (MAC2, None)])
    store = yield _openSQLite(path)
    try:
        first = yield store.deviceRevision(MAC1)
        assert first == (yield store.deviceRevision(MAC2))
        yield store.setLines(MAC1, [line(1)])
        assert (yield store.deviceRevision(MAC1)) > first
        assert (yield store.readDevice(MAC2))[2] == first
    finally:
        yield store.close()


@pytest.mark.parametrize("text,expected", [
    ("0004f2", [MAC3]), ("RECEPTION", [MAC1]), ("auth-zed", [MAC3]), ("lovelace", [MAC1]), ("Zoë", [MAC3]),
    ("ZOË", []), ("100%", [MAC2]), ("k_o", [MAC3]), ("0_0", []),
])
@pytest_twisted.inlineCallbacks
def test_textFilterWithLower(tmp_path, text, expected):
    """
    A dialect whose C{LIKE} heeds case (PostgreSQL) compares C{lower} of
    the columns: the same devices match as with SQLite's own C{LIKE} (and
    as in memory, L{foldText}: only ASCII letters fold).
    """
    from dataclasses import replace

    from snomprov.store.sql import SQLITE

    store = yield _openSQLite(tmp_path / "store.sqlite")
    try:
        yield _populate(store)
        found = [d.mac for d in (yield store.pageDevices(text=text))]
        store.dialect = replace(SQLITE, likeIgnoresCase=False)
        lowered = [d.mac for d in (yield store.pageDevices(text=text))]
    finally:
        yield store.close()
    assert found == lowered == expected


@pytest_twisted.inlineCallbacks
def test_readDevices(store):
    """
    C{readDevices} gives each MAC asked its device, lines, current version
    and device layer, as the single reads give them; a MAC not stored has
    none of them but its layer.
    """
    from snomprov.device import Setting, SettingsLayer

    yield store.writeDevice(DeviceInfo(MAC1, vendor="snom", model="snomD785"), [line(2), line(1)], new=True)
    layer = SettingsLayer(f"device:{MAC3}", (Setting("language", "Deutsch"),))
    yield store.putLayer(layer)
    found = yield store.readDevices([MAC1, MAC2, MAC3, MAC1])
    versions = yield store.deviceVersions([MAC1])
    assert found == {
        MAC1: ((yield store.getDevice(MAC1)), (line(1), line(2)), versions[MAC1][0], None),
        MAC2: (None, (), None, None),
        MAC3: (None, (), None, (yield store.getLayer(f"device:{MAC3}"))),
    }
    assert found[MAC3][3].settings == layer.settings
    with pytest.raises(StoreError):
        yield store.readDevices(["not-a-mac"])


@pytest_twisted.inlineCallbacks
def test_readDevicesMany(store):
    """
    C{readDevices} of more MACs than one SQLite statement asks for (read in
    a few statements, not per device) gives each what the single reads give.
    """
    from snomprov.device import Setting, SettingsLayer

    devices = [DeviceInfo(f"000413{n:06X}", vendor="snom", model="snomD785", state="registered")
               for n in range(600)]
    lines = {d.mac: tuple(line(i) for i in range(n % 3, 0, -1)) for n, d in enumerate(devices)}
    yield store.applyImport(devices, lines)
    for d in devices[::97]:
        yield store.putLayer(SettingsLayer(f"device:{d.mac}", (Setting("language", d.mac),)))
    macs = [d.mac for d in devices] + ["000413FFFFFF"]
    found = yield store.readDevices(macs)
    assert list(found) == macs
    versions = yield store.deviceVersions(macs)
    for mac in macs:
        device = yield store.getDevice(mac)
        lines = (yield store.getLines(mac)) if device is not None else ()
        version = versions[mac][0] if mac in versions else None
        assert found[mac] == (device, lines, version, (yield store.getLayer(f"device:{mac}"))), mac
