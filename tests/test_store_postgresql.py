"""
What only the PostgreSQL store promises, against a real PostgreSQL the tests
start themselves (L{pgserver}): the contract suite runs on it with the
others (C{tests/test_store.py}'s C{store} fixture).  Here: two processes'
stores opening one new database at once migrate it once; migrations are
one transaction; the start's check; the change feed pushed by
C{LISTEN}/C{NOTIFY} from one store to another, and what happens when the
server goes away and comes back.
"""

from __future__ import annotations

import time

import pytest
import pytest_twisted
from twisted.internet import defer, task
from twisted.logger import globalLogPublisher

from snomprov.dburl import parseDatabaseURL
from snomprov.device import Setting, SettingsLayer
from snomprov.store import StoreError, checkStoreOpens
from snomprov.store.migrations import MIGRATIONS, SchemaError
from snomprov.store.sql import SQLDeviceStore

from test_store import _openPostgreSQL, _reactor  # noqa: E402


def _rows(server, name, query):
    with server.connect(name) as connection:
        return connection.execute(query).fetchall()


def _layer(scope: str, value: str = "Deutsch") -> SettingsLayer:
    return SettingsLayer(scope, (Setting("language", value),))


def _open(server, name, migrations=MIGRATIONS, feedRetry=0.2):
    url = parseDatabaseURL(server.dsn(name))
    return SQLDeviceStore.openPostgreSQL(url, reactor=_reactor(), migrations=migrations, feedRetry=feedRetry)


@defer.inlineCallbacks
def _until(condition, timeout: float = 5.0):
    """
    Wait (on the reactor) until C{condition()} is true; fail after
    C{timeout} seconds.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {condition}")
        yield task.deferLater(_reactor(), 0.02, lambda: None)


@pytest.fixture
def database(postgres):
    name = "pgstore_test"
    postgres.createDatabase(name)
    yield name
    postgres.dropDatabase(name)


@pytest_twisted.inlineCallbacks
def test_concurrentOpensMigrateOnce(postgres, database):
    """
    Two stores (two pools, two connections, as two daemons) opening one new
    database at the same time both succeed; each migration is applied once
    (the schema's advisory lock: without it the second's CREATE TABLE
    fails).  A slow last migration makes sure the two overlap.
    """
    slow = MIGRATIONS + ((len(MIGRATIONS) + 1, ("SELECT pg_sleep(0.5)", "CREATE TABLE extra (a INTEGER)")),)
    opened = yield defer.gatherResults([_open(postgres, database, slow), _open(postgres, database, slow)],
                                       consumeErrors=True)
    try:
        versions = _rows(postgres, database, "SELECT version FROM schema_version ORDER BY version")
        assert versions == [(v,) for v, _ in slow]
        yield opened[0].putLayer(_layer("site"))
        assert (yield opened[1].getLayer("site")) == _layer("site")
    finally:
        for store in opened:
            yield store.close()


@pytest_twisted.inlineCallbacks
def test_failedMigrationChangesNothing(postgres, database):
    """
    PostgreSQL's DDL is transactional: a failing migration leaves no table
    of the earlier ones, and a good open afterwards starts from scratch.
    """
    broken = MIGRATIONS + ((len(MIGRATIONS) + 1, ("CREATE TABLE extra (a INTEGER)", "NOT SQL AT ALL")),)
    with pytest.raises(StoreError, match="cannot open"):
        yield _open(postgres, database, broken)
    tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    assert _rows(postgres, database, tables) == []
    store = yield _open(postgres, database)
    yield store.close()
    assert ("devices",) in _rows(postgres, database, tables)


@pytest_twisted.inlineCallbacks
def test_newerSchemaRefused(postgres, database):
    """
    A database a newer snomprov migrated is refused, by the open and by the
    start's check, naming both versions.
    """
    store = yield _open(postgres, database)
    yield store.close()
    known = len(MIGRATIONS)
    with postgres.connect(database) as connection:
        connection.execute("INSERT INTO schema_version VALUES (%s, 0)", (known + 1,))
    newer = rf"schema version {known + 1}, newer than this snomprov knows \({known}\)"
    with pytest.raises(SchemaError, match=newer):
        yield _open(postgres, database)
    with pytest.raises(StoreError, match=newer):
        checkStoreOpens(postgres.dsn(database), "/")


def test_checkStoreOpens(postgres, database):
    """
    The start's check connects: a server that answers passes (a new
    database too, migrated by the open); none listening is a L{StoreError}
    naming the server without the password.
    """
    checkStoreOpens(postgres.dsn(database), "/")
    from daemon import freePort

    url = f"postgresql://snomprov:hunter2@127.0.0.1:{freePort()}/{database}"
    with pytest.raises(StoreError, match=r"cannot connect to postgresql://snomprov@127\.0\.0\.1") as e:
        checkStoreOpens(url, "/")
    assert "hunter2" not in str(e.value)


@pytest_twisted.inlineCallbacks
def test_changesPushedToOtherStore(postgres, database):
    """
    A change committed through one store reaches another store's listeners
    (another daemon's) by C{NOTIFY}, as its scopes, without a poll; each
    store tells its own changes once.
    """
    one = yield _open(postgres, database)
    other = yield _open(postgres, database)
    heardOne, heardOther = [], []
    one.addChangeListener(heardOne.append)
    other.addChangeListener(heardOther.append)
    try:
        yield _until(lambda: one.pushesChanges() and other.pushesChanges())
        yield one.putLayer(_layer("model:snom360"))
        yield _until(lambda: heardOther)
        assert heardOther == [{"model:snom360"}]
        yield other.putLayer(_layer("site"))
        yield _until(lambda: len(heardOne) == 2)
        # One's own change once (at its commit), the other's once.
        assert heardOne == [{"model:snom360"}, {"site"}]
        assert heardOther == [{"model:snom360"}, {"site"}]
    finally:
        yield one.close()
        yield other.close()


@pytest_twisted.inlineCallbacks
def test_ownNotificationsNotRead(postgres, database, monkeypatch):
    """
    A store's own changes, told at their commit, are not read again from
    the feed when their notifications come back: the feed's position moves
    past them without a read (and forgets them); another store's change is
    read, and told, as before.
    """
    one = yield _open(postgres, database)
    other = yield _open(postgres, database)
    heard, reads = [], []
    one.addChangeListener(heard.append)
    readFeed = one._readFeed

    def counted():
        reads.append(one._feedSeq)
        readFeed()

    try:
        yield _until(lambda: one.pushesChanges() and other.pushesChanges())
        monkeypatch.setattr(one, "_readFeed", counted)
        for scope in ("site", "vendor:snom", "model:snom360"):
            yield one.putLayer(_layer(scope))
        [(latest,)] = _rows(postgres, database, "SELECT MAX(seq) FROM changes")
        yield _until(lambda: one._feedSeq == latest)
        assert reads == [] and one._ownSeqs == set()
        assert heard == [{"site"}, {"vendor:snom"}, {"model:snom360"}]
        yield other.putLayer(_layer("site", "English"))
        yield _until(lambda: len(heard) == 4)
        assert heard[3] == {"site"} and reads == [latest]
    finally:
        yield one.close()
        yield other.close()


@pytest_twisted.inlineCallbacks
def test_feedLostAndBack(postgresServer, tmp_path):
    """
    When the server goes away (killed: C{pg_ctl -m immediate}) the store
    stops pushing (its reader polls), logs the loss once however long it
    lasts, fails its reads; when the server is back on the same port, it
    listens again by itself, logs that once, and tells the changes made
    meanwhile by another process (which it could not have been notified
    of).
    """
    server = postgresServer
    server.createDatabase("lost")
    messages: list[str] = []

    def observe(event):
        if event.get("log_namespace", "").startswith("snomprov.store"):
            from twisted.logger import formatEvent

            messages.append(formatEvent(event))

    store = yield _open(server, "lost", feedRetry=0.1)
    heard = []
    store.addChangeListener(heard.append)
    globalLogPublisher.addObserver(observe)
    try:
        yield _until(store.pushesChanges)
        server.stop(mode="immediate")
        yield _until(lambda: not store.pushesChanges())
        with pytest.raises(Exception):
            yield store.getLayer("site")
        yield task.deferLater(_reactor(), 0.5, lambda: None)  # several retries, one message
        server.start()
        # Another process's change, maybe before this store listens again.
        writer = yield _open(server, "lost")
        yield writer.putLayer(_layer("vendor:snom"))
        yield writer.close()
        yield _until(lambda: store.pushesChanges() and heard, timeout=10)
        assert {"vendor:snom"} in heard
        assert (yield store.getLayer("vendor:snom")) == _layer("vendor:snom")
    finally:
        globalLogPublisher.removeObserver(observe)
        yield store.close()
    lost = [m for m in messages if m.startswith("Lost the database")]
    back = [m for m in messages if m.startswith("The database")]
    assert len(lost) == 1 and len(back) == 1, messages
    assert "postgresql://snomprov@127.0.0.1" in lost[0]
