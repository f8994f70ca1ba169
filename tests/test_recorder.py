"""
Tests for L{snomprov.recorder.Recorder}: batching off the reply path,
nothing lost when the store fails.
"""

from twisted.internet import defer
from twisted.internet.task import Clock

from snomprov.device import DeviceInfo, Event
from snomprov.recorder import Recorder
from snomprov.store.memory import MemoryDeviceStore

MAC = "000413922D24"


class FlakyStore(MemoryDeviceStore):
    """
    A memory store whose writes fail while C{failing} is set.
    """

    failing = False

    def mergeDevices(self, devices):
        if self.failing:
            return defer.fail(RuntimeError("disk on fire"))
        return super().mergeDevices(devices)


def makeRecorder(store):
    clock = Clock()
    recorder = Recorder(lambda: defer.succeed(store), clock, interval=0.25)
    recorder.startService()
    return recorder, clock


def test_batchedOnTheClock():
    """
    Nothing is written until the interval passes; then sightings (merged
    per MAC) and events are written together.
    """
    store = MemoryDeviceStore()
    recorder, clock = makeRecorder(store)
    recorder.sighting(DeviceInfo(MAC, vendor="snom", state="seen", firstSeen=1.0, lastSeen=1.0))
    recorder.sighting(DeviceInfo(MAC, ip="192.0.2.5", state="notified", firstSeen=2.0, lastSeen=2.0))
    recorder.event(Event(1.0, MAC, "subscribe"))
    assert store.getDevice(MAC).result is None
    clock.advance(0.25)
    device = store.getDevice(MAC).result
    assert (device.vendor, device.ip, device.state, device.firstSeen, device.lastSeen) == (
        "snom", "192.0.2.5", "notified", 1.0, 2.0)
    assert [e.kind for e in store.listEvents(MAC).result] == ["subscribe"]


def test_failedWriteKeptAndRetried():
    """
    A failed write keeps the batch; the next flush writes it, with what came
    meanwhile merged on top.
    """
    store = FlakyStore()
    store.failing = True
    recorder, clock = makeRecorder(store)
    recorder.sighting(DeviceInfo(MAC, vendor="snom", state="seen", lastSeen=1.0))
    recorder.event(Event(1.0, MAC, "subscribe"))
    clock.advance(0.25)
    assert recorder.pending() == (1, 1)
    recorder.sighting(DeviceInfo(MAC, state="notified", lastSeen=2.0))
    recorder.event(Event(2.0, MAC, "notify-sent"))
    store.failing = False
    clock.advance(0.25)
    assert recorder.pending() == (0, 0)
    device = store.getDevice(MAC).result
    assert (device.vendor, device.state, device.lastSeen) == ("snom", "notified", 2.0)
    assert [e.kind for e in reversed(store.listEvents(MAC).result)] == ["subscribe", "notify-sent"]


def test_boundedBuffer():
    """
    Past C{maxBuffered} events, the oldest are dropped and counted.
    """
    store = FlakyStore()
    store.failing = True
    recorder, clock = makeRecorder(store)
    recorder.maxBuffered = 3
    for i in range(5):
        recorder.event(Event(float(i), MAC, f"e{i}"))
    assert recorder.droppedEvents == 2 and recorder.pending() == (0, 3)


def test_stopFlushes():
    """
    Stopping the service writes what is buffered.
    """
    store = MemoryDeviceStore()
    recorder, clock = makeRecorder(store)
    recorder.event(Event(1.0, MAC, "subscribe"))
    d = recorder.stopService()
    assert d.called
    assert [e.kind for e in store.listEvents(MAC).result] == ["subscribe"]
    assert not clock.getDelayedCalls()
