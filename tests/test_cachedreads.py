"""
L{snomprov.cachedreads}: a rendering's store reads kept under the scope
whose change drops them, on the memory store (whose reads fire at once).
"""

from __future__ import annotations

from collections import Counter

import pytest_twisted
from twisted.internet import defer

from snomprov.cachedreads import CachedReads
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.store.memory import MemoryDeviceStore

MAC_A, MAC_B = "000413AA0001", "000413BB0002"


class Counted:
    """
    A store whose reads are counted, by method and argument.
    """

    def __init__(self, store) -> None:
        self.store = store
        self.reads: Counter = Counter()

    def __getattr__(self, name):
        method = getattr(self.store, name)

        def counted(*args):
            self.reads[name, repr(args)] += 1
            return method(*args)

        return counted


@defer.inlineCallbacks
def _store():
    store = MemoryDeviceStore()
    yield store.applyImport([DeviceInfo(mac=m, vendor="snom", model="snom360", state="registered")
                             for m in (MAC_A, MAC_B)],
                            {m: (Line(1, f"u{m}", "pw", "Name", "pbx.example"),) for m in (MAC_A, MAC_B)})
    yield store.putLayer(SettingsLayer("site", (Setting("language", "English"),)))
    return store


@pytest_twisted.inlineCallbacks
def test_readsKept():
    """
    A shared layer, a device's record with its version and lines, and its
    layer are read from the store once.
    """
    counted = Counted((yield _store()))
    reads = CachedReads(counted)
    for _ in range(3):
        site = yield reads.getLayer("site")
        device, version = yield reads.device(MAC_A)
        lines = yield reads.getLines(MAC_A)
        assert (yield reads.getLayer(f"device:{MAC_A}")) is None
    assert site.settings[0].value == "English"
    assert device.mac == MAC_A and version is not None
    assert [line.user for line in lines] == [f"u{MAC_A}"]
    assert set(counted.reads.values()) == {1}
    assert {name for name, _ in counted.reads} == {"getLayer", "deviceVersions", "readDevice"}


@pytest_twisted.inlineCallbacks
def test_dropDeviceScope():
    """
    Dropping C{device:A} reads A again, not B nor the shared layers.
    """
    counted = Counted((yield _store()))
    reads = CachedReads(counted)
    for mac in (MAC_A, MAC_B):
        yield reads.device(mac)
    yield reads.getLayer("site")
    reads.drop({f"device:{MAC_A}"})
    for mac in (MAC_A, MAC_B):
        yield reads.device(mac)
    yield reads.getLayer("site")
    assert counted.reads["readDevice", repr((MAC_A,))] == 2
    assert counted.reads["readDevice", repr((MAC_B,))] == 1
    assert counted.reads["getLayer", repr(("site",))] == 1


@pytest_twisted.inlineCallbacks
def test_dropSharedScope():
    """
    Dropping a shared scope reads it again, and every device too (their
    versions may have moved); C{None} drops everything.
    """
    store = yield _store()
    counted = Counted(store)
    reads = CachedReads(counted)
    yield reads.device(MAC_A)
    yield reads.getLayer("site")
    yield store.putLayer(SettingsLayer("site", (Setting("language", "Deutsch"),)))
    reads.drop({"site"})
    assert (yield reads.getLayer("site")).settings[0].value == "Deutsch"
    yield reads.device(MAC_A)
    reads.drop(None)
    yield reads.device(MAC_A)
    assert counted.reads["readDevice", repr((MAC_A,))] == 3
    assert counted.reads["getLayer", repr(("site",))] == 2


@pytest_twisted.inlineCallbacks
def test_readDuringAChangeNotKept():
    """
    A read that a drop overtakes is answered but not kept.
    """
    store = yield _store()
    waiting = defer.Deferred()

    class Slow:
        def getLayer(self, scope):
            return waiting

    reads = CachedReads(Slow())
    d = reads.getLayer("site")
    reads.drop({"model:snom360"})
    waiting.callback("old")
    assert (yield d) == "old"
    reads.store = store
    assert (yield reads.getLayer("site")).settings[0].value == "English"


@pytest_twisted.inlineCallbacks
def test_devicesBounded():
    """
    At most C{maxDevices} devices' reads are kept: the oldest goes first.
    """
    counted = Counted((yield _store()))
    reads = CachedReads(counted, maxDevices=1)
    for mac in (MAC_A, MAC_B, MAC_B, MAC_A):
        yield reads.device(mac)
    assert counted.reads["readDevice", repr((MAC_A,))] == 2
    assert counted.reads["readDevice", repr((MAC_B,))] == 1
