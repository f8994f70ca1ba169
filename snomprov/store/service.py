# -*- test-case-name: tests.test_services -*-
"""
The store as a service: opened (and migrated) at start, closed at stop.
"""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet import defer
from twisted.logger import Logger

from snomprov.config import maskURL

__all__ = ["StoreService", "CannotOpenStore"]


class CannotOpenStore(Exception):
    """
    The store cannot be opened at start: the one line saying why (the URL
    without its password), for L{snomprov.listeners.Listeners} to end the
    start with.
    """


class StoreService(Service):
    """
    Opens the store named by a URL when started.

    @ivar store: the open L{snomprov.interfaces.IDeviceStore}, or C{None}
        before start.
    """

    _log = Logger()

    def __init__(self, url: str, dataDir: str, opener=None, reactor=None) -> None:
        self.url = url
        self.dataDir = dataDir
        self.store = None
        self._opener = opener
        self._reactor = reactor
        self._waiting: list[defer.Deferred] = []
        self._failure = None
        self._beforeClose: list = []

    def closeAfter(self, beforeClose) -> None:
        """
        At stop, call C{beforeClose} (returning a Deferred) and wait for it
        before the store is closed: the recorder's last batch is written
        while the store is still open (sibling services stop concurrently).
        """
        self._beforeClose.append(beforeClose)

    def privilegedStartService(self) -> None:
        """
        Before anything listens: a store that cannot be opened stops the
        start (L{CannotOpenStore}), rather than a daemon answering with no
        store behind it.  Only with the default opener (tests pass theirs).
        """
        super().privilegedStartService()
        if self._opener is not None:
            return
        from . import StoreError, checkStoreOpens

        try:
            checkStoreOpens(self.url, self.dataDir)
        except StoreError as e:
            raise CannotOpenStore(f"snomprov: cannot open the store {maskURL(self.url)}: {e}; "
                                  "change [store] url") from None

    def startService(self) -> None:
        super().startService()
        opener = self._opener
        if opener is None:
            from . import openStore as opener
        d = defer.maybeDeferred(opener, self.url, self.dataDir, reactor=self._reactor)
        d.addCallbacks(self._opened, self._failed)

    def _opened(self, store) -> None:
        self.store = store
        self._log.info("Store open: {url}", url=maskURL(self.url))
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(store)

    def _failed(self, failure) -> None:
        self._failure = failure
        self._log.failure("Cannot open the store {url}", failure, url=maskURL(self.url))
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(failure)
        from twisted.internet import reactor

        reactor = self._reactor or reactor
        if reactor.running:
            reactor.stop()

    def whenOpen(self) -> defer.Deferred:
        """
        @return: a Deferred firing with the store once it is open.
        """
        if self.store is not None:
            return defer.succeed(self.store)
        if self._failure is not None:
            return defer.fail(self._failure)
        d: defer.Deferred = defer.Deferred()
        self._waiting.append(d)
        return d

    @defer.inlineCallbacks
    def stopService(self):
        yield super().stopService()
        for beforeClose in self._beforeClose:
            try:
                yield beforeClose()
            except Exception:
                self._log.failure("Before closing the store")
        if self.store is not None:
            store, self.store = self.store, None
            yield store.close()
