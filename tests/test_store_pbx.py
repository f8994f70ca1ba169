"""
Tests for the PBX account sync state of every store
(L{snomprov.interfaces.IAccountSyncStore}, L{snomprov.store.pbxstate},
C{account_lines}/C{account_sync}): memory and SQLite, one contract.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
import pytest_twisted
from zope.interface.verify import verifyObject

sys.path.insert(0, str(Path(__file__).parent))

from snomprov.device import DeviceInfo  # noqa: E402
from snomprov.interfaces import IAccountSyncStore  # noqa: E402
from snomprov.store import StoreError  # noqa: E402
from snomprov.store.migrations import MIGRATIONS  # noqa: E402
from snomprov.store.writes import accountMoves  # noqa: E402
from test_store import MAC1, MAC2, MAC3, _openSQLite, _tableRows, line, store  # noqa: E402, F401

SNOM = DeviceInfo(mac=MAC1, vendor="snom", model="snomD785", state="registered")
SNOM2 = DeviceInfo(mac=MAC2, vendor="snom", model="snom360", state="registered")


def keys(pending):
    return [(p.mac, p.index, p.deleted) for p in pending]


def applied(pending):
    return [(p.mac, p.index, p.version, None if p.line is None else p.line.authUser or p.line.user)
            for p in pending]


@pytest_twisted.inlineCallbacks
def synced(store, sink="kam"):
    """
    Apply everything pending for C{sink}.
    """
    pending = yield store.pendingAccounts(sink, 1000)
    yield store.markApplied(sink, applied(pending))
    return pending


def test_providesInterface(store):
    assert verifyObject(IAccountSyncStore, store)


def test_accountMoves():
    a, b = line(1, user="a"), line(2, user="b")
    assert accountMoves((), (a, b)) == [(1, False), (2, False)]
    assert accountMoves((a, b), (a,)) == [(2, True)]
    assert accountMoves((a,), (line(1, user="a", password="new"),)) == [(1, False)]
    assert accountMoves((a,), (line(1, user="a", outboundProxy="p.example.org"),)) == []


@pytest_twisted.inlineCallbacks
def test_newLinesArePending(store):
    yield store.applyImport([SNOM, SNOM2], {MAC1: (line(1, user="a"), line(2, user="b")),
                                            MAC2: (line(1, user="c"),)})
    pending = yield store.pendingAccounts("kam")
    assert sorted(keys(pending)) == [(MAC1, 1, False), (MAC1, 2, False), (MAC2, 1, False)]
    assert {p.mac: p.line.user for p in pending if p.index == 1} == {MAC1: "a", MAC2: "c"}
    assert all(p.appliedUsername is None for p in pending)
    assert (yield store.accountBacklog(["kam", "ast"])) == {"kam": 3, "ast": 3}
    assert len((yield store.pendingAccounts("kam", limit=2))) == 2


@pytest_twisted.inlineCallbacks
def test_passwordChangeMovesVersionSightingDoesNot(store):
    yield store.writeDevice(SNOM, (line(1, user="a"),))
    first = yield synced(store)
    assert (yield store.pendingAccounts("kam")) == []
    assert (yield store.accountBacklog(["kam"])) == {"kam": 0}
    # A sighting, a settings-only line change and rewriting the same lines move nothing.
    yield store.mergeDevices([DeviceInfo(mac=MAC1, vendor="snom", model="snomD785", ip="192.0.2.9")])
    yield store.setLines(MAC1, (line(1, user="a"),))
    yield store.setLines(MAC1, (line(1, user="a", outboundProxy="proxy.example.org"),))
    assert (yield store.pendingAccounts("kam")) == []
    yield store.setLines(MAC1, (line(1, user="a", password="n3w", outboundProxy="proxy.example.org"),))
    (pending,) = yield store.pendingAccounts("kam")
    assert pending.version > first[0].version and pending.line.password == "n3w"
    assert pending.appliedUsername == "a"


@pytest_twisted.inlineCallbacks
def test_orderedByVersion(store):
    yield store.writeDevice(SNOM2, (line(1, user="b"),))
    yield store.writeDevice(SNOM, (line(1, user="a"),))
    yield store.setLines(MAC2, (line(1, user="b", displayName="Bob"),))
    pending = yield store.pendingAccounts("kam")
    assert keys(pending) == [(MAC1, 1, False), (MAC2, 1, False)]
    assert pending[0].version < pending[1].version


@pytest_twisted.inlineCallbacks
def test_deleteTombstonesAndPrunes(store):
    yield store.writeDevice(SNOM, (line(1, user="a"), line(2, user="b")))
    yield synced(store, "kam")
    yield synced(store, "ast")
    assert (yield store.deleteDevice(MAC1))
    pending = yield store.pendingAccounts("kam")
    assert keys(pending) == [(MAC1, 1, True), (MAC1, 2, True)]
    assert [p.line for p in pending] == [None, None]
    assert [p.appliedUsername for p in pending] == ["a", "b"]
    states = yield store.accountSyncState(MAC1, ["kam", "ast"])
    assert [(s.sink, s.index, s.deleted, s.inSync) for s in states] == [
        ("kam", 1, True, False), ("ast", 1, True, False), ("kam", 2, True, False), ("ast", 2, True, False)]
    yield synced(store, "kam")
    assert (yield store.pruneAccounts(["kam", "ast"])) == 0  # ast has not applied them
    yield synced(store, "ast")
    assert (yield store.pruneAccounts(["kam", "ast"])) == 2
    assert (yield store.accountSyncState(MAC1, ["kam", "ast"])) == []
    assert (yield store.accountBacklog(["kam", "ast"])) == {"kam": 0, "ast": 0}


@pytest_twisted.inlineCallbacks
def test_removedLineTombstone(store):
    yield store.writeDevice(SNOM, (line(1, user="a"), line(2, user="b")))
    yield synced(store)
    yield store.writeDevice(SNOM, (line(1, user="a"),))
    assert keys((yield store.pendingAccounts("kam"))) == [(MAC1, 2, True)]
    # The line comes back: no longer a tombstone.
    yield store.setLines(MAC1, (line(1, user="a"), line(2, user="c")))
    (pending,) = yield store.pendingAccounts("kam")
    assert (pending.deleted, pending.line.user, pending.appliedUsername) == (False, "c", "b")


@pytest_twisted.inlineCallbacks
def test_failedKeepsPendingAndState(store):
    yield store.writeDevice(SNOM, (line(1, user="a"),))
    yield store.markFailed("kam", [(MAC1, 1)], "connection refused", 1234.5, 3)
    (state,) = yield store.accountSyncState(MAC1, ["kam"])
    assert (state.appliedVersion, state.lastError, state.nextTry, state.tries, state.inSync) == (
        0, "connection refused", 1234.5, 3, False)
    assert len((yield store.pendingAccounts("kam"))) == 1
    yield synced(store)
    (state,) = yield store.accountSyncState(MAC1, ["kam"])
    assert (state.lastError, state.nextTry, state.tries, state.inSync) == (None, None, 0, True)
    assert state.appliedVersion == state.version


@pytest_twisted.inlineCallbacks
def test_olderAppliedIgnored(store):
    yield store.writeDevice(SNOM, (line(1, user="a"),))
    (old,) = yield store.pendingAccounts("kam")
    yield store.setLines(MAC1, (line(1, user="a", password="2"),))
    (new,) = yield store.pendingAccounts("kam")
    yield store.markApplied("kam", [(MAC1, 1, new.version, "a")])
    yield store.markApplied("kam", [(MAC1, 1, old.version, "a")])
    assert (yield store.pendingAccounts("kam")) == []


@pytest.mark.parametrize("call", [
    lambda s: s.pendingAccounts("", 10),
    lambda s: s.pendingAccounts("kam", -1),
    lambda s: s.markApplied("kam", [("nomac", 1, 1, "a")]),
    lambda s: s.markApplied("kam", [(MAC1, 0, 1, "a")]),
    lambda s: s.markFailed("kam", [(MAC1, "1")], "x", None, 1),
    lambda s: s.accountBacklog("kam"),
])
@pytest_twisted.inlineCallbacks
def test_badArguments(store, call):
    with pytest.raises(StoreError):
        yield call(store)


@pytest_twisted.inlineCallbacks
def test_pendingSurvivesReopening(tmp_path):
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    yield store.writeDevice(SNOM, (line(1, user="a"), line(2, user="b")))
    yield store.markApplied("kam", [(MAC1, 1, 1_000_000, "a")])
    yield store.markFailed("kam", [(MAC1, 2)], "down", 99.0, 2)
    yield store.close()
    store = yield _openSQLite(path)
    try:
        (pending,) = yield store.pendingAccounts("kam")
        assert (pending.mac, pending.index, pending.line.user) == (MAC1, 2, "b")
        states = yield store.accountSyncState(MAC1, ["kam"])
        assert [(s.index, s.lastError, s.tries) for s in states] == [(1, None, 0), (2, "down", 2)]
    finally:
        yield store.close()


@pytest_twisted.inlineCallbacks
def test_migrationSeedsExistingLines(tmp_path):
    """
    Lines stored before the account tables (migration 5) are pending for every sink.
    """
    path = tmp_path / "old.sqlite"
    old = yield _openSQLite(path, MIGRATIONS[:4])
    yield old.close()
    connection = sqlite3.connect(str(path))
    with connection:
        connection.execute("INSERT INTO devices (mac, vendor) VALUES (?, 'snom')", (MAC1,))
        connection.execute("INSERT INTO device_revisions (mac, revision) VALUES (?, 1)", (MAC1,))
        connection.execute(
            "INSERT INTO lines (mac, idx, \"user\", auth_user, password, display_name, registrar, "
            "outbound_proxy) VALUES (?, 1, 'a', '', 's3cret', '', '', '')", (MAC1,))
    connection.close()
    store = yield _openSQLite(path)
    try:
        assert keys((yield store.pendingAccounts("kam"))) == [(MAC1, 1, False)]
        assert _tableRows(path, "SELECT max(version) FROM schema_version") == [(MIGRATIONS[-1][0],)]
        yield store.setLines(MAC1, (line(1, user="a", password="x"),))
        assert _tableRows(path, "SELECT version FROM account_lines") == [(2,)]
    finally:
        yield store.close()


@pytest_twisted.inlineCallbacks
def test_lineChangeAndVersionOneTransaction(tmp_path):
    """
    A line write that the database refuses leaves no account version behind.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    try:
        yield store.writeDevice(SNOM, (line(1, user="a"),))
        before = _tableRows(path, "SELECT mac, idx, version, deleted FROM account_lines")
        with pytest.raises(Exception):
            yield store.writeDevice(SNOM, (line(1, user="b"),), expected=999)
        assert _tableRows(path, "SELECT mac, idx, version, deleted FROM account_lines") == before
    finally:
        yield store.close()
