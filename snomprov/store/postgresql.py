# -*- test-case-name: tests.test_store_postgresql -*-
"""
What the SQL store needs of PostgreSQL beyond its L{snomprov.store.sql.Dialect}:
the connection (psycopg 3) and the C{adbapi} pool around it, and the check
the daemon runs before it starts.

A connection that breaks (the server went away) is dropped quietly when
its transaction fails, and the pool's next transaction connects again: the
failure of the write or read says why, once, to its caller; nothing is
logged here.  Connections are made with a short connect timeout and TCP
keepalives, so that a server that vanished is noticed in seconds.
"""

from __future__ import annotations

from typing import Any

from twisted.enterprise import adbapi

from snomprov.dburl import DatabaseURL
from snomprov.store.errors import StoreError

__all__ = ["connectKeywords", "connect", "QuietConnection", "checkPostgreSQL", "LOCK_CLASS",
           "SCHEMA_LOCK", "WRITE_LOCK", "CHANGES_CHANNEL", "reason"]

LOCK_CLASS = 0x736E6F6D
"""
The first key of snomprov's advisory locks (C{"snom"}).
"""

SCHEMA_LOCK = 1
"""
The second key of the lock a migration holds (C{pg_advisory_xact_lock}):
two daemons starting together on a new database migrate one after the
other, the second finding nothing left to do.
"""

WRITE_LOCK = 2
"""
The second key of the lock every write transaction holds, as SQLite's
single writer: event ids and change sequence numbers are committed in the
order they are given, which the readers' cursors rely on.
"""

CHANGES_CHANNEL = "snomprov_changes"
"""
The C{NOTIFY} channel a write that moved the settings version signals on.
"""


def connectKeywords(url: DatabaseURL, timeout: int = 5) -> dict[str, Any]:
    """
    The keywords of C{psycopg.connect} for C{url}.
    """
    return dict(host=url.host, port=url.port, user=url.user or None, password=url.password or None,
                dbname=url.database, connect_timeout=timeout, application_name="snomprov",
                keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)


def connect(url: DatabaseURL, autocommit: bool = False, timeout: int = 5):
    """
    A new psycopg connection to C{url}.
    """
    import psycopg

    return psycopg.connect(autocommit=autocommit, **connectKeywords(url, timeout))


class QuietConnection(adbapi.Connection):
    """
    An C{adbapi} connection whose failed rollback (its connection broken)
    drops the connection without logging: the pool connects again for the
    next transaction, and the transaction's own failure reaches its caller.
    """

    def rollback(self) -> None:
        try:
            self._connection.rollback()
            if not self._connection.closed:
                return
        except Exception:
            pass
        self._pool.disconnect(self._connection)


def checkPostgreSQL(url: DatabaseURL) -> None:
    """
    Whether the server answers and its database's schema is one this
    snomprov knows (none yet is fine: the open migrates).

    @raise StoreError: saying why not, without the password.
    """
    import psycopg

    from snomprov.store.migrations import MIGRATIONS

    try:
        with connect(url, autocommit=True) as connection:
            (table,) = connection.execute("SELECT to_regclass('schema_version')").fetchone()
            if table is None:
                return
            (version,) = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except psycopg.Error as e:
        raise StoreError(f"cannot connect to {url.safe()}: {reason(e, url)}") from None
    newest = MIGRATIONS[-1][0]
    if version is not None and version > newest:
        raise StoreError(f"{url.safe()} is at schema version {version}, newer than this snomprov "
                         f"knows ({newest}): upgrade snomprov")


def reason(error: Exception, url: DatabaseURL) -> str:
    """
    The first line of C{error}'s message, without the URL's password.
    """
    text = str(error).strip()
    message = text.splitlines()[0] if text else type(error).__name__
    return message.replace(url.password, "***") if url.password else message
