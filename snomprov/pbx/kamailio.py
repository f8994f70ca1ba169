# -*- test-case-name: tests.test_pbx_kamailio -*-
"""
The C{kamailio} account sink: rows of Kamailio's C{subscriber} table
(C{auth_db}), one per line, keyed by (C{username}, C{domain}).

With C{passwords = "ha1"} a row holds C{ha1}/C{ha1b} and an empty
C{password} (Kamailio with C{calculate_ha1} off); with C{"plain"} it holds
the C{password} (Kamailio with C{calculate_ha1} on), and the hashes too.

The database is PostgreSQL (C{postgresql://}, through psycopg 3) or MySQL /
MariaDB (C{mysql://}, through PyMySQL), used in one thread of the sink's own
with one connection, opened when first needed and again after a failure, so
the sink works again once the database is back.  The URL's password and the
accounts' passwords never reach a log, a repr or an error message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool
from zope.interface import implementer

from snomprov.dburl import DatabaseURL, parseDatabaseURL
from snomprov.interfaces import IAccountSink
from snomprov.pbx.account import AccountChange, SIPAccount, ha1, ha1b

__all__ = ["KamailioSink", "KamailioAccount", "DatabaseURL", "parseDatabaseURL", "KamailioError", "statements",
           "PASSWORD_MODES"]

PASSWORD_MODES = ("ha1", "plain")


class KamailioError(Exception):
    """
    The sink could not be built, or the database refused or failed; the
    message names the sink and its URL without a password.
    """


@dataclass(frozen=True, repr=False)
class KamailioAccount(SIPAccount):
    """
    A C{subscriber} row as L{KamailioSink.accounts} reads it: the account
    and its stored hashes (never in its repr).
    """

    ha1: str = ""
    ha1b: str = ""


def _row(account: SIPAccount, domain: str, passwords: str) -> tuple[str, str, str, str, str]:
    """
    The C{subscriber} columns (username, domain, password, ha1, ha1b) for
    C{account}.
    """
    password = account.password if passwords == "plain" else ""
    return (account.username, domain, password, ha1(account.username, domain, account.password),
            ha1b(account.username, domain, account.password))


_INSERT = "INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (%s, %s, %s, %s, %s) "
_UPSERTS = {
    "postgresql": _INSERT + ("ON CONFLICT (username, domain) DO UPDATE SET password = EXCLUDED.password, "
                             "ha1 = EXCLUDED.ha1, ha1b = EXCLUDED.ha1b"),
    "mysql": _INSERT + ("ON DUPLICATE KEY UPDATE password = VALUES(password), ha1 = VALUES(ha1), "
                        "ha1b = VALUES(ha1b)"),
}
_DELETE = "DELETE FROM subscriber WHERE username = %s AND domain = %s"
_SELECT = "SELECT username, domain, password, ha1, ha1b FROM subscriber WHERE domain = %s ORDER BY username"


def statements(changes: Sequence[AccountChange], domain: str, passwords: str,
               dialect: str = "postgresql") -> list[tuple[str, tuple]]:
    """
    The SQL, in order, that applies C{changes} to C{subscriber}: for an
    account, the previous user name's row deleted when it differs, then an
    upsert by (username, domain); for a removal, the previous user name's
    row deleted.  Pure.

    @param dialect: C{postgresql} or C{mysql} (both drivers take C{%s}
        parameters).
    """
    upsert = _UPSERTS[dialect]
    result: list[tuple[str, tuple]] = []
    for change in changes:
        account = change.account
        if account is None:
            if change.previous:
                result.append((_DELETE, (change.previous, domain)))
            continue
        if change.previous and change.previous != account.username:
            result.append((_DELETE, (change.previous, domain)))
        result.append((upsert, _row(account, domain, passwords)))
    return result


class _PostgreSQL:
    """
    psycopg 3.
    """

    @staticmethod
    def errors():
        import psycopg

        return psycopg.Error

    @staticmethod
    def connect(url: DatabaseURL, timeout: int):
        import psycopg

        return psycopg.connect(host=url.host, port=url.port, user=url.user or None, password=url.password or None,
                               dbname=url.database, connect_timeout=timeout, application_name="snomprov",
                               keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3,
                               # Bounded well below the sync's apply timeout:
                               # a stuck apply would hold the sink's thread.
                               options="-c statement_timeout=60000 -c lock_timeout=30000")

    @staticmethod
    def isOpen(connection) -> bool:
        return not connection.closed

    @staticmethod
    def transaction(connection, work):
        with connection.transaction():
            with connection.cursor() as cursor:
                return work(cursor)


class _MySQL:
    """
    PyMySQL.
    """

    @staticmethod
    def errors():
        import pymysql

        return pymysql.MySQLError

    @staticmethod
    def connect(url: DatabaseURL, timeout: int):
        import pymysql

        return pymysql.connect(host=url.host, port=url.port, user=url.user or None, password=url.password,
                               database=url.database, connect_timeout=timeout, read_timeout=30,
                               write_timeout=30, autocommit=False, charset="utf8mb4")

    @staticmethod
    def isOpen(connection) -> bool:
        return bool(connection.open)

    @staticmethod
    def transaction(connection, work):
        connection.begin()
        try:
            with connection.cursor() as cursor:
                result = work(cursor)
            connection.commit()
            return result
        except BaseException:
            try:
                connection.rollback()
            except Exception:
                pass
            raise


_BACKENDS = {"postgresql": _PostgreSQL, "mysql": _MySQL}


@implementer(IAccountSink)
class KamailioSink:
    """
    Kamailio's C{subscriber} table as an L{IAccountSink}.

    @ivar name: the C{[[pbx]]} table's name.
    @ivar domain: C{subscriber.domain}, the realm.
    @ivar passwords: C{"ha1"} or C{"plain"}.
    @ivar url: the parsed L{DatabaseURL}.
    """

    kind = "kamailio"

    def __init__(self, name: str, url: str, domain: str, passwords: str = "ha1", reactor=None,
                 connectTimeout: int = 5) -> None:
        """
        @param url: C{postgresql://user[:password]@host[:port]/database}, or
            C{mysql://…}.
        @param reactor: the reactor to answer on (default: the global one).
        @raise KamailioError: a bad URL, C{passwords} or C{domain}.
        """
        try:
            self.url = parseDatabaseURL(url)
        except ValueError as e:
            raise KamailioError(f"pbx {name}: url {e}") from None
        if passwords not in PASSWORD_MODES:
            raise KamailioError(f"pbx {name}: passwords must be \"ha1\" or \"plain\", not {passwords!r}")
        if not domain:
            raise KamailioError(f"pbx {name}: domain is empty")
        if reactor is None:
            from twisted.internet import reactor
        self.name = name
        self.domain = domain
        self.passwords = passwords
        self._reactor = reactor
        self._connectTimeout = connectTimeout
        self._backend = _BACKENDS[self.url.scheme]
        self._connection = None
        self._pool: ThreadPool | None = None
        self._shutdownTrigger = None

    def __repr__(self) -> str:
        return (f"KamailioSink(name={self.name!r}, url={self.url.safe()!r}, domain={self.domain!r}, "
                f"passwords={self.passwords!r})")

    # The thread side.

    def _error(self, error: Exception, doing: str, secrets: Sequence[str] = ()) -> KamailioError:
        """
        The message of C{error}'s first line, without the URL's password or
        any of C{secrets} (the accounts' passwords).
        """
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        for secret in sorted({self.url.password, *secrets}, key=len, reverse=True):
            if secret:
                message = message.replace(secret, "***")
        return KamailioError(f"pbx {self.name}: {self.url.safe()}: {doing}: {message}")

    def _connect(self):
        if self._connection is not None and self._backend.isOpen(self._connection):
            return self._connection
        self._connection = None
        try:
            self._connection = self._backend.connect(self.url, self._connectTimeout)
        except self._backend.errors() as e:
            raise self._error(e, "connecting") from None
        return self._connection

    def _forget(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                pass

    def _inTransaction(self, work, doing: str, secrets: Sequence[str] = ()):
        """
        Run C{work(cursor)} in one transaction.  A connection kept from
        before may have died with a restart of the database: when it fails,
        the transaction is tried once more on a new one (a transaction that
        failed applied nothing, and applying is idempotent).
        """
        errors = self._backend.errors()
        kept = self._connection is not None
        while True:
            connection = self._connect()
            try:
                return self._backend.transaction(connection, work)
            except errors as e:
                # Whatever went wrong, the next try starts on a new
                # connection.
                self._forget()
                if not kept:
                    raise self._error(e, doing, secrets) from None
                kept = False

    def _applyInThread(self, changes: Sequence[AccountChange]) -> None:
        plan = statements(changes, self.domain, self.passwords, self.url.scheme)

        def work(cursor):
            for sql, parameters in plan:
                cursor.execute(sql, parameters)

        self._inTransaction(work, "applying",
                            [change.account.password for change in changes if change.account is not None])

    def _accountsInThread(self) -> dict[tuple[str, str], KamailioAccount]:
        def work(cursor):
            cursor.execute(_SELECT, (self.domain,))
            return cursor.fetchall()

        rows = self._inTransaction(work, "reading subscriber")
        return {(username, domain): KamailioAccount(mac="", index=0, username=username, domain=domain,
                                                    password=password, ha1=hash1, ha1b=hash1b)
                for username, domain, password, hash1, hash1b in rows}

    # The reactor side.

    def _run(self, function, *args):
        if self._pool is None:
            # One thread: one connection, and the changes in their order.
            self._pool = ThreadPool(minthreads=1, maxthreads=1, name=f"snomprov-pbx-{self.name}")
            self._pool.start()
            self._shutdownTrigger = self._reactor.addSystemEventTrigger(
                "during", "shutdown", self._stopPool)
        return deferToThreadPool(self._reactor, self._pool, function, *args)

    def _stopPool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.callInThread(self._forget)
            pool.stop()

    def apply(self, changes: Sequence[AccountChange]):
        """
        Apply C{changes}, in order, in one transaction: each account
        upserted by (username, domain), its C{previous} user name's row
        deleted when it differs; a removal deletes the C{previous} row.

        @return: Deferred firing with C{None}, or failing with
            L{KamailioError} (then nothing was applied).
        """
        return self._run(self._applyInThread, list(changes))

    def accounts(self):
        """
        The C{subscriber} rows of this sink's domain.

        @return: Deferred firing with C{{(username, domain): KamailioAccount}}
            (C{mac} C{""}, C{index} 0; C{password} as stored).
        """
        return self._run(self._accountsInThread)

    def differs(self, stored: SIPAccount, held: SIPAccount) -> bool:
        """
        Whether the row C{held} differs from what this sink would write for
        C{stored}: the columns it writes (the C{password} and, where
        C{held} has them, the hashes).
        """
        _, _, password, hash1, hash1b = _row(stored, self.domain, self.passwords)
        if held.password != password:
            return True
        if isinstance(held, KamailioAccount):
            return (held.ha1, held.ha1b) != (hash1, hash1b)
        return False

    def close(self):
        """
        Close the connection and stop the sink's thread.

        @return: Deferred firing when done.
        """
        from twisted.internet.defer import succeed

        if self._pool is None:
            return succeed(None)
        pool = self._pool
        done = deferToThreadPool(self._reactor, pool, self._forget)

        def stop(result):
            if self._shutdownTrigger is not None:
                self._reactor.removeSystemEventTrigger(self._shutdownTrigger)
                self._shutdownTrigger = None
            self._pool = None
            pool.stop()
            return result

        return done.addBoth(stop)
