"""
Tests for L{snomprov.recorder.Recorder}: batching off the reply path,
nothing lost when the store fails.
"""

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from snomprov.device import DeviceInfo, Event
from snomprov.recorder import PnPRecording, Recorder
from snomprov.store.memory import MemoryDeviceStore

MAC = "000413922D24"


class FlakyStore(MemoryDeviceStore):
    """
    A memory store whose writes fail while C{failing} is set.
    """

    failing = False

    def recordRows(self, deviceRows, eventRows):
        if self.failing:
            return defer.fail(RuntimeError("disk on fire"))
        return super().recordRows(deviceRows, eventRows)


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
    assert recorder.written == 1


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


def test_runOfFailuresLoggedOnce():
    """
    However many flushes fail in a row (the store away), one warning says
    so, with the first line of the reason; the first write that works is
    logged once, and nothing recorded meanwhile is lost.
    """
    from twisted.logger import globalLogPublisher

    logged = []
    store = FlakyStore()
    store.failing = True
    recorder, clock = makeRecorder(store)
    globalLogPublisher.addObserver(logged.append)
    try:
        for n in range(10):
            recorder.event(Event(float(n), MAC, "subscribe"))
            clock.advance(0.25)
        store.failing = False
        clock.advance(0.25)
        clock.advance(0.25)
    finally:
        globalLogPublisher.removeObserver(logged.append)
    ours = [e for e in logged if e.get("log_namespace") == "snomprov.recorder.Recorder"]
    assert [e["log_level"].name for e in ours] == ["warn", "info"]
    assert "kept and retried" in ours[0]["log_format"] and ours[1]["n"] == 10
    assert len(store.listEvents(MAC, limit=100).result) == 10


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


class _Reference(PnPRecording):
    """
    L{PnPRecording} on the plain C{sighting}/C{event} of a recorder.
    """

    def __init__(self, recorder):
        self.sighting, self.event = recorder.sighting, recorder.event


def test_pnpRecordsAsSightingsAndEvents():
    """
    L{Recorder.subscribed} and L{Recorder.notifyEnded} write what
    L{PnPRecording} writes through C{sighting} and C{event}.
    """
    stores = []
    for fast in (True, False):
        store = MemoryDeviceStore()
        recorder, clock = makeRecorder(store)
        calls = recorder if fast else _Reference(recorder)
        calls.subscribed(1.0, MAC, "snom", "snomD785", "10.1", "192.0.2.5", 5060, "http://p/snom/x.xml")
        calls.subscribed(2.0, MAC, "snom", None, None, "192.0.2.6", 5062, "http://p/snom/y.xml")
        calls.subscribed(3.0, None, "audiocodes", "420HD", None, "192.0.2.7", 5060, "tftp://p/420HD.cfg")
        calls.notifyEnded(4.0, MAC, "acked", "192.0.2.6", 5062)
        calls.notifyEnded(5.0, None, "timeout", "192.0.2.7", 5060)
        clock.advance(0.25)
        stores.append((store.listDevices().result, store.listEvents().result))
    assert stores[0] == stores[1]
    devices, events = stores[0]
    assert [(d.mac, d.model, d.ip, d.sipAddress, d.firstSeen, d.lastSeen) for d in devices] == [
        (MAC, "snomD785", "192.0.2.6", ("192.0.2.6", 5062), 1.0, 4.0)]
    assert [e.kind for e in reversed(events)] == [
        "subscribe", "notify-sent", "subscribe", "notify-sent", "subscribe", "notify-sent",
        "notify-acked", "notify-timeout"]


def test_undecodableTextRecorded():
    """
    A model or version carrying undecodable bytes (surrogate escapes from a
    datagram) is recorded with U+FFFD instead, and does not hold up the
    batch.
    """
    store = MemoryDeviceStore()
    recorder, clock = makeRecorder(store)
    model = b"snom\xff".decode("utf-8", "surrogateescape")
    recorder.subscribed(1.0, MAC, "snom", model, model, "192.0.2.5", 5060, "http://p/" + model)
    clock.advance(0.25)
    assert recorder.pending() == (0, 0)
    device = store.getDevice(MAC).result
    assert (device.model, device.firmware) == ("snom\ufffd", "snom\ufffd")
    assert [e.detail for e in store.listEvents().result] == ["http://p/snom\ufffd", "192.0.2.5:5060 snom\ufffd"]


def test_badRecordsRefusedOnArrival():
    """
    A sighting or event the store would refuse is dropped when handed in
    and counted; the rest is written.
    """
    store = MemoryDeviceStore()
    recorder, clock = makeRecorder(store)
    recorder.sighting(DeviceInfo("nope", vendor="snom"))
    recorder.event(Event(1.0, "nope", "subscribe"))
    recorder.event(Event(1.0, MAC, "subscribe"))
    assert recorder.refused == 2 and recorder.pending() == (0, 1)
    clock.advance(0.25)
    assert [e.kind for e in store.listEvents().result] == ["subscribe"]


class FlakyFetchedStore(MemoryDeviceStore):
    """
    A memory store whose C{markFetched} fails while C{failing} is set.
    """

    failing = False

    def markFetched(self, rows):
        if self.failing:
            return defer.fail(RuntimeError("disk on fire"))
        return super().markFetched(rows)


def test_fetchedWrittenInTheBatch():
    """
    C{fetched} versions are written with the next batch (the newest per
    MAC), after its sightings; a failed write keeps them (not the batch's
    events, already written) for the next one.
    """
    store = FlakyFetchedStore()
    store.applyImport([DeviceInfo(MAC, vendor="snom")], {})
    current = store.settingsVersion().result
    recorder, clock = makeRecorder(store)
    recorder.fetched(MAC, current - 1)
    recorder.fetched(MAC, current)
    store.failing = True
    recorder.event(Event(1.0, MAC, "config-fetched"))
    clock.advance(0.25)
    assert store.deviceVersions([MAC]).result == {MAC: (current, None)}
    assert len(store.listEvents(MAC).result) == 1
    store.failing = False
    clock.advance(0.25)
    assert store.deviceVersions([MAC]).result == {MAC: (current, current)}
    assert len(store.listEvents(MAC).result) == 1


def _seen(mac: str, now: float) -> DeviceInfo:
    return DeviceInfo(mac, vendor="snom", state="seen", firstSeen=now, lastSeen=now)


def test_newDevicesPerMinute():
    """
    Beyond C{newDevicesPerMinute} MACs not seen before in one minute, no
    device row and no event is written for a new MAC, and one C{flood}
    event says so, once for the minute; MACs let through before are still
    recorded; the next minute lets new ones through again.
    """
    store = MemoryDeviceStore()
    clock = Clock()
    recorder = Recorder(lambda: defer.succeed(store), clock, interval=0.25, newDevicesPerMinute=3)
    recorder.startService()
    macs = [f"000413AA{n:04X}" for n in range(10)]
    for mac in macs[:3]:
        recorder.sighting(_seen(mac, clock.seconds()))
    for mac in macs[3:8]:
        recorder.sighting(_seen(mac, clock.seconds()))
        recorder.event(Event(clock.seconds(), mac, "config-fetched", "x served"))
    recorder.subscribed(clock.seconds(), macs[8], "snom", "snomD785", None, "192.0.2.9", 5060, "http://u")
    recorder.notifyEnded(clock.seconds(), macs[8], "acked", "192.0.2.9", 5060)
    recorder.sighting(_seen(macs[0], clock.seconds()))
    recorder.event(Event(clock.seconds(), macs[0], "config-fetched", "x served"))
    clock.advance(0.25)
    devices = {device.mac for device in store.listDevices().result}
    assert devices == set(macs[:3])
    events = store.listEvents(limit=100).result
    assert [e.kind for e in events].count("flood") == 1
    assert {e.mac for e in events if e.kind != "flood"} == {macs[0]}
    assert recorder.flooded == 6
    clock.advance(60)
    recorder.sighting(_seen(macs[9], clock.seconds()))
    clock.advance(0.25)
    assert macs[9] in {device.mac for device in store.listDevices().result}
    for mac in macs[3:6]:
        recorder.sighting(_seen(mac, clock.seconds()))
    clock.advance(0.25)
    events = store.listEvents(limit=100).result
    assert [e.kind for e in events].count("flood") == 2


def _pnp(recorder, fast: bool):
    """
    What the controller calls: the L{Recorder}'s fast paths, or
    L{PnPRecording}'s through its C{sighting} and C{event}.
    """
    return recorder if fast else _Reference(recorder)


@pytest.mark.parametrize("fast", [True, False])
def test_addressOnlyWhenAcked(fast):
    """
    A SUBSCRIBE records the device as C{notified} with what it reported,
    not its address: a SUBSCRIBE naming any MAC can come from anywhere;
    the address (C{ip} and C{sipAddress}) is recorded when the phone
    acknowledged the NOTIFY; a timeout records none.
    """
    store = MemoryDeviceStore()
    recorder, clock = makeRecorder(store)
    calls = _pnp(recorder, fast)
    calls.subscribed(1.0, MAC, "snom", "snomD785", "10.1", "192.0.2.5", 5060, "http://p/x.xml")
    calls.notifyEnded(2.0, MAC, "timeout", "192.0.2.5", 5060)
    clock.advance(0.25)
    device = store.getDevice(MAC).result
    assert (device.vendor, device.model, device.firmware, device.state, device.ip, device.sipAddress) == (
        "snom", "snomD785", "10.1", "notified", None, None)
    calls.subscribed(3.0, MAC, "snom", "snomD785", "10.1", "192.0.2.5", 5060, "http://p/x.xml")
    calls.notifyEnded(4.0, MAC, "acked", "192.0.2.5", 5060)
    clock.advance(0.25)
    device = store.getDevice(MAC).result
    assert (device.ip, device.sipAddress, device.lastSeen) == ("192.0.2.5", ("192.0.2.5", 5060), 4.0)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("stored, acked, moves", [
    ("192.0.2.5", "192.0.2.77", True),
    ("192.0.2.5", "192.0.3.5", False),
    ("192.0.2.5", "198.51.100.5", False),
    ("192.0.2.5", "2001:db8::5", False),
    ("2001:db8:1:2::5", "2001:db8:1:2:ffff::9", True),
    ("2001:db8:1:2::5", "2001:db8:1:3::5", False),
    ("2001:db8:1:2::5", "192.0.2.5", False),
])
def test_suspiciousChange(fast, stored, acked, moves):
    """
    An acknowledged address of a device with a recorded SIP address moves
    it only within its network (IPv4 /24, IPv6 /64, the same family);
    otherwise the recorded address (and C{ip}) stay, and a C{suspicious}
    event names the old and the new address.
    """
    store = MemoryDeviceStore()
    store.mergeDevices([DeviceInfo(MAC, vendor="snom", state="notified", ip=stored, sipAddress=(stored, 5060))])
    recorder, clock = makeRecorder(store)
    calls = _pnp(recorder, fast)
    calls.subscribed(1.0, MAC, "snom", "snomD785", "10.2", acked, 5062, "http://p/x.xml")
    calls.notifyEnded(2.0, MAC, "acked", acked, 5062)
    clock.advance(0.25)
    device = store.getDevice(MAC).result
    suspicious = [e for e in store.listEvents(MAC).result if e.kind == "suspicious"]
    assert device.firmware == "10.2" and device.lastSeen == 2.0
    if moves:
        assert (device.ip, device.sipAddress, suspicious) == (acked, (acked, 5062), [])
    else:
        assert (device.ip, device.sipAddress) == (stored, (stored, 5060))
        assert [(e.time, e.detail) for e in suspicious] == [
            (2.0, f"acknowledged from {acked}:5062, outside the network of the recorded "
                  f"{stored}:5060: address not moved")]
        assert recorder.suspicious == 1


@pytest.mark.parametrize("fast", [True, False])
def test_suspiciousChangeInTheBatch(fast):
    """
    The address acknowledged earlier in the same batch counts as the
    recorded one: a second acknowledgement from another network does not
    move it, whatever is stored.
    """
    store = MemoryDeviceStore()
    recorder, clock = makeRecorder(store)
    calls = _pnp(recorder, fast)
    calls.subscribed(1.0, MAC, "snom", "snomD785", None, "192.0.2.5", 5060, "http://p/x.xml")
    calls.notifyEnded(2.0, MAC, "acked", "192.0.2.5", 5060)
    calls.notifyEnded(3.0, MAC, "acked", "10.9.9.9", 5060)
    calls.notifyEnded(4.0, MAC, "acked", "192.0.2.6", 5064)
    clock.advance(0.25)
    device = store.getDevice(MAC).result
    assert (device.ip, device.sipAddress) == ("192.0.2.6", ("192.0.2.6", 5064))
    assert [(e.time, e.detail) for e in store.listEvents(MAC).result if e.kind == "suspicious"] == [
        (3.0, "acknowledged from 10.9.9.9:5060, outside the network of the recorded 192.0.2.5:5060: "
              "address not moved")]


class CountingStore(FlakyStore):
    """
    A memory store counting its C{readDevices} calls and the MACs each
    read.
    """

    def __init__(self):
        super().__init__()
        self.reads = []

    def readDevices(self, macs):
        self.reads.append(sorted(macs))
        return super().readDevices(macs)


def test_flushReadsAckedDevicesOnce():
    """
    A flush reads the stored devices of the MACs with an acknowledged
    address in its batch in one L{IDeviceStore.readDevices}, and none when
    its batch has none; a failed write keeps the batch as checked (its
    C{suspicious} event written once, the address still not moved).
    """
    store = CountingStore()
    others = [f"000413AA{n:04X}" for n in range(4)]
    store.mergeDevices([DeviceInfo(mac, sipAddress=("192.0.2.1", 5060)) for mac in others])
    recorder, clock = makeRecorder(store)
    for mac in others + [MAC]:
        recorder.subscribed(1.0, mac, "snom", "snomD785", None, "192.0.2.9", 5060, "http://p/x.xml")
    clock.advance(0.25)
    assert store.reads == []
    recorder.notifyEnded(2.0, others[0], "acked", "192.0.2.9", 5060)
    recorder.notifyEnded(2.0, others[1], "acked", "203.0.113.9", 5060)
    recorder.notifyEnded(2.0, MAC, "acked", "192.0.2.9", 5060)
    recorder.notifyEnded(2.0, others[2], "timeout", "192.0.2.9", 5060)
    store.failing = True
    clock.advance(0.25)
    assert store.reads == [sorted([others[0], others[1], MAC])]
    store.failing = False
    clock.advance(0.25)
    assert recorder.pending() == (0, 0)
    addresses = {device.mac: device.sipAddress for device in store.listDevices().result}
    assert addresses == {others[0]: ("192.0.2.9", 5060), others[1]: ("192.0.2.1", 5060),
                         others[2]: ("192.0.2.1", 5060), others[3]: ("192.0.2.1", 5060),
                         MAC: ("192.0.2.9", 5060)}
    assert [e.mac for e in store.listEvents(limit=100).result if e.kind == "suspicious"] == [others[1]]
