"""
Tests for L{snomprov.pbx.sync}: the account sync service on a fake sink
and L{twisted.internet.task.Clock}.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, task
from twisted.logger import globalLogPublisher

sys.path.insert(0, str(Path(__file__).parent))

from snomprov.config import PBXConfig  # noqa: E402
from snomprov.device import DeviceInfo, Line  # noqa: E402
from snomprov.pbx import sync  # noqa: E402
from snomprov.pbx.sync import POLL_INTERVAL, AccountSync, SinkUnavailable, makeSink  # noqa: E402
from snomprov.store.memory import MemoryDeviceStore  # noqa: E402
from test_store import MAC1, MAC2, _openSQLite  # noqa: E402

SNOM = DeviceInfo(mac=MAC1, vendor="snom", model="snomD785", state="registered")
SNOM2 = DeviceInfo(mac=MAC2, vendor="snom", model="snom360", state="registered")


class FakeSink:
    """
    An account sink keeping what it was given; C{down} makes it fail.
    """

    kind = "fake"

    def __init__(self, name="fake", domain="pbx.example.org"):
        self.name = name
        self.domain = domain
        self.down = False
        self.applied = []  # every change applied, in order
        self.attempts = 0
        self.held = {}
        self.closed = False

    def apply(self, changes):
        self.attempts += 1
        if self.down:
            return defer.fail(ConnectionRefusedError("database s3cret-free error"))
        for change in changes:
            self.applied.append(change)
            if change.previous is not None:
                self.held.pop(change.previous, None)
            if change.account is not None:
                self.held[change.account.username] = change.account
        return defer.succeed(None)

    def accounts(self):
        return defer.succeed({(a.username, a.domain): a for a in self.held.values()})

    def differs(self, stored, held):
        return stored.password != held.password

    def close(self):
        self.closed = True
        return defer.succeed(None)


def lines(*users, password="pw"):
    return tuple(Line(index=i, user=u, password=password) for i, u in enumerate(users, 1))


@pytest.fixture
def logged():
    events = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


def started(store, *sinks, clock=None):
    clock = clock or task.Clock()
    service = AccountSync(lambda: defer.succeed(store), sinks, clock)
    service.startService()
    return service, clock


def test_appliesAfterCommitInOrder():
    store = MemoryDeviceStore()
    sink = FakeSink()
    service, clock = started(store, sink)
    store.writeDevice(SNOM, lines("alice", "bob"))
    store.setLines(MAC1, lines("alice", "bob", password="new"))
    store.writeDevice(SNOM2, lines("carol"))
    store.deleteDevice(MAC1)
    versions = [c.version for c in sink.applied]
    assert versions == sorted(versions)
    assert [(c.mac, c.index, c.account is None) for c in sink.applied][-2:] == [(MAC1, 1, True), (MAC1, 2, True)]
    assert sorted(sink.held) == ["carol"]
    assert sink.held["carol"].domain == "pbx.example.org" and sink.held["carol"].password == "pw"
    assert [c.previous for c in sink.applied if c.account is None] == ["alice", "bob"]
    assert store.accountBacklog(["fake"]).result == {"fake": 0}
    # Tombstones every sink applied are pruned.
    assert store.accountSyncState(MAC1, ["fake"]).result == []
    service.stopService()
    assert sink.closed


def test_backOffAndRecovery(logged):
    store = MemoryDeviceStore()
    sink = FakeSink()
    sink.down = True
    service, clock = started(store, sink)
    store.writeDevice(SNOM, lines("alice"))  # never fails, though the sink is down
    assert sink.attempts == 1
    delays = []
    for _ in range(8):
        before = sink.attempts
        waited = 0.0
        while sink.attempts == before:
            clock.advance(0.5)
            waited += 0.5
        delays.append(waited)
    # 1, 2, 4, ... seconds, at most 60 (poll ticks do not retry sooner).
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    (state,) = store.accountSyncState(MAC1, ["fake"]).result
    assert state.tries == 9 and "ConnectionRefusedError" in state.lastError and not state.inSync
    assert state.nextTry == clock.seconds() + 60.0
    sink.down = False
    clock.advance(60)
    assert sorted(sink.held) == ["alice"]
    (state,) = store.accountSyncState(MAC1, ["fake"]).result
    assert state.inSync and state.lastError is None
    texts = [e.get("log_format", "") for e in logged if "PBX sink" in e.get("log_format", "")]
    assert len([t for t in texts if "down" in t]) == 1
    assert len([t for t in texts if "recovered" in t]) == 1
    assert not any("pw" in repr(e.get("error", "")) for e in logged)
    service.stopService()


def test_sinksIndependent():
    store = MemoryDeviceStore()
    up, down = FakeSink("up"), FakeSink("down")
    down.down = True
    service, clock = started(store, up, down)
    store.writeDevice(SNOM, lines("alice"))
    assert sorted(up.held) == ["alice"] and down.held == {}
    assert store.accountBacklog(["up", "down"]).result == {"up": 0, "down": 1}
    # The tombstone waits for the down sink.
    store.deleteDevice(MAC1)
    assert up.held == {}
    assert [s.sink for s in store.accountSyncState(MAC1, ["up", "down"]).result] == ["up", "down"]
    down.down = False
    clock.advance(2)
    assert [(c.index, c.account is None) for c in down.applied] == [(1, True)]
    assert store.accountSyncState(MAC1, ["up", "down"]).result == []
    service.stopService()


def test_pollSeesOtherWriters():
    """
    A change no listener told (another process) is applied on the poll.
    """
    store = MemoryDeviceStore()
    sink = FakeSink()
    service, clock = started(store, sink)
    service.stopService()  # no listener any more
    store.writeDevice(SNOM, lines("alice"))
    assert sink.held == {}
    service, clock = started(store, sink)  # poll now=True
    assert sorted(sink.held) == ["alice"]
    store._listeners.remove(service._changed)
    store.setLines(MAC1, lines("alice", password="x"))
    assert sink.held["alice"].password == "pw"
    clock.advance(1)
    assert sink.held["alice"].password == "x"
    service.stopService()


def test_unreadableFeedLoggedOnce(logged):
    """
    A feed the poll cannot read (the database away) is logged once however
    many polls fail; once it reads again, a later failure is logged again.
    """
    store = MemoryDeviceStore()
    service, clock = started(store, FakeSink())
    read = store.changesAfter
    store.changesAfter = lambda seq: defer.fail(ConnectionError("server closed the connection"))

    def warnings():
        return [e for e in logged if "cannot read the change feed" in e.get("log_format", "")]

    for _ in range(5):
        clock.advance(POLL_INTERVAL)
    assert len(warnings()) == 1
    store.changesAfter = read
    clock.advance(POLL_INTERVAL)
    store.changesAfter = lambda seq: defer.fail(ConnectionError("again"))
    clock.advance(POLL_INTERVAL)
    assert len(warnings()) == 2
    service.stopService()


def test_renameRemovesPrevious():
    store = MemoryDeviceStore()
    sink = FakeSink()
    service, _ = started(store, sink)
    store.writeDevice(SNOM, lines("alice"))
    store.setLines(MAC1, (Line(index=1, user="alice", authUser="a1", password="pw"),))
    assert sorted(sink.held) == ["a1"] and sink.applied[-1].previous == "alice"
    service.stopService()


@pytest_twisted.inlineCallbacks
def test_restartResumesBacklog(tmp_path):
    from twisted.internet import reactor

    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    sink = FakeSink()
    sink.down = True
    clock = task.Clock()
    service = AccountSync(lambda: defer.succeed(store), [sink], clock)
    service.startService()
    for mac in ("000413000001", "000413000002", "000413000003"):
        yield store.writeDevice(DeviceInfo(mac=mac, vendor="snom", state="registered"), lines("u" + mac[-1]))
    yield service.kick()
    yield service.stopService()
    yield store.close()
    assert sink.held == {}
    # A new process, the sink back: the backlog kept in the file is applied.
    store = yield _openSQLite(path)
    try:
        sink = FakeSink()
        service = AccountSync(lambda: defer.succeed(store), [sink], task.Clock())
        service.startService()
        for _ in range(100):
            if len(sink.held) == 3:
                break
            yield service.kick()
            yield task.deferLater(reactor, 0.01, lambda: None)
        assert sorted(sink.held) == ["u1", "u2", "u3"]
        assert (yield store.accountBacklog(["fake"])) == {"fake": 0}
        yield service.stopService()
    finally:
        yield store.close()


def test_makeSinkMissingModule(monkeypatch):
    monkeypatch.setitem(sync._FACTORIES, "kamailio", ("snomprov.pbx.nosuchmodule", "X", lambda c: ()))
    with pytest.raises(SinkUnavailable) as e:
        makeSink(PBXConfig(kind="kamailio", name="k", url="postgresql://u:secret@h/db", domain="d"), None)
    assert "[[pbx]] k" in str(e.value) and "secret" not in str(e.value)


def test_pollReadsBacklogOnlyWhenTheFeedMoved(monkeypatch):
    store = MemoryDeviceStore()
    store.writeDevice(SNOM, lines("alice"))
    reads = []
    original = store.pendingAccounts
    monkeypatch.setattr(store, "pendingAccounts", lambda *a: reads.append(a) or original(*a))
    sink = FakeSink()
    service, clock = started(store, sink)
    assert sorted(sink.held) == ["alice"]
    before = len(reads)
    clock.advance(1)
    clock.advance(1)
    assert len(reads) == before
    store._listeners.remove(service._changed)
    store.writeDevice(SNOM2, lines("bob"))
    clock.advance(1)
    assert len(reads) > before and sorted(sink.held) == ["alice", "bob"]
    service.stopService()


def test_hungSinkTimesOut():
    store = MemoryDeviceStore()
    sink = FakeSink()
    hung = []
    sink.apply = lambda changes: hung.append(defer.Deferred()) or hung[-1]
    service, clock = started(store, sink)
    store.writeDevice(SNOM, lines("alice"))
    assert len(hung) == 1
    clock.advance(sync.APPLY_TIMEOUT)
    (state,) = store.accountSyncState(MAC1, ["fake"]).result
    assert "TimeoutError" in state.lastError and state.tries == 1
    del sink.apply  # the class's apply again
    clock.advance(1)
    assert sorted(sink.held) == ["alice"]
    service.stopService()


def test_stopCancelsAHungApply():
    store = MemoryDeviceStore()
    sink = FakeSink()
    hung = []
    sink.apply = lambda changes: hung.append(defer.Deferred()) or hung[-1]
    service, clock = started(store, sink)
    store.writeDevice(SNOM, lines("alice"))
    stopped = service.stopService()
    assert stopped.called and sink.closed
    assert clock.getDelayedCalls() == []
    assert store.accountBacklog(["fake"]).result == {"fake": 1}


def test_errorMessageMasksURLPasswords():
    error = ConnectionError("cannot reach postgresql://kamailio:hunter2@db.example.org/kamailio")
    assert sync.errorMessage(error) == (
        "ConnectionError: cannot reach postgresql://kamailio:***@db.example.org/kamailio")
    assert sync.errorMessage(TimeoutError()) == "TimeoutError"
