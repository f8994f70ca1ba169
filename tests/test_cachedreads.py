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
    assert {name for name, _ in counted.reads} == {"getLayer", "readDevices"}


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
    assert counted.reads["readDevices", repr(([MAC_A],))] == 2
    assert counted.reads["readDevices", repr(([MAC_B],))] == 1
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
    assert counted.reads["readDevices", repr(([MAC_A],))] == 3
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
    assert counted.reads["readDevices", repr(([MAC_A],))] == 2
    assert counted.reads["readDevices", repr(([MAC_B],))] == 1


@pytest_twisted.inlineCallbacks
def test_devicesAskedDuringAReadShareTheNext():
    """
    Devices asked while a read of devices is under way are read together
    in one L{readDevices} once it returns, each answered with its own
    record; a failed read fails its askers and keeps nothing.
    """
    store = yield _store()
    pending: list = []

    class Held:
        def __init__(self):
            self.asked: list = []

        def readDevices(self, macs):
            self.asked.append(list(macs))
            d = defer.Deferred()
            pending.append((d, macs))
            return d

    held = Held()
    reads = CachedReads(held)
    first = reads.device(MAC_A)
    second, third, again = reads.device(MAC_B), reads.device("000413CC0003"), reads.device(MAC_B)
    assert held.asked == [[MAC_A]]
    d, macs = pending.pop(0)
    d.callback((yield store.readDevices(macs)))
    assert held.asked == [[MAC_A], [MAC_B, "000413CC0003"]]
    d, macs = pending.pop(0)
    d.callback((yield store.readDevices(macs)))
    assert (yield first)[0].mac == MAC_A
    assert (yield second)[0].mac == MAC_B and (yield again)[0].mac == MAC_B
    assert (yield third) == (None, None)
    assert [line.user for line in (yield reads.getLines(MAC_B))] == [f"u{MAC_B}"]
    assert (yield reads.getLayer(f"device:{MAC_B}")) is None
    assert len(held.asked) == 2

    reads.drop(None)
    failing = reads.device(MAC_A)
    d, _ = pending.pop(0)
    d.errback(RuntimeError("database away"))
    try:
        yield failing
    except RuntimeError:
        pass
    else:
        raise AssertionError("the read's failure was not passed on")
    pending.clear()
    later = reads.device(MAC_A)
    assert held.asked[-1] == [MAC_A] and len(held.asked) == 4
    pending[0][0].callback((yield store.readDevices([MAC_A])))
    assert (yield later)[0].mac == MAC_A
