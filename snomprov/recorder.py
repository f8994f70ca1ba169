# -*- test-case-name: tests.test_recorder -*-
"""
Device sightings and events, batched off the reply paths.

PnP answers from memory; what it learns is handed to a L{Recorder}, which
writes it to the store in one transaction every C{interval} seconds.

What is handed in is validated once, here, and buffered as rows (tuples in
the store's column order); a flush hands the rows to
L{IDeviceStore.recordRows}, which does not validate them again.

Devices that requests of MACs not seen before would add are bounded
(C{[provisioning] new_devices_per_minute}): in each minute of the clock, at
most that many MACs this process has not recorded yet are let through;
beyond, their sightings and events are dropped (no row) until the minute
ends, and one C{flood} event and one log line tell so, once per minute.

A device's address (C{ip} and C{sipAddress}) comes from PnP only when the
phone acknowledged our NOTIFY (issue 15, DESIGN §5), and does not move out
of its network or address family (L{snomprov.addresses.sameNetwork}): such
a move is kept out of the row and recorded as a C{suspicious} event naming
both addresses.  The address it is checked against is the one in the same
batch, else the stored one: a flush with acknowledged addresses reads the
stored devices of their MACs in one L{IDeviceStore.readDevices}.
"""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from .addresses import sameNetwork
from .device import DeviceInfo, Event
from .eventtext import safeText
from .store.checks import checkDevices, checkEvents
from .store.errors import StoreError
from .store.columns import COLUMN_NAMES, deviceToRow, mergeDeviceRows

__all__ = ["Recorder", "PnPRecording", "SUSPICIOUS"]

SUSPICIOUS = "suspicious"
"""
The kind of the event recording an address a device's row was not moved to.
"""

# Positions in a device row (the fast paths' literal rows follow them too).
_IP, _LAST_SEEN, _SIP_HOST, _SIP_PORT = (COLUMN_NAMES.index(name)
                                        for name in ("ip", "last_seen", "sip_host", "sip_port"))


class PnPRecording:
    """
    What the plug-and-play controller records, written on C{sighting} and
    C{event}: a recorder providing only those two mixes this in (the tests'
    recorders do).  L{Recorder} has faster versions with the same result.
    """

    def subscribed(self, now: float, mac: str | None, vendor: str, model: str | None,
                   firmware: str | None, host: str, port: int, url: str) -> None:
        """
        A ua-profile SUBSCRIBE from C{host:port} was answered and its NOTIFY
        (carrying C{url}) sent: the device (when the MAC is known) is
        C{notified}, with what it reported; a C{subscribe} and a
        C{notify-sent} event.  Its address is not recorded: anyone may send
        a SUBSCRIBE naming any MAC from any source (see L{notifyEnded}).
        """
        if mac is not None:
            self.sighting(DeviceInfo(
                mac=mac, vendor=vendor, model=model, firmware=firmware,
                state="notified", firstSeen=now, lastSeen=now,
            ))
        self.event(Event(now, mac, "subscribe", f"{host}:{port} {model or ''}".rstrip()))
        self.event(Event(now, mac, "notify-sent", url))

    def notifyEnded(self, now: float, mac: str | None, outcome: str, host: str, port: int) -> None:
        """
        The NOTIFY to C{host:port} ended with C{outcome} (C{acked} or
        C{timeout}): a C{notify-<outcome>} event.  An acknowledged NOTIFY
        (its 200 carried our unguessable branch) proves that C{host:port}
        reaches the phone: it becomes the device's C{ip} and C{sipAddress}
        (L{Recorder} keeps a recorded address that this one is not in the
        network of, with a C{suspicious} event).
        """
        if mac is not None and outcome == "acked":
            self.sighting(DeviceInfo(mac=mac, ip=host, lastSeen=now, sipAddress=(host, port)))
        self.event(Event(now, mac, f"notify-{outcome}", f"{host}:{port}"))

    def sighting(self, device: DeviceInfo) -> None:
        raise NotImplementedError()

    def event(self, event: Event) -> None:
        raise NotImplementedError()


def _text(value: str | None) -> str | None:
    """
    C{value} as text every store can hold: a string read from a datagram may
    carry undecodable bytes (surrogate escapes), which become U+FFFD.
    """
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


class Recorder(Service, PnPRecording):
    """
    Buffers sightings (merged per MAC) and events, and flushes them.

    A failed write keeps the batch and retries it with the next one, so
    nothing is lost while the store is away; past C{maxBuffered} events the
    oldest are dropped and counted in C{droppedEvents}.  The first failure
    of a run of them is logged (a warning naming the reason), and the first
    write that works again.  A sighting or event
    the store would refuse is logged and dropped when handed in (counted in
    C{refused}), so that it cannot hold up the batches behind it.

    @param whenStore: callable returning a Deferred that fires with the store.
    @param milestones: told of every event row once, as a batch is taken
        to be written (L{snomprov.milestones.MilestoneLog}), or C{None}.
    @ivar onWritten: called with the seconds (on C{clock}) each successful
        batch write took, or C{None} (C{/metrics} observes it).
    @ivar newDevicesPerMinute: the most MACs not seen before let through
        in a minute; C{None}: no limit.
    @ivar flooded: sightings dropped by that limit.
    @ivar suspicious: addresses not moved to (C{suspicious} events).
    """

    _log = Logger()

    def __init__(self, whenStore, clock, interval: float = 0.25, maxBuffered: int = 200_000,
                 milestones=None, newDevicesPerMinute: int | None = None, maxKnown: int = 1 << 17) -> None:
        self._whenStore = whenStore
        self._clock = clock
        self.interval = interval
        self.maxBuffered = maxBuffered
        self._milestones = milestones
        self._devices: dict[str, tuple] = {}
        self._events: list[tuple] = []
        self._fetched: dict[str, int] = {}
        # How many rows at the head of _events the milestones were told of
        # (a failed batch kept for the next try).
        self._reported = 0
        self._flushing: defer.Deferred | None = None
        self._loop: LoopingCall | None = None
        self.droppedEvents = 0
        self._failing = False
        self.refused = 0
        self.written = 0
        self.onWritten = None
        self.newDevicesPerMinute = newDevicesPerMinute
        self.maxKnown = maxKnown
        # MACs let through (bounded: forgotten all at once when full)
        self._known: set[str] = set()
        self._window = None
        self._newInWindow = 0
        self.flooded = 0
        self._floodWindow = None
        self.suspicious = 0

    def _admitted(self, mac: str, now: float) -> bool:
        """
        Whether a sighting of C{mac} may make a row: a MAC let through
        before, or a new one within this minute's limit.  The first refusal
        of a minute writes the C{flood} event and log line.
        """
        if mac in self._known or mac in self._devices:
            return True
        limit = self.newDevicesPerMinute
        window = int(now // 60)
        if window != self._window:
            self._window, self._newInWindow = window, 0
        if self._newInWindow < limit:
            self._newInWindow += 1
            if len(self._known) >= self.maxKnown:
                self._known.clear()
            self._known.add(mac)
            return True
        if self._floodWindow != window:
            self._floodWindow = window
            detail = (f"more than {limit} devices not seen before in a minute "
                      f"([provisioning] new_devices_per_minute): no row for new MACs until "
                      f"{(window + 1) * 60:.0f}")
            self._events.append((now, None, "flood", detail))
            self._log.warn("Flood: {detail}", detail=detail)
        self.flooded += 1
        return False

    def _flooding(self, mac: str | None) -> bool:
        """
        Whether an event of C{mac} is dropped: its MAC was not let through
        and this minute's new devices are used up.
        """
        return (mac is not None and self.newDevicesPerMinute is not None
                and self._newInWindow >= self.newDevicesPerMinute
                and int(self._clock.seconds() // 60) == self._window
                and mac not in self._known and mac not in self._devices)

    def sighting(self, device: DeviceInfo) -> None:
        """
        Remember what was learnt of a device.
        """
        try:
            checkDevices((device,))
        except StoreError as e:
            self._refuse(e)
            return
        if self.newDevicesPerMinute is not None and not self._admitted(device.mac, self._clock.seconds()):
            return
        self._sighted(deviceToRow(device))

    def _sighted(self, row: tuple) -> None:
        devices = self._devices
        known = devices.get(row[0])
        if known is None:
            devices[row[0]] = row
            return
        if row[_SIP_HOST] is not None and known[_SIP_HOST] is not None:
            row = self._checkMove(known, row, self._events)
        devices[row[0]] = mergeDeviceRows(known, row)

    def _checkMove(self, old: tuple, new: tuple, events: list) -> tuple:
        """
        C{new} (a row with a SIP address) as it may be merged into C{old}
        (one with a SIP address too): itself when its address is in the
        network of C{old}'s, else without its address, with a C{suspicious}
        event appended to C{events}.
        """
        host = new[_SIP_HOST]
        if sameNetwork(old[_SIP_HOST], host):
            return new
        detail = (f"acknowledged from {host}:{new[_SIP_PORT]}, outside the network of the "
                  f"recorded {old[_SIP_HOST]}:{old[_SIP_PORT]}: address not moved")
        when = new[_LAST_SEEN]
        events.append((self._clock.seconds() if when is None else when, new[0], SUSPICIOUS, detail))
        self.suspicious += 1
        self._log.warn("Suspicious address of {mac}: {detail}", mac=new[0], detail=detail)
        return new[:_IP] + (None,) + new[_IP + 1:_SIP_HOST] + (None, None) + new[_SIP_PORT + 1:]

    def fetched(self, mac: str, version: int) -> None:
        """
        Remember that the device C{mac} (normalised) was served its files
        at its current settings version C{version}: written with the next
        batch by L{IDeviceStore.markFetched} (the newest version per MAC).
        """
        self._fetched[mac] = version

    def event(self, event: Event) -> None:
        """
        Remember an event.
        """
        try:
            checkEvents((event,))
        except StoreError as e:
            self._refuse(e)
            return
        if self._flooding(event.mac):
            return
        self._events.append((event.time, event.mac, event.kind, event.detail))
        self._bound()

    def subscribed(self, now, mac, vendor, model, firmware, host, port, url) -> None:
        """
        See L{PnPRecording.subscribed}; the values come from the controller:
        a normalised MAC or C{None}, a vendor's name, the source address, and
        C{model}, C{firmware} and C{url} that may carry undecodable bytes.
        """
        if not (model is None or model.isascii()):
            model = _text(model)
        if not (firmware is None or firmware.isascii()):
            firmware = _text(firmware)
        if not url.isascii():
            url = _text(url)
        if mac is not None:
            devices = self._devices
            known = devices.get(mac)
            if (known is None and self.newDevicesPerMinute is not None and mac not in self._known
                    and not self._admitted(mac, now)):
                return
            row = (mac, vendor, model, firmware, None, "notified", now, now, None, None, None, None)
            devices[mac] = row if known is None else mergeDeviceRows(known, row)
        events = self._events
        events.append((now, mac, "subscribe", f"{host}:{port} {model or ''}".rstrip()))
        events.append((now, mac, "notify-sent", url))
        if len(events) > self.maxBuffered:
            self._bound()

    def notifyEnded(self, now, mac, outcome, host, port) -> None:
        """
        See L{PnPRecording.notifyEnded}.
        """
        if self._flooding(mac):
            return
        if mac is not None and outcome == "acked":
            if (self.newDevicesPerMinute is not None and mac not in self._known
                    and mac not in self._devices and not self._admitted(mac, now)):
                return
            self._sighted((mac, None, None, None, host, None, None, now, None, host, port, None))
        events = self._events
        events.append((now, mac, "notify-" + outcome, f"{host}:{port}"))
        if len(events) > self.maxBuffered:
            self._bound()

    def _bound(self) -> None:
        events = self._events
        if len(events) > self.maxBuffered:
            excess = len(events) - self.maxBuffered
            del events[:excess]
            self.droppedEvents += excess
            self._reported = max(0, self._reported - excess)

    def _refuse(self, reason: StoreError) -> None:
        self.refused += 1
        self._log.warn("Not recorded: {reason}", reason=safeText(str(reason)))

    def pending(self) -> tuple[int, int]:
        return len(self._devices), len(self._events)

    def startService(self) -> None:
        super().startService()
        self._loop = LoopingCall(self.flush)
        self._loop.clock = self._clock
        self._loop.start(self.interval, now=False)

    def stopService(self):
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        d = self.flush()
        if self._milestones is not None:
            self._milestones.stop()
        return d

    def flush(self) -> defer.Deferred:
        """
        Write what is buffered.  One flush at a time; a call during a flush
        waits for it and then writes what came meanwhile.
        """
        if self._flushing is not None:
            d = defer.Deferred()
            self._flushing.addBoth(lambda _: self.flush().chainDeferred(d))
            return d
        if not self._devices and not self._events and not self._fetched:
            return defer.succeed(None)
        devices, self._devices = list(self._devices.values()), {}
        events, self._events = self._events, []
        fetched, self._fetched = self._fetched, {}
        if self._milestones is not None:
            self._milestones.report(events[self._reported:] if self._reported else events)
        self._reported = 0
        self._flushing = d = self._whenStore()
        d.addCallback(self._write, devices, events, fetched)
        d.addErrback(self._keep, devices, events, fetched)
        d.addBoth(self._done)
        return d

    def _write(self, store, devices, events, fetched) -> defer.Deferred:
        started = self._clock.seconds()
        d = defer.succeed(None)
        moved = [row[0] for row in devices if row[_SIP_HOST] is not None]
        if moved:
            d = store.readDevices(moved).addCallback(self._checkMoves, devices, events)
        if devices or events:
            d.addCallback(lambda _: store.recordRows(devices, events)
                          .addCallback(self._written, len(events), started))
        if fetched:
            # After the devices (a device first seen in this batch exists),
            # and kept alone when it fails: the batch before is written.
            d.addCallback(lambda _: store.markFetched(list(fetched.items()))
                          .addErrback(self._keepFetched, fetched))
        return d

    def _checkMoves(self, stored: dict, devices: list[tuple], events: list[tuple]) -> None:
        """
        Keep the rows of C{devices} whose SIP address is outside the
        network of the C{stored} one (L{IDeviceStore.readDevices}) from
        moving it, in place, a C{suspicious} event each appended to
        C{events} (the batch kept on a failed write holds them).
        """
        for index, row in enumerate(devices):
            if row[_SIP_HOST] is None:
                continue
            device = stored.get(row[0], (None,))[0]
            if device is None or device.sipAddress is None:
                continue
            devices[index] = self._checkMove((None,) * _SIP_HOST + tuple(device.sipAddress), row, events)

    def _keepFetched(self, failure, fetched: dict[str, int]) -> None:
        self._failed(failure)
        for mac, version in fetched.items():
            self._fetched.setdefault(mac, version)

    def _written(self, result, count: int, started: float) -> None:
        self.written += count
        if self._failing:
            self._failing = False
            self._log.info("Store writes work again: {n} events written", n=count)
        if self.onWritten is not None:
            try:
                self.onWritten(self._clock.seconds() - started)
            except Exception:
                # The batch is written: it must not be kept for another try.
                self._log.failure("onWritten failed")

    def _failed(self, failure) -> None:
        """
        Log the first of a run of failed writes.
        """
        if not self._failing:
            self._failing = True
            self._log.warn("Store write failed ({error}); what it held is kept and retried every "
                           "{interval} s (at most {most} events)",
                           error=(failure.getErrorMessage().strip().splitlines() or [failure.type.__name__])[0],
                           interval=self.interval, most=self.maxBuffered)

    def _keep(self, failure, devices, events, fetched) -> None:
        self._failed(failure)
        newer = self._devices
        self._devices = {}
        for row in devices:
            self._sighted(row)
        for row in newer.values():
            self._sighted(row)
        self._events[:0] = events
        self._reported = len(events)
        for mac, version in fetched.items():
            self._fetched.setdefault(mac, version)

    def _done(self, result):
        self._flushing = None
        return result
