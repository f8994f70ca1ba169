"""
Tests for L{snomprov.store.service.StoreService}: the store stays open for
the writes that must happen before it closes.
"""

from twisted.internet import defer

from snomprov.store.memory import MemoryDeviceStore
from snomprov.store.service import StoreService


class _ClosingStore(MemoryDeviceStore):
    """
    A memory store that counts its closes.
    """

    closed = 0

    def close(self):
        self.closed += 1
        return defer.succeed(None)


def test_closeWaitsForBeforeClose():
    """
    C{stopService} calls every C{closeAfter} hook and closes the store only
    once the Deferred it returned has fired (the recorder's last flush).
    """
    store = _ClosingStore()
    service = StoreService("memory:", "/nonexistent", opener=lambda url, dataDir, reactor: store)
    pending = defer.Deferred()
    service.closeAfter(lambda: pending)
    service.startService()
    stopped = service.stopService()
    assert store.closed == 0 and not stopped.called
    pending.callback(None)
    assert store.closed == 1 and stopped.called


def test_failingBeforeCloseStillCloses():
    """
    A hook that fails is logged and the store is closed all the same.
    """
    store = _ClosingStore()
    service = StoreService("memory:", "/nonexistent", opener=lambda url, dataDir, reactor: store)
    service.closeAfter(lambda: defer.fail(RuntimeError("store gone")))
    service.startService()
    stopped = service.stopService()
    assert store.closed == 1 and stopped.called
