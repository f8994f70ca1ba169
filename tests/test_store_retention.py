"""
Tests for L{snomprov.store.retention}: old events deleted in the
background, in bounded batches, on an injected clock.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import capturedLogs

from snomprov.device import Event
from snomprov.store import StoreError
from snomprov.store.memory import MemoryDeviceStore
from snomprov.store.retention import DAY, EventRetention

MAC = "000413922D24"
NOW = 100 * DAY


def _stored(times):
    store = MemoryDeviceStore()
    store.addEvents([Event(t, MAC, "subscribe", f"e{i}") for i, t in enumerate(times)])
    return store


def _count(store):
    return len(store.listEvents(limit=1000).result)


def test_bounded_batches():
    """
    Started, the retention deletes the events older than C{keepDays}, at
    most C{batch} a transaction, the reactor getting a C{pause} between
    batches; it stops at the first batch short of C{batch}.
    """
    clock = Clock()
    clock.advance(NOW)
    store = _stored([float(i) for i in range(8)] + [NOW - DAY, NOW])
    retention = EventRetention(lambda: defer.succeed(store), clock, keepDays=2, batch=3,
                               interval=60.0, pause=0.05)
    retention.startService()
    assert _count(store) == 7
    clock.advance(0.05)
    assert _count(store) == 4
    clock.advance(0.05)
    assert _count(store) == 2
    assert retention.deleted == 8
    assert [call.getTime() for call in clock.getDelayedCalls()] == [NOW + 60.0]
    clock.advance(1.5 * DAY)
    assert _count(store) == 1 and retention.deleted == 9
    retention.stopService()
    assert clock.getDelayedCalls() == []


def test_keepForever():
    """
    C{keepDays} 0 keeps every event, and schedules nothing.
    """
    clock = Clock()
    clock.advance(NOW)
    store = _stored([0.0, 1.0])
    retention = EventRetention(lambda: defer.succeed(store), clock, keepDays=0)
    retention.startService()
    assert clock.getDelayedCalls() == []
    assert _count(store) == 2
    retention.stopService()


def test_storeAwayLoggedOnceAndRetried():
    """
    A store that is away is tried again at the next interval, logged once
    until it is back.
    """
    clock = Clock()
    clock.advance(NOW)
    store = _stored([0.0, 1.0])
    answers = [defer.fail(StoreError("database away")), defer.fail(StoreError("database away"))]

    def whenStore():
        return answers.pop(0) if answers else defer.succeed(store)

    retention = EventRetention(whenStore, clock, keepDays=1, interval=60.0)
    with capturedLogs() as logs:
        retention.startService()
        clock.advance(60.0)
        assert _count(store) == 2
        clock.advance(60.0)
    assert _count(store) == 0
    texts = [event["log_format"] for event in logs if event.get("log_namespace", "").endswith("EventRetention")]
    assert [t.split(" ")[0] for t in texts] == ["Cannot", "Deleting"]
    retention.stopService()


def test_stopWaitsForTheBatchUnderWay():
    """
    Stopped during the pause between batches, the retention writes no
    further batch, and C{whenIdle} fires once the one under way is done.
    """
    clock = Clock()
    clock.advance(NOW)
    store = _stored([float(i) for i in range(5)])
    retention = EventRetention(lambda: defer.succeed(store), clock, keepDays=1, batch=2, pause=0.05)
    retention.startService()
    assert _count(store) == 3
    retention.stopService()
    idle = retention.whenIdle()
    assert not idle.called
    clock.advance(0.05)
    assert idle.called and _count(store) == 3
    assert clock.getDelayedCalls() == []
