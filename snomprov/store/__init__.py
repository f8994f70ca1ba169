# -*- test-case-name: tests.test_store -*-
"""
Device stores: L{snomprov.interfaces.IDeviceStore} implementations.

L{openStore} turns a C{[store] url} into an open store:

  - C{memory:}: L{snomprov.store.memory.MemoryDeviceStore}, gone at exit;
  - C{sqlite:PATH}: L{snomprov.store.sql.SQLDeviceStore} on an SQLite file,
    a relative C{PATH} being resolved against the given base directory;
    C{sqlite::memory:} is a private in-memory SQLite database;
  - C{postgresql://user[:password]@host[:port]/database}:
    L{snomprov.store.sql.SQLDeviceStore} on PostgreSQL (psycopg 3), its
    change feed pushed by C{LISTEN}/C{NOTIFY} (L{snomprov.store.pgfeed}).

The URL is read by L{snomprov.dburl.parseStoreURL}, the one parser of
store URLs (the configuration checks it with the same).

What every implementation shares lives beside it, one job a module:
L{snomprov.store.checks} (validation), L{snomprov.store.columns} (the
devices table's columns and merge rules, devices as rows),
L{snomprov.store.writes} (the write logic and the settings-version rules), L{snomprov.store.changes} (the change feed's bound and listeners);
their public names are re-exported here.
"""

from __future__ import annotations

import os

from twisted.internet import defer
from twisted.python.filepath import FilePath

from snomprov.config import maskURL
from snomprov.dburl import StoreLocation, parseStoreURL
from snomprov.store.checks import (
    checkDevices,
    checkEvents,
    checkImport,
    checkLayer,
    checkLimit,
    checkLines,
    checkMAC,
    checkScope,
)
from snomprov.store.errors import (
    AccountExists,
    LastAdmin,
    NoAdmin,
    NoSuchStore,
    PreconditionFailed,
    StoreError,
    UnknownDevice,
)
from snomprov.store.columns import deviceFromRow, deviceToRow, mergeDeviceRows
from snomprov.store.writes import Records, StoreWrites, whenValid

__all__ = [
    "StoreError",
    "UnknownDevice",
    "PreconditionFailed",
    "NoSuchStore",
    "AccountExists",
    "NoAdmin",
    "LastAdmin",
    "openStore",
    "checkStoreOpens",
    "Records",
    "StoreWrites",
    "whenValid",
    "checkMAC",
    "checkDevices",
    "checkLines",
    "checkImport",
    "checkScope",
    "checkLayer",
    "checkEvents",
    "checkLimit",
    "deviceToRow",
    "deviceFromRow",
    "mergeDeviceRows",
]


def openStore(url: str, dataDir: FilePath | str, reactor=None, create: bool = True):
    """
    Open the store named by C{url}.

    @param url: C{memory:}, C{sqlite:PATH}, C{sqlite::memory:} or
        C{postgresql://...}.
    @param dataDir: the directory a relative SQLite C{PATH} is resolved
        against (the configuration's base directory).  The file's directory
        is created if missing.
    @param reactor: the reactor whose thread pool runs SQL; the global one
        if C{None}.
    @param create: if false, an SQLite file that does not exist is not
        created: the command line opens only the daemon's store.
    @return: C{Deferred} firing with an L{IDeviceStore} provider, or failing
        with L{StoreError} for a URL it cannot open (L{NoSuchStore} for a
        missing file not to be created).
    """
    try:
        location = _parse(url, dataDir)
    except StoreError:
        return defer.fail()
    path = location.path
    if not create and location.kind == "sqlite" and path != ":memory:" and not os.path.isfile(path):
        return defer.fail(NoSuchStore(path))
    if location.kind == "memory":
        from snomprov.store.memory import MemoryDeviceStore

        return defer.succeed(MemoryDeviceStore())
    if reactor is None:
        from twisted.internet import reactor
    from snomprov.store.sql import SQLDeviceStore

    if location.database is not None:
        return SQLDeviceStore.openPostgreSQL(location.database, reactor=reactor)
    return SQLDeviceStore.openSQLite(path, reactor=reactor)


def checkStoreOpens(url: str, dataDir: FilePath | str) -> None:
    """
    Whether the store named by C{url} can be opened, found out at once and
    without a reactor (the daemon asks before it starts): the URL is one
    we read; an SQLite file's directory exists or can be made, and the
    file is an SQLite database whose schema this snomprov knows; a
    PostgreSQL server answers, and its database's schema is one this
    snomprov knows.  The open itself (L{openStore}) follows, and migrates.

    @raise StoreError: saying why not (never with a password).
    """
    parsed = _parse(url, dataDir)
    if parsed.database is not None:
        from snomprov.store.postgresql import checkPostgreSQL

        checkPostgreSQL(parsed.database)
        return
    location = parsed.path
    if parsed.kind != "sqlite" or location == ":memory:":
        return
    import sqlite3

    from snomprov.store.migrations import MIGRATIONS

    from snomprov.privatefiles import createPrivateFile, makePrivateDirectory

    try:
        makePrivateDirectory(FilePath(location).parent().path)
    except OSError as e:
        raise StoreError(f"cannot create the directory of {location}: {e.strerror}") from None
    try:
        createPrivateFile(location)
    except OSError as e:
        raise StoreError(f"cannot create {location}: {e.strerror}") from None
    try:
        connection = sqlite3.connect(location, timeout=5)
    except sqlite3.Error as e:
        raise StoreError(f"cannot open {location}: {e}") from None
    try:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_version" in tables:
            (version,) = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
            newest = MIGRATIONS[-1][0]
            if version is not None and version > newest:
                raise StoreError(f"{location} is at schema version {version}, newer than this snomprov "
                                 f"knows ({newest}): upgrade snomprov")
    except sqlite3.Error as e:
        raise StoreError(f"cannot read {location}: {e}") from None
    finally:
        connection.close()


def _parse(url: str, dataDir: FilePath | str) -> StoreLocation:
    """
    L{parseStoreURL}, its complaint a L{StoreError} naming the key.
    """
    base = dataDir.path if isinstance(dataDir, FilePath) else str(dataDir)
    try:
        return parseStoreURL(url, base)
    except ValueError as e:
        raise StoreError(f"bad [store] url {maskURL(url)!r}: {e}") from None
