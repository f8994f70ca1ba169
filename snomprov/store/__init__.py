# -*- test-case-name: tests.test_store -*-
"""
Device stores: L{snomprov.interfaces.IDeviceStore} implementations.

L{openStore} turns a C{[store] url} into an open store:

  - C{memory:}: L{snomprov.store.memory.MemoryDeviceStore}, gone at exit;
  - C{sqlite:PATH}: L{snomprov.store.sql.SQLDeviceStore} on an SQLite file,
    a relative C{PATH} being resolved against the given base directory;
    C{sqlite::memory:} is a private in-memory SQLite database;
  - C{postgresql://...}: refused for now with a L{StoreError}.

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
        C{postgresql://...} (not yet available).
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
        kind, location = _parseStoreURL(url, dataDir)
    except StoreError:
        return defer.fail()
    if not create and kind == "sqlite" and location != ":memory:" and not os.path.isfile(location):
        return defer.fail(NoSuchStore(location))
    if kind == "memory":
        from snomprov.store.memory import MemoryDeviceStore

        return defer.succeed(MemoryDeviceStore())
    if reactor is None:
        from twisted.internet import reactor
    from snomprov.store.sql import SQLDeviceStore

    return SQLDeviceStore.openSQLite(location, reactor=reactor)


def checkStoreOpens(url: str, dataDir: FilePath | str) -> None:
    """
    Whether the store named by C{url} can be opened, found out at once and
    without a reactor (the daemon asks before it starts): the URL is one
    we read; an SQLite file's directory exists or can be made, and the
    file is an SQLite database whose schema this snomprov knows.  The open
    itself (L{openStore}) follows, and migrates.

    @raise StoreError: saying why not.
    """
    kind, location = _parseStoreURL(url, dataDir)
    if kind != "sqlite" or location == ":memory:":
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


def _parseStoreURL(url: str, dataDir: FilePath | str) -> tuple[str, str | None]:
    """
    Split a store URL into a backend kind and its location.

    @return: C{("memory", None)} or C{("sqlite", path)}, C{path} being
        absolute or C{":memory:"}.
    @raise StoreError: for anything else.
    """
    scheme, sep, rest = url.partition(":")
    if not sep:
        raise StoreError(
            f"bad store url {url!r}: expected memory:, sqlite:PATH or postgresql://..."
        )
    if scheme in ("postgresql", "postgres"):
        raise StoreError("PostgreSQL backend not yet available; use a sqlite: store url")
    if scheme == "memory" and not rest:
        return ("memory", None)
    if scheme == "sqlite":
        if rest == ":memory:":
            return ("sqlite", rest)
        if not rest or rest.startswith("//"):
            raise StoreError(
                f"bad store url {url!r}: expected sqlite:PATH "
                "(relative to the data directory or absolute)"
            )
        base = dataDir if isinstance(dataDir, FilePath) else FilePath(dataDir)
        path = FilePath(rest) if rest.startswith("/") else base.preauthChild(rest)
        return ("sqlite", path.path)
    raise StoreError(f"bad store url {url!r}: unknown scheme {scheme!r}")
