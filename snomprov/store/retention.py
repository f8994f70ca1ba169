# -*- test-case-name: tests.test_store_retention -*-
"""
The events' retention (C{[store] keep_events_days}): events older than
that are deleted in the background, in bounded batches.

Every C{interval} seconds a L{LoopingCall} deletes the oldest events
older than the cutoff with L{IDeviceStore.pruneEvents}, at most C{batch}
per transaction, pausing C{pause} seconds between batches, until a batch
finds fewer: each transaction is short, the reactor runs the PnP path
between them, and the recorder's writes queue behind one batch at most.
A store that is away is tried again at the next interval.
"""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet import defer, task
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

__all__ = ["EventRetention", "DAY"]

DAY = 86400.0


class EventRetention(Service):
    """
    Deletes events older than C{keepDays} days (C{0}: keeps them all, and
    does nothing).

    @param whenStore: callable returning a Deferred that fires with the store.
    @param clock: gives the time (the events' times are POSIX times) and
        runs the loop.
    @ivar deleted: events deleted since the start.
    """

    _log = Logger()

    def __init__(self, whenStore, clock, keepDays: int, batch: int = 1000,
                 interval: float = 60.0, pause: float = 0.05) -> None:
        self._whenStore = whenStore
        self._clock = clock
        self.keepDays = keepDays
        self.batch = batch
        self.interval = interval
        self.pause = pause
        self.deleted = 0
        self._loop: LoopingCall | None = None
        self._failing = False
        self._running: defer.Deferred | None = None

    def startService(self) -> None:
        super().startService()
        if self.keepDays > 0:
            self._loop = LoopingCall(self._tick)
            self._loop.clock = self._clock
            self._loop.start(self.interval, now=True)

    def stopService(self) -> None:
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def whenIdle(self) -> defer.Deferred:
        """
        A Deferred firing when no batch is under way (what the store waits
        for before it closes: L{snomprov.store.service.StoreService.closeAfter}).
        """
        idle: defer.Deferred = defer.Deferred()
        if self._running is None:
            idle.callback(None)
        else:
            self._running.addBoth(lambda result: (idle.callback(None), result)[1])
        return idle

    def _tick(self) -> defer.Deferred:
        def done(result):
            self._running = None
            return result

        self._running = self.prune()
        return self._running.addBoth(done)

    @defer.inlineCallbacks
    def prune(self):
        """
        Delete the events older than the cutoff, batch after batch, until a
        batch deletes fewer than C{batch} or the service is stopped (it
        waits for the batch under way).

        @return: Deferred firing with how many were deleted (a failure of
            the store is logged once until it succeeds again, never raised).
        """
        total = 0
        try:
            store = yield self._whenStore()
            while True:
                cutoff = self._clock.seconds() - self.keepDays * DAY
                count = yield store.pruneEvents(cutoff, self.batch)
                total += count
                self.deleted += count
                if count < self.batch:
                    break
                yield task.deferLater(self._clock, self.pause, lambda: None)
                if not self.running:
                    break
        except Exception as e:
            if not self._failing:
                self._failing = True
                self._log.warn("Cannot delete old events (tried again in {interval} s): {error}",
                               interval=self.interval, error=e)
        else:
            if self._failing:
                self._failing = False
                self._log.info("Deleting old events again")
        return total
