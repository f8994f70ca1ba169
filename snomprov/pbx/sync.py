# -*- test-case-name: tests.test_pbx_sync -*-
"""
The account sync service (DESIGN §8): every line change the store has
committed reaches every sink, in version order per sink.

One L{_Worker} per sink reads what its sink has not applied
(L{snomprov.interfaces.IAccountSyncStore.pendingAccounts}), hands it to
C{sink.apply} as L{AccountChange}s, and marks it applied.  A worker runs
after every store commit (the store's change listener) and on a periodic
poll, which sees what other processes (the command line, another daemon)
committed.  When a sink fails, its worker marks the lines failed and
retries after a back-off doubling from L{FIRST_DELAY} to L{MAX_DELAY}
seconds; the other sinks go on.  Nothing here blocks or fails a store
write: the backlog lives in the store, so it survives a restart.  One log
line tells a sink going down and one its recovery; none carries a password.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Callable, Iterable, Sequence

from twisted.application.service import Service
from twisted.internet import defer, task
from twisted.logger import Logger

from snomprov.pbx.account import AccountChange, accountFor

__all__ = ["AccountSync", "SinkUnavailable", "changesFor", "errorMessage", "makeSink", "sinkDomain",
           "FIRST_DELAY", "MAX_DELAY", "POLL_INTERVAL", "BATCH", "APPLY_TIMEOUT"]

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
POLL_INTERVAL = 1.0
BATCH = 100
APPLY_TIMEOUT = 120.0
"""
Seconds a sink's C{apply} may take before it counts as failed (and is
cancelled): a PBX that hangs is down.
"""

_log = Logger()

_URL_PASSWORD = re.compile(r"(://[^/\s:@]*):[^/\s@]*@")


def errorMessage(error: BaseException) -> str:
    """
    What a sink's failure is recorded and logged as: its type and message,
    a password in a URL (C{user:secret@}) masked.
    """
    text = str(error)
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return _URL_PASSWORD.sub(r"\1:***@", message)


class SinkUnavailable(Exception):
    """
    A C{[[pbx]]} table names a sink this installation cannot make.
    """


def sinkDomain(sink: Any, line) -> str:
    """
    The realm of a line's account at C{sink}: the sink's C{domain}, or the
    line's registrar when the sink has none (asterisk-pjsip).
    """
    return getattr(sink, "domain", "") or line.registrar


def changesFor(sink: Any, pending: Iterable) -> list[AccountChange]:
    """
    The L{AccountChange}s of C{pending} lines (L{PendingAccount}) for
    C{sink}, in the same order.
    """
    return [
        AccountChange(
            mac=p.mac, index=p.index, version=p.version,
            account=None if p.line is None else accountFor(p.mac, p.line, sinkDomain(sink, p.line)),
            previous=p.appliedUsername,
        )
        for p in pending
    ]


_FACTORIES = {
    "kamailio": ("snomprov.pbx.kamailio", "KamailioSink",
                 lambda c: (c.name, c.url, c.domain, c.passwords)),
    "asterisk-pjsip": ("snomprov.pbx.asterisk", "AsteriskPJSIPSink",
                       lambda c: (c.name, c.path, c.reload, c.domain)),
}


def makeSink(table, reactor):
    """
    The L{snomprov.interfaces.IAccountSink} of a C{[[pbx]]} table
    (L{snomprov.config.PBXConfig}); its module is imported only now.

    @raise SinkUnavailable: when the kind's module cannot be imported, or
        the sink refuses its table (a URL it cannot use): one line, no
        password.
    """
    moduleName, className, arguments = _FACTORIES[table.kind]
    try:
        module = importlib.import_module(moduleName)
    except ImportError as e:
        raise SinkUnavailable(
            f"[[pbx]] {table.name}: the {table.kind} sink is not available ({moduleName}: {e})"
        ) from None
    try:
        return getattr(module, className)(*arguments(table), reactor)
    except Exception as e:
        raise SinkUnavailable(f"[[pbx]] {table.name}: {errorMessage(e)}") from None


class _Worker:
    """
    The sync of one sink.
    """

    def __init__(self, sync: "AccountSync", sink: Any) -> None:
        self._sync = sync
        self.sink = sink
        self.name: str = sink.name
        self.tries = 0
        self.down = False
        self._running: defer.Deferred | None = None
        self._again = False
        self._retry = None
        self._waiters: list[defer.Deferred] = []
        self._applying: defer.Deferred | None = None
        self._stopped = False

    def kick(self) -> defer.Deferred:
        """
        Run a pass now, unless one runs (it goes on once more) or a retry
        waits.

        @return: Deferred firing when the current pass ends (never failing).
        """
        if self._stopped or (self._retry is not None and self._retry.active()):
            return defer.succeed(None)
        if self._running is not None:
            self._again = True
            return self._whenDone()
        done = self._whenDone()
        self._running = defer.Deferred()  # a pass runs (it may end before ensureDeferred returns)
        running = defer.ensureDeferred(self._pass())
        running.addErrback(lambda f: _log.failure("PBX sink {sink}: sync pass failed", f, sink=self.name))
        running.addBoth(self._ended)
        return done

    def _whenDone(self) -> defer.Deferred:
        d: defer.Deferred = defer.Deferred()
        self._waiters.append(d)
        return d

    def _ended(self, _) -> None:
        self._running = None
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(None)

    async def _pass(self) -> None:
        store = await self._sync.whenStore()
        while not self._stopped:
            self._again = False
            pending: list = []
            try:
                pending = await store.pendingAccounts(self.name, BATCH)
                if not pending:
                    if self._again:
                        continue
                    return
                changes = changesFor(self.sink, pending)
                self._applying = defer.maybeDeferred(self.sink.apply, changes)
                await self._applying.addTimeout(APPLY_TIMEOUT, self._sync.clock)
            except Exception as e:
                if self._stopped:
                    return
                await self._failed(store, pending, e)
                return
            finally:
                self._applying = None
            await store.markApplied(self.name, [
                (c.mac, c.index, c.version, None if c.account is None else c.account.username)
                for c in changes
            ])
            if self.down:
                _log.info("PBX sink {sink}: recovered after {tries} failed attempts", sink=self.name,
                          tries=self.tries)
            self.down, self.tries = False, 0
            if any(c.account is None for c in changes):
                await store.pruneAccounts(self._sync.sinkNames)

    async def _failed(self, store, pending: Sequence, error: Exception) -> None:
        self.tries += 1
        delay = min(FIRST_DELAY * 2 ** (self.tries - 1), MAX_DELAY)
        clock = self._sync.clock
        message = errorMessage(error)
        if not self.down:
            _log.warn("PBX sink {sink}: down ({error}); {count} changes wait, retrying with back-off",
                      sink=self.name, error=message, count=len(pending))
        self.down = True
        self._retry = clock.callLater(delay, self._retried)
        if pending:
            try:
                await store.markFailed(self.name, [(p.mac, p.index) for p in pending], message,
                                       clock.seconds() + delay, self.tries)
            except Exception as e:
                _log.warn("PBX sink {sink}: cannot record the failure: {error}", sink=self.name, error=e)

    def _retried(self) -> None:
        self._retry = None
        self.kick()

    def stop(self) -> defer.Deferred:
        """
        No more passes; an C{apply} under way is cancelled (its lines stay
        pending).
        """
        self._stopped = True
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        if self._applying is not None:
            self._applying.cancel()
        return defer.succeed(None) if self._running is None else self._whenDone()


class AccountSync(Service):
    """
    Applies the store's line changes to every sink.

    @ivar sinks: the L{snomprov.interfaces.IAccountSink}s, one per C{[[pbx]]}.
    """

    def __init__(self, whenStore: Callable[[], defer.Deferred], sinks: Sequence[Any], clock,
                 pollInterval: float = POLL_INTERVAL) -> None:
        """
        @param whenStore: returns a Deferred firing with the store (an
            L{IAccountSyncStore} with C{addChangeListener}).
        @param clock: an C{IReactorTime}: the poll and the back-off.
        """
        self.whenStore = whenStore
        self.sinks = list(sinks)
        self.sinkNames = [sink.name for sink in self.sinks]
        self.clock = clock
        self._workers = [_Worker(self, sink) for sink in self.sinks]
        self._poll = task.LoopingCall(lambda: defer.ensureDeferred(self._polled()))
        self._poll.clock = clock
        self._pollInterval = pollInterval
        self._store = None
        self._seen: int | None = None
        self._feedUnread = False

    def worker(self, name: str) -> _Worker:
        return next(worker for worker in self._workers if worker.name == name)

    def kick(self) -> defer.Deferred:
        """
        Run every worker now (those waiting for a retry wait on).

        @return: Deferred firing when their passes end.
        """
        return defer.gatherResults([worker.kick() for worker in self._workers])

    async def _polled(self) -> None:
        """
        The poll: run the workers when the change feed moved since the last
        poll (another process wrote), or always at the first poll.  Every
        account change moves the feed (a device's scope).
        """
        try:
            latest, scopes = await self._store.changesAfter(self._seen)
        except Exception as e:
            # Once per run of failures (the database away), not per poll.
            if not self._feedUnread:
                self._feedUnread = True
                _log.warn("PBX account sync: cannot read the change feed: {error}", error=e)
            return
        self._feedUnread = False
        first, self._seen = self._seen is None, latest
        if first or scopes is None or any(scope.startswith("device:") for scope in scopes):
            await self.kick()

    def _changed(self, scopes: frozenset[str] | None) -> None:
        if scopes is None or any(scope.startswith("device:") for scope in scopes):
            self.kick()

    def startService(self) -> None:
        super().startService()

        def opened(store):
            self._store = store
            store.addChangeListener(self._changed)
            self._poll.start(self._pollInterval, now=True).addErrback(
                lambda f: _log.failure("PBX account sync: the poll stopped", f))

        self.whenStore().addCallback(opened).addErrback(
            lambda f: _log.failure("PBX account sync: no store", f))

    async def _stop(self) -> None:
        if self._poll.running:
            self._poll.stop()
        if self._store is not None:
            self._store.removeChangeListener(self._changed)
        await defer.gatherResults([worker.stop() for worker in self._workers])
        for sink in self.sinks:
            try:
                await defer.maybeDeferred(sink.close)
            except Exception as e:
                _log.warn("PBX sink {sink}: close failed: {error}", sink=sink.name, error=e)

    def stopService(self):
        super().stopService()
        return defer.ensureDeferred(self._stop())
