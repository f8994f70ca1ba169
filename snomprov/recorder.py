# -*- test-case-name: tests.test_recorder -*-
"""
Device sightings and events, batched off the reply paths.

PnP answers from memory; what it learns is handed to a L{Recorder}, which
writes it to the store in one transaction every C{interval} seconds.
"""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from .device import DeviceInfo, Event

__all__ = ["Recorder"]


class Recorder(Service):
    """
    Buffers sightings (merged per MAC) and events, and flushes them.

    A failed write keeps the batch and retries it with the next one, so
    nothing is lost while the store is away; past C{maxBuffered} events the
    oldest are dropped and counted in C{droppedEvents}.

    @param whenStore: callable returning a Deferred that fires with the store.
    """

    _log = Logger()

    def __init__(self, whenStore, clock, interval: float = 0.25, maxBuffered: int = 200_000) -> None:
        self._whenStore = whenStore
        self._clock = clock
        self.interval = interval
        self.maxBuffered = maxBuffered
        self._devices: dict[str, DeviceInfo] = {}
        self._events: list[Event] = []
        self._flushing: defer.Deferred | None = None
        self._loop: LoopingCall | None = None
        self.droppedEvents = 0
        self.written = 0

    def sighting(self, device: DeviceInfo) -> None:
        """
        Remember what was learnt of a device.
        """
        known = self._devices.get(device.mac)
        self._devices[device.mac] = device if known is None else known.mergedWith(device)

    def event(self, event: Event) -> None:
        """
        Remember an event.
        """
        self._events.append(event)
        if len(self._events) > self.maxBuffered:
            excess = len(self._events) - self.maxBuffered
            del self._events[:excess]
            self.droppedEvents += excess

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
        return self.flush()

    def flush(self) -> defer.Deferred:
        """
        Write what is buffered.  One flush at a time; a call during a flush
        waits for it and then writes what came meanwhile.
        """
        if self._flushing is not None:
            d = defer.Deferred()
            self._flushing.addBoth(lambda _: self.flush().chainDeferred(d))
            return d
        if not self._devices and not self._events:
            return defer.succeed(None)
        devices, self._devices = list(self._devices.values()), {}
        events, self._events = self._events, []
        self._flushing = d = self._whenStore()
        d.addCallback(self._write, devices, events)
        d.addErrback(self._keep, devices, events)
        d.addBoth(self._done)
        return d

    @defer.inlineCallbacks
    def _write(self, store, devices, events):
        yield store.record(devices, events)
        self.written += len(events)

    def _keep(self, failure, devices, events) -> None:
        self._log.failure("Store write failed; {n} events kept for the next try", failure, n=len(events))
        for device in devices:
            newer = self._devices.get(device.mac)
            self._devices[device.mac] = device if newer is None else device.mergedWith(newer)
        self._events[:0] = events

    def _done(self, result):
        self._flushing = None
        return result
