"""
Tests for L{snomprov.provisioning.Provisioner}'s cache: per-scope
invalidation from the change feed and the store's listeners, and the
devices' fetched versions it has recorded.
"""

from __future__ import annotations

import tempfile

import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from snomprov.config import parseConfig
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.provisioning import Fetch, Provisioner
from snomprov.recorder import Recorder
from snomprov.registry import VendorRegistry
from snomprov.store.memory import MemoryDeviceStore
from snomprov.store.sql import SQLDeviceStore
from snomprov.vendors.snom import snomVendor

MAC_A, MAC_B = "000413AA0001", "000413BB0002"
UA = "Mozilla/4.0 (compatible; snom360-SIP 7.3.14 1.1.3-s)"
# The phones ask from 192.0.2.0/24: the network proof gives them their secrets.
CONFIG = parseConfig('[server]\nbase_url = "http://192.0.2.10:8080"\n'
                     '[http]\nallowed_networks = ["192.0.2.0/24"]\n[tftp]\nallowed_networks = ["192.0.2.0/24"]\n',
                     "t.toml",
                     baseDir=tempfile.gettempdir())


def _line(mac: str, user: str = "alice") -> Line:
    return Line(1, f"{user}{mac}", "pw", "Name", "pbx.example")


class Served:
    """
    A provisioner over a store, with a clock and a real recorder.
    """

    def __init__(self, store) -> None:
        self.store = store
        self.clock = Clock()
        self.recorder = Recorder(lambda: defer.succeed(store), self.clock)
        self.provisioner = Provisioner(VendorRegistry([snomVendor]), lambda: defer.succeed(store),
                                       CONFIG, self.recorder, self.clock)

    def fetch(self, mac: str) -> defer.Deferred:
        """
        @return: Deferred firing with the body of C{mac}'s settings file.
        """
        d = self.provisioner.fetch(Fetch(f"snom/{mac}-settings.xml", "192.0.2.5", "http", UA))
        return d.addCallback(lambda rendered: rendered.content)

    def tick(self) -> None:
        self.clock.advance(self.provisioner.versionTTL)


@defer.inlineCallbacks
def _registered(store):
    yield store.applyImport([DeviceInfo(mac=m, vendor="snom", model="snom360", state="registered")
                             for m in (MAC_A, MAC_B)],
                            {MAC_A: (_line(MAC_A),), MAC_B: (_line(MAC_B),)})


@pytest_twisted.inlineCallbacks
def test_deviceChangeKeepsOthers():
    """
    A change of C{device:A} drops A's rendering only: B is still answered
    from the cache, and A's change is served at once (this process's
    change, told by the store's listener).
    """
    store = MemoryDeviceStore()
    yield _registered(store)
    served = Served(store)
    yield served.fetch(MAC_A)
    yield served.fetch(MAC_B)
    assert served.provisioner.misses == 2
    yield store.setLines(MAC_A, (_line(MAC_A, "carol"),))
    assert f"carol{MAC_A}".encode() in (yield served.fetch(MAC_A))
    yield served.fetch(MAC_B)
    assert (served.provisioner.misses, served.provisioner.hits) == (3, 1)
    served.tick()
    yield served.fetch(MAC_B)
    assert served.provisioner.misses == 3


@pytest_twisted.inlineCallbacks
def test_siteChangeDropsAll():
    """
    A site layer change drops every rendering; a vendor of another name
    drops none.
    """
    store = MemoryDeviceStore()
    yield _registered(store)
    served = Served(store)
    yield served.fetch(MAC_A)
    yield served.fetch(MAC_B)
    yield store.putLayer(SettingsLayer("vendor:linksys", (Setting("x", "1"),)))
    yield served.fetch(MAC_A)
    assert served.provisioner.misses == 2
    yield store.putLayer(SettingsLayer("site", (Setting("language", "Deutsch"),)))
    assert b"Deutsch" in (yield served.fetch(MAC_A))
    assert b"Deutsch" in (yield served.fetch(MAC_B))
    assert served.provisioner.misses == 4


@pytest_twisted.inlineCallbacks
def test_feedTooOldDropsAll():
    """
    A feed that cannot answer (C{None}) drops every rendering.
    """
    store = MemoryDeviceStore()
    yield _registered(store)
    served = Served(store)
    yield served.fetch(MAC_A)
    store.changesAfter = lambda seq: defer.succeed((seq or 0, None))
    served.tick()
    yield served.fetch(MAC_A)
    assert served.provisioner.misses == 2


@pytest_twisted.inlineCallbacks
def test_feedUnreadableServesCache():
    """
    While the feed cannot be read (the database away), the renderings
    cached are served, and that is logged once; once it reads again, what
    it names is dropped.
    """
    from twisted.logger import globalLogPublisher

    store = MemoryDeviceStore()
    yield _registered(store)
    served = Served(store)
    first = yield served.fetch(MAC_A)
    read = store.changesAfter
    store.changesAfter = lambda seq: defer.fail(ConnectionError("server closed the connection"))
    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        for _ in range(3):
            served.tick()
            assert (yield served.fetch(MAC_A)) == first
    finally:
        globalLogPublisher.removeObserver(logged.append)
    warned = [e for e in logged if e.get("log_namespace") == "snomprov.provisioning.Provisioner"]
    assert len(warned) == 1 and "server closed" in str(warned[0]["error"])
    assert served.provisioner.misses == 1
    store.changesAfter = read
    yield store.putLayer(SettingsLayer("site", (Setting("language", "Deutsch"),)))
    served.tick()
    assert b"Deutsch" in (yield served.fetch(MAC_A))


@pytest_twisted.inlineCallbacks
def test_pushedFeedNotPolled():
    """
    A store that pushes every process's changes (L{pushesChanges}) is not
    polled: a cached rendering is served without a read, however old, and
    what the store tells is dropped.
    """
    store = MemoryDeviceStore()
    yield _registered(store)
    store.pushesChanges = lambda: True
    polls = []
    read = store.changesAfter
    store.changesAfter = lambda seq: polls.append(seq) or read(seq)
    served = Served(store)
    yield served.fetch(MAC_A)
    for _ in range(3):
        served.tick()
        yield served.fetch(MAC_A)
    assert polls == [] and served.provisioner.misses == 1
    served.provisioner.invalidate(frozenset({f"device:{MAC_A}"}))
    yield served.fetch(MAC_A)
    assert served.provisioner.misses == 2


@pytest_twisted.inlineCallbacks
def test_renderingBegunBeforeAChangeIsNotKept():
    """
    A rendering read while a change lands is served but not cached.
    """
    store = MemoryDeviceStore()
    yield _registered(store)
    served = Served(store)
    original = store.readDevices

    def changeMeanwhile(macs):
        served.provisioner.invalidate({f"device:{mac}" for mac in macs})
        return original(macs)

    store.readDevices = changeMeanwhile
    yield served.fetch(MAC_A)
    store.readDevices = original
    yield served.fetch(MAC_A)
    assert served.provisioner.misses == 2


@pytest_twisted.inlineCallbacks
def test_otherProcessChangeAfterNextPoll(tmp_path):
    """
    A change written by another store object on the same SQLite file (another
    process) is served once the feed is read again, after C{versionTTL};
    the other device's rendering stays cached.
    """
    from twisted.internet import reactor

    path = str(tmp_path / "shared.sqlite")
    mine = yield SQLDeviceStore.openSQLite(path, reactor)
    theirs = yield SQLDeviceStore.openSQLite(path, reactor)
    try:
        yield _registered(theirs)
        served = Served(mine)
        first = yield served.fetch(MAC_A)
        yield served.fetch(MAC_B)
        yield theirs.setLines(MAC_A, (_line(MAC_A, "dave"),))
        assert (yield served.fetch(MAC_A)) == first
        served.tick()
        assert f"dave{MAC_A}".encode() in (yield served.fetch(MAC_A))
        yield served.fetch(MAC_B)
        assert (served.provisioner.misses, served.provisioner.hits) == (3, 2)
    finally:
        yield mine.close()
        yield theirs.close()


@pytest_twisted.inlineCallbacks
def test_fetchedThenStaleThenFetched():
    """
    A device served its file is not stale; a layer change that covers it
    makes it stale; fetching again makes it not stale.
    """
    store = MemoryDeviceStore()
    yield _registered(store)
    served = Served(store)
    yield served.fetch(MAC_A)
    yield served.recorder.flush()
    assert (yield store.countStale()) == 0
    current, fetched = (yield store.deviceVersions([MAC_A]))[MAC_A]
    assert fetched == current
    yield store.putLayer(SettingsLayer("vendor:snom", (Setting("language", "Svenska"),)))
    assert [mac for mac, _, _ in (yield store.pageStale())] == [MAC_A]
    assert b"Svenska" in (yield served.fetch(MAC_A))
    yield served.recorder.flush()
    assert (yield store.countStale()) == 0
    current, fetched = (yield store.deviceVersions([MAC_A]))[MAC_A]
    assert fetched == current == (yield store.settingsVersion())


@pytest_twisted.inlineCallbacks
def test_modelLearntIsNotStale():
    """
    A device registered without a model, whose fetch tells it, is not
    stale for that.
    """
    store = MemoryDeviceStore()
    yield store.applyImport([DeviceInfo(mac=MAC_A, vendor="snom")], {MAC_A: (_line(MAC_A),)})
    served = Served(store)
    yield served.fetch(MAC_A)
    yield served.recorder.flush()
    assert (yield store.getDevice(MAC_A)).model == "snom360"
    assert (yield store.countStale()) == 0


@pytest_twisted.inlineCallbacks
def test_cachedFetchRecordsTheVersion():
    """
    A fetch answered from the cache records the version kept with it.
    """
    store = MemoryDeviceStore()
    yield _registered(store)
    served = Served(store)
    yield served.fetch(MAC_A)
    yield served.recorder.flush()
    yield store.markFetched([(MAC_A, 0)])
    yield served.fetch(MAC_A)
    assert served.provisioner.hits == 1
    yield served.recorder.flush()
    current, fetched = (yield store.deviceVersions([MAC_A]))[MAC_A]
    assert fetched == current > 0


@pytest_twisted.inlineCallbacks
def test_aVendorServesOnlyItsOwnDevices():
    """
    A device registered as another vendor's phone is not served through
    this vendor's path (no secret of a Linksys phone in a snom file): None,
    a C{rejected} event naming why, counted as C{other-vendor}; the stored
    device keeps its vendor; the phone's own vendor still serves it.
    """
    from snomprov.vendors.linksys import linksysVendor

    mac = "000E08AABBCC"
    store = MemoryDeviceStore()
    yield store.applyImport([DeviceInfo(mac=mac, vendor="linksys", model="SPA942", state="registered")],
                            {mac: (Line(1, "202", "spa-secret", "Store room", "pbx.example"),)})
    served = Served(store)
    served.provisioner = Provisioner(VendorRegistry([snomVendor, linksysVendor]), lambda: defer.succeed(store),
                                     CONFIG, served.recorder, served.clock)
    refused = yield served.provisioner.fetch(Fetch(f"snom/{mac}-settings.xml", "192.0.2.5", "http", UA))
    assert refused is None
    assert served.provisioner.rejections == {("other-vendor", "http"): 1}
    yield served.recorder.flush()
    (event,) = [e for e in (yield store.listEvents(mac)) if e.kind == "rejected"]
    assert "linksys phone" in event.detail and "spa-secret" not in event.detail
    assert (yield store.getDevice(mac)).vendor == "linksys"
    own = yield served.provisioner.fetch(Fetch(f"spa{mac.lower()}.cfg", "192.0.2.5", "tftp"))
    assert own is not None and b"spa-secret" in own.content


@pytest_twisted.inlineCallbacks
def test_cacheBoundedInEntries():
    """
    With C{[provisioning] cache_entries = 1}, a second device's rendering
    evicts the first's: fetching A again renders it again, and the
    eviction is counted.
    """
    store = MemoryDeviceStore()
    yield _registered(store)
    served = Served(store)
    served.provisioner = Provisioner(
        VendorRegistry([snomVendor]), lambda: defer.succeed(store),
        CONFIG.replaceIn("provisioning", cacheEntries=1), served.recorder, served.clock)
    yield served.fetch(MAC_A)
    yield served.fetch(MAC_B)
    yield served.fetch(MAC_A)
    assert (served.provisioner.misses, served.provisioner.hits) == (3, 0)
    assert served.provisioner.cache.evictions == 2
    assert len(served.provisioner.cache) == 1
