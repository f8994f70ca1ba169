"""
Tests for the change feed and the per-device settings versions of every
L{IDeviceStore} (L{snomprov.store.changes}, L{snomprov.store.writes}): the
memory store and SQLite, through the same contract.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
import pytest_twisted
from zope.interface.verify import verifyObject

sys.path.insert(0, str(Path(__file__).parent))

from snomprov.device import DeviceInfo, Setting, SettingsLayer  # noqa: E402
from snomprov.interfaces import IDeviceStore  # noqa: E402
from snomprov.store import StoreError  # noqa: E402
from snomprov.store.changes import CHANGES_KEPT, covers  # noqa: E402
from snomprov.store.migrations import MIGRATIONS  # noqa: E402
from test_store import MAC1, MAC2, MAC3, _openSQLite, _tableRows, line, store  # noqa: E402, F401

SNOM = DeviceInfo(mac=MAC1, vendor="snom", model="snomD785", state="registered")
SNOM2 = DeviceInfo(mac=MAC2, vendor="snom", model="snom360", state="registered")
SPA = DeviceInfo(mac=MAC3, vendor="linksys", model="SPA942", state="registered")


def layer(scope, value="1"):
    return SettingsLayer(scope, (Setting("language", value),))


@pytest_twisted.inlineCallbacks
def registered(store):
    """
    Three devices with a line each; every one fetched its current version.

    @return: the feed's latest seq after that.
    """
    yield store.applyImport([SNOM, SNOM2, SPA], {mac: (line(1),) for mac in (MAC1, MAC2, MAC3)})
    versions = yield store.deviceVersions([MAC1, MAC2, MAC3])
    yield store.markFetched([(mac, current) for mac, (current, _) in versions.items()])
    latest, _ = yield store.changesAfter(None)
    return latest


def test_providesInterface(store):
    """
    Every store provides the feed's methods (L{IDeviceStore} in full).
    """
    assert verifyObject(IDeviceStore, store)


@pytest_twisted.inlineCallbacks
def test_changesAfterNamesTheScopes(store):
    """
    A device's lines name its device scope, a layer its own scope; nothing
    changed since the latest seq is the empty set; C{None} is "reset".
    """
    latest, scopes = yield store.changesAfter(None)
    assert scopes is None
    yield store.mergeDevices([SNOM, SNOM2])
    latest2, scopes = yield store.changesAfter(latest)
    assert scopes == {f"device:{MAC1}", f"device:{MAC2}"} and latest2 > latest
    yield store.setLines(MAC1, (line(1),))
    yield store.putLayer(layer("vendor:snom"))
    latest3, scopes = yield store.changesAfter(latest2)
    assert scopes == {f"device:{MAC1}", "vendor:snom"}
    assert (yield store.changesAfter(latest3)) == (latest3, frozenset())


@pytest_twisted.inlineCallbacks
def test_noChangeNoFeed(store):
    """
    Writing back what is stored, sightings and events add no change.
    """
    latest = yield registered(store)
    yield store.setLines(MAC1, (line(1),))
    yield store.mergeDevices([DeviceInfo(mac=MAC1, ip="192.0.2.9", state="fetched")])
    yield store.putLayer(layer("site"))
    latest2, _ = yield store.changesAfter(latest)
    yield store.putLayer(layer("site"))
    assert (yield store.changesAfter(latest2)) == (latest2, frozenset())
    assert (yield store.deleteLayer("model:none")) is False
    assert (yield store.changesAfter(latest2)) == (latest2, frozenset())


@pytest_twisted.inlineCallbacks
def test_deleteDeviceIsADeviceChange(store):
    """
    Forgetting a device names its scope and forgets its versions.
    """
    latest = yield registered(store)
    assert (yield store.deleteDevice(MAC1)) is True
    assert (yield store.changesAfter(latest))[1] == {f"device:{MAC1}"}
    assert MAC1 not in (yield store.deviceVersions([MAC1, MAC2]))


@pytest_twisted.inlineCallbacks
def test_feedIsBounded(store):
    """
    Past L{CHANGES_KEPT} rows the oldest are pruned, and a reader from
    before them is told to reset (C{None}); a reader after them is not.
    """
    latest = yield registered(store)
    many = [DeviceInfo(mac=f"0004130{n:05X}", vendor="snom") for n in range(CHANGES_KEPT + 5)]
    yield store.mergeDevices(many)
    newest, scopes = yield store.changesAfter(latest)
    assert scopes is None and newest > latest
    yield store.setLines(MAC1, (line(1, "bob"),))
    assert (yield store.changesAfter(newest))[1] == {f"device:{MAC1}"}


@pytest_twisted.inlineCallbacks
def test_sqliteFeedRowsBounded(tmp_path):
    """
    SQLite keeps at most L{CHANGES_KEPT} change rows.
    """
    path = tmp_path / "s.sqlite"
    store = yield _openSQLite(path)
    try:
        many = [DeviceInfo(mac=f"0004130{n:05X}", vendor="snom") for n in range(CHANGES_KEPT + 50)]
        yield store.mergeDevices(many)
        yield store.mergeDevices([SNOM])
    finally:
        yield store.close()
    assert _tableRows(path, "SELECT count(*) FROM changes") == [(CHANGES_KEPT,)]


@pytest_twisted.inlineCallbacks
def test_ownWritesCurrentAndFetched(store):
    """
    A device's own writes (registration, lines, device layer) make the new
    settings version its current one; fetching it makes it not stale.
    """
    yield store.mergeDevices([SNOM])
    version = yield store.settingsVersion()
    assert (yield store.deviceVersions([MAC1, MAC2])) == {MAC1: (version, None)}
    yield store.markFetched([(MAC1, version)])
    assert (yield store.deviceVersions([MAC1])) == {MAC1: (version, version)}
    yield store.putLayer(layer(f"device:{MAC1}"))
    after = yield store.settingsVersion()
    assert after > version
    assert (yield store.deviceVersions([MAC1])) == {MAC1: (after, version)}
    assert (yield store.pageStale()) == [(MAC1, after, version)]
    yield store.markFetched([(MAC1, after)])
    assert (yield store.pageStale()) == [] and (yield store.countStale()) == 0


@pytest_twisted.inlineCallbacks
def test_markFetchedMany(store):
    """
    One C{markFetched} of hundreds of devices (one statement on
    PostgreSQL) sets each its own version, a MAC given twice the last;
    unknown MACs are ignored.
    """
    devices = [DeviceInfo(f"000413{n:06X}", vendor="snom", model="snomD785", state="registered")
               for n in range(300)]
    yield store.mergeDevices(devices)
    macs = [d.mac for d in devices]
    rows = [(mac, n) for n, mac in enumerate(macs)] + [(macs[0], 7), ("0004F2FFFFFF", 3)]
    yield store.markFetched(rows)
    versions = yield store.deviceVersions(macs)
    assert [fetched for _, fetched in (versions[mac] for mac in macs)] == [7, *range(1, 300)]


@pytest_twisted.inlineCallbacks
def test_neverFetchedIsNotStale(store):
    """
    A device that never fetched is not stale, whatever changes.
    """
    yield store.applyImport([SNOM], {MAC1: (line(1),)})
    yield store.putLayer(layer("site"))
    assert (yield store.countStale()) == 0 and (yield store.pageStale()) == []
    current, fetched = (yield store.deviceVersions([MAC1]))[MAC1]
    assert fetched is None and current == (yield store.settingsVersion())


@pytest.mark.parametrize(
    "scope, stale",
    [("site", [MAC1, MAC2, MAC3]), ("vendor:snom", [MAC1, MAC2]), ("vendor:linksys", [MAC3]),
     ("model:snom360", [MAC2]), ("model:nothing", []), (f"device:{MAC3}", [MAC3])],
)
@pytest_twisted.inlineCallbacks
def test_layerCoversItsDevices(store, scope, stale):
    """
    A layer write naming no devices makes stale every device its scope
    covers: all for site, a vendor's, a model's, the one device.
    """
    yield registered(store)
    yield store.putLayer(layer(scope))
    assert [mac for mac, _, _ in (yield store.pageStale())] == stale
    assert (yield store.countStale()) == len(stale)
    version = yield store.settingsVersion()
    yield store.markFetched([(mac, version) for mac in stale])
    yield store.deleteLayer(scope)
    assert [mac for mac, _, _ in (yield store.pageStale())] == stale


@pytest_twisted.inlineCallbacks
def test_layerAffectedNamesDevices(store):
    """
    C{affected} names the devices whose files a layer change alters: only
    those become stale (unknown MACs are ignored; none named: none stale).
    """
    yield registered(store)
    yield store.putLayer(layer("site"), affected=[MAC2, "0004F2FFFFFF"])
    assert [mac for mac, _, _ in (yield store.pageStale())] == [MAC2]
    yield store.putLayer(layer("vendor:snom"), affected=())
    assert [mac for mac, _, _ in (yield store.pageStale())] == [MAC2]
    latest, _ = yield store.changesAfter(None)
    yield store.deleteLayer("site", affected=[MAC3])
    assert [mac for mac, _, _ in (yield store.pageStale())] == [MAC2, MAC3]
    assert (yield store.changesAfter(latest))[1] == {"site"}


@pytest_twisted.inlineCallbacks
def test_badInputRefused(store):
    """
    A bad MAC in C{affected} or C{markFetched}, or a bad version, is a
    L{StoreError} and changes nothing.
    """
    latest = yield registered(store)
    for write in (lambda: store.putLayer(layer("site"), affected=["nonsense"]),
                  lambda: store.putLayer(layer("site"), affected=MAC1),
                  lambda: store.markFetched([("nonsense", 1)]),
                  lambda: store.markFetched([(MAC1, -1)]),
                  lambda: store.markFetched([(MAC1, "1")])):
        with pytest.raises(StoreError):
            yield write()
    assert (yield store.changesAfter(latest)) == (latest, frozenset())
    assert (yield store.countStale()) == 0


@pytest_twisted.inlineCallbacks
def test_pageStaleInPages(store):
    """
    Stale devices come ordered by MAC, C{limit} at a time after C{after}.
    """
    yield registered(store)
    yield store.putLayer(layer("site"))
    first = yield store.pageStale(limit=2)
    assert [mac for mac, _, _ in first] == [MAC1, MAC2]
    rest = yield store.pageStale(after=first[-1][0], limit=2)
    assert [mac for mac, _, _ in rest] == [MAC3]


@pytest_twisted.inlineCallbacks
def test_sightingsMoveOnlyRegistrations(store):
    """
    The recorder's rows: a new device is a change of its scope (and is
    never-fetched); a sighting that changes the model is a change of the
    device's scope but does not make it stale (the phone reports what it
    is: its files were made for that).
    """
    latest = yield registered(store)
    row = (MAC1, "snom", "snomD785", "10.1", "192.0.2.5", "fetched", 5.0, 5.0, None, None, None, None)
    new = ("000413AAAAAA", "snom", None, None, "192.0.2.6", "seen", 5.0, 5.0, None, None, None, None)
    yield store.recordRows([row, new], [])
    latest2, scopes = yield store.changesAfter(latest)
    assert scopes == {"device:000413AAAAAA"}
    assert (yield store.countStale()) == 0
    moved = (MAC1, "snom", "snomD715", None, None, None, 6.0, 6.0, None, None, None, None)
    yield store.recordRows([moved], [])
    assert (yield store.changesAfter(latest2))[1] == {f"device:{MAC1}"}
    assert (yield store.countStale()) == 0


@pytest_twisted.inlineCallbacks
def test_listenersToldAfterCommit(store):
    """
    A listener hears each write's changed scopes once, after it is
    committed (the feed already shows it), and nothing for a write that
    changes nothing; once removed, nothing more.
    """
    heard = []

    def listener(scopes):
        heard.append(scopes)
        seen.append(store.changesAfter(latest))

    seen = []
    latest = yield registered(store)
    store.addChangeListener(listener)
    yield store.putLayer(layer("model:snom360"))
    yield store.putLayer(layer("model:snom360"))
    yield store.setLines(MAC2, (line(1, "eve"),))
    assert heard == [{"model:snom360"}, {f"device:{MAC2}"}]
    assert (yield seen[0])[1] == {"model:snom360"}
    store.removeChangeListener(listener)
    yield store.deleteDevice(MAC2)
    assert len(heard) == 2


@pytest_twisted.inlineCallbacks
def test_failingListenerDoesNotFailTheWrite(store):
    """
    A listener that raises is logged; the write succeeds and others hear it.
    """
    heard = []
    store.addChangeListener(lambda scopes: 1 / 0)
    store.addChangeListener(heard.append)
    yield store.mergeDevices([SNOM])
    assert heard == [{f"device:{MAC1}"}]
    assert (yield store.getDevice(MAC1)) is not None


@pytest_twisted.inlineCallbacks
def test_anotherStoreObjectSeesTheFeed(tmp_path):
    """
    Two store objects on one SQLite file (two processes): one's writes show
    in the other's C{changesAfter} and versions, without telling its
    listeners.
    """
    path = tmp_path / "shared.sqlite"
    writer = yield _openSQLite(path)
    reader = yield _openSQLite(path)
    try:
        heard = []
        reader.addChangeListener(heard.append)
        latest = yield registered(writer)
        assert (yield reader.changesAfter(None))[0] == latest
        yield writer.putLayer(layer("vendor:linksys"))
        assert (yield reader.changesAfter(latest))[1] == {"vendor:linksys"}
        assert [mac for mac, _, _ in (yield reader.pageStale())] == [MAC3]
        assert heard == []
    finally:
        yield writer.close()
        yield reader.close()


@pytest_twisted.inlineCallbacks
def test_migrationGivesDevicesACurrentVersion(tmp_path):
    """
    Devices stored before the feed get the settings version as their
    current one, never fetched.
    """
    path = tmp_path / "old.sqlite"
    old = yield _openSQLite(path, MIGRATIONS[:3])
    yield old.close()
    connection = sqlite3.connect(str(path))
    with connection:
        connection.execute("INSERT INTO devices (mac, vendor) VALUES (?, 'snom')", (MAC1,))
        connection.execute("UPDATE meta SET value = 7 WHERE name = 'settings_version'")
    connection.close()
    version = 7
    store = yield _openSQLite(path)
    try:
        assert (yield store.deviceVersions([MAC1])) == {MAC1: (version, None)}
        assert _tableRows(path, "SELECT max(version) FROM schema_version") == [(MIGRATIONS[-1][0],)]
    finally:
        yield store.close()


def test_covers():
    """
    Which stored devices a scope covers.
    """
    assert covers("site", SPA) and covers("vendor:snom", SNOM) and not covers("vendor:snom", SPA)
    assert covers("model:SPA942", SPA) and not covers("model:SPA942", SNOM)
    assert covers(f"device:{MAC1}", SNOM) and not covers(f"device:{MAC1}", SNOM2)
