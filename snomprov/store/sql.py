# -*- test-case-name: tests.test_store -*-
"""
An L{IDeviceStore} on an SQL database through L{twisted.enterprise.adbapi}.

What differs between databases is held by a L{Dialect}: the DB-API module,
its parameter style, the column types the migrations use, how a write
transaction starts, the pool's connection arguments and what to run on each
new connection.  Every statement is written once, below, with C{?}
placeholders and standard SQL (C{INSERT ... ON CONFLICT ... DO UPDATE} is
both SQLite's and PostgreSQL's upsert).  Only L{SQLITE} is wired up today;
a PostgreSQL store needs its dialect's connection code and C{openStore}
support, not new SQL.

SQLite runs in WAL mode with C{synchronous=FULL}: a commit is on disk before
its Deferred fires, so an acknowledged write survives a crash of the process
and of the machine (C{NORMAL} would survive only the process).  Writes are
few and batched, so the cost of one fsync per transaction is acceptable.
The pool has exactly one connection: SQLite has a single writer, and one
connection never meets C{database is locked} from itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import threading
import time
from itertools import chain
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.filepath import FilePath
from zope.interface import implementer

from snomprov.dburl import DatabaseURL
from snomprov.device import DeviceInfo, Event, EventPage, Line, Setting, SettingsLayer
from snomprov.interfaces import IAccountStore, IAccountSyncStore, IDeviceStore
from snomprov.privatefiles import createPrivateFile, makePrivateDirectory
from snomprov.store.accounts import AccountWrites
from snomprov.store.changes import CHANGES_KEPT, ChangeListeners
from snomprov.store.checks import (
    checkCursor,
    checkDevicePage,
    checkDevices,
    checkEvents,
    checkLimit,
    checkMAC,
    checkTime,
)
from snomprov.store.errors import StoreError
from snomprov.store.filters import DEVICE_TEXT_FIELDS, LINE_TEXT_FIELDS, likePattern
from snomprov.store.sorts import sortExpression
from snomprov.store.columns import (
    COLUMN_NAMES,
    DEVICE_COLUMNS,
    OPERATOR_COLUMNS,
    OPERATOR_POSITIONS,
    REGISTRATION_POSITIONS,
    deviceFromRow,
    deviceToRow,
    mergeDeviceRows,
    mergeSQL,
    sameColumnsSQL,
)
from snomprov.store.writes import StoreWrites, checkFetched, finishSightings, mergeDevicesInto, whenValid
from snomprov.store.migrations import MIGRATIONS, Migration, migrate
from snomprov.store.pgfeed import NotifyListener
from snomprov.store.postgresql import (
    CHANGES_CHANNEL,
    LOCK_CLASS,
    SCHEMA_LOCK,
    WRITE_LOCK,
    QuietConnection,
    connectKeywords,
    reason,
)
from snomprov.store.postgresql import connect as connectPostgreSQL
from snomprov.store.sqlaccounts import SQLAccountRecords
from snomprov.store.sqlpbx import SQLPBXRecords, SQLPBXStore

__all__ = ["Dialect", "SQLITE", "POSTGRESQL", "SQLDeviceStore", "devicePageQuery", "eventPageQuery"]


@dataclass(frozen=True)
class Dialect:
    """
    What one database needs that another does not.

    @ivar dbapiModule: the DB-API 2.0 module name for C{adbapi}.
    @ivar paramstyle: C{"qmark"} (C{?}) or C{"format"} (C{%s}).
    @ivar types: the migrations' C{{real}}, C{{blob}}, C{{serial}} types.
    @ivar beginWrite: statement opening a write transaction, or C{None}
        where the driver opens transactions itself (psycopg).
    @ivar beginRead: the same for a read.
    @ivar poolKeywords: C{adbapi.ConnectionPool} keywords (C{cp_*} and the
        driver's C{connect} keywords).
    @ivar openStatements: run on every new connection, outside a transaction.
    @ivar likeIgnoresCase: whether C{LIKE} ignores the case of ASCII
        letters (SQLite's does), so that no C{lower} is needed.
    @ivar newestDevice: a query for one value that changes whenever a row
        is added to C{devices} (SQLite's largest C{rowid}), or C{None}: the
        store then counts, before a merge, how many of its MACs are stored.
    @ivar lockSchema: run first in a migration's transaction, so that two
        processes opening one database cannot both migrate it (a
        PostgreSQL advisory lock), or C{None} where C{beginWrite} already
        excludes every other writer (SQLite).
    @ivar notifyChanges: run in a write's transaction when it moves the
        settings version, with the transaction's last change seq (as text),
        telling the other processes at its commit (PostgreSQL's
        C{pg_notify}, the seq its payload), or C{None}: they poll the
        change feed.
    @ivar collate: the clause making a text comparison one of code points
        (L{snomprov.store.sorts}), or empty where the default already is.
    @ivar arrayRows: whether many rows are written as one array per column
        (PostgreSQL's C{unnest}): one statement for any number of rows,
        whose text does not depend on the number, so the driver parses it
        once and the server prepares it once (psycopg parses a multi-row
        C{VALUES} of more than 4 kB again at every execution), and one
        parameter per column rather than per value.  Otherwise multi-row
        C{VALUES} (see L{_ROWS_PER_INSERT}).
    """

    name: str
    dbapiModule: str
    paramstyle: str
    types: Mapping[str, str]
    beginWrite: str | None
    beginRead: str | None
    poolKeywords: Mapping[str, Any] = field(default_factory=dict)
    openStatements: tuple[str, ...] = ()
    newestDevice: str | None = None
    likeIgnoresCase: bool = False
    lockSchema: str | None = None
    notifyChanges: str | None = None
    collate: str = ""
    arrayRows: bool = False

    def sql(self, statement: str) -> str:
        """
        A statement written with C{?} placeholders, in this dialect's style.
        """
        if self.paramstyle == "qmark":
            return statement
        return statement.replace("%", "%%").replace("?", "%s")

    def ddl(self, statement: str) -> str:
        """
        A migration statement with this dialect's types filled in.
        """
        return self.sql(statement.format_map(self.types))

    def upsert(
        self,
        table: str,
        keys: Sequence[str],
        columns: Sequence[str],
        rows: int = 1,
        updates: Mapping[str, str] | None = None,
        where: str | None = None,
    ) -> str:
        """
        Insert C{rows} rows, or update the non-key C{columns} of the row with
        the same C{keys}: to the new value, or to the expression C{updates}
        gives for the column (C{excluded.} naming the new row, C{<table>.}
        the stored one).  With C{where}, a stored row for which it is not
        true is left alone (and not counted in the statement's row count).
        """
        updates = updates or {}
        names = ", ".join(columns)
        sets = ", ".join(
            f"{c} = {updates.get(c, f'excluded.{c}')}" for c in columns if c not in keys
        )
        condition = "" if where is None else f" WHERE {where}"
        return self.sql(
            f"INSERT INTO {table} ({names}) {self._rows(table, columns, rows)} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}{condition}"
        )

    def _rows(self, table: str, columns: Sequence[str], rows: int) -> str:
        """
        The rows of an C{INSERT} into C{columns} of C{table}: C{rows} rows
        of C{VALUES}, or where L{arrayRows}, any number of them from one
        array per column (typed as L{_COLUMN_TYPES} says), in the arrays'
        order.
        """
        if not self.arrayRows:
            return f"VALUES {_marks(len(columns), rows)}"
        types = _COLUMN_TYPES[table]
        names = ", ".join(f"c{n}" for n in range(len(columns)))
        arrays = ", ".join(f"?::{self.ddl(types[c])}[]" for c in columns)
        return f"SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS r({names}, n) ORDER BY n"

    def rowValues(self, kind: str, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """
        The parameters of L{insertRows}C{(kind, len(rows))} for C{rows}:
        their values one row after the other, or where L{arrayRows}, one
        list per column (a C{{real}} column's numbers made floats: psycopg
        refuses a list of mixed types).
        """
        if not self.arrayRows:
            return list(chain.from_iterable(rows))
        reals = _REAL_POSITIONS[kind]
        return [[None if v is None else float(v) for v in column] if n in reals else list(column)
                for n, column in enumerate(zip(*rows))]

    def insertRows(self, kind: str, rows: int) -> str:
        """
        The statement writing C{rows} rows at once (computed once per
        dialect, kind and number; where L{arrayRows}, one for any number),
        its parameters given by L{rowValues}.  C{kind} is C{"devices"} (the device
        rows replace the stored ones), C{"merge"} (merged into the stored
        ones as by L{snomprov.store.columns.mergeDeviceRows}),
        C{"mergeSameOperatorFields"} (the same, leaving alone the stored
        devices whose vendor, model or notes the row would change),
        C{"events"}, C{"revisions"} (C{(mac, revision)} rows replacing the
        stored ones) or C{"newRevisions"} (the same, keeping a stored one).
        """
        key = (self.name, kind, 0 if self.arrayRows else rows)
        statement = _MULTI_ROW.get(key)
        if statement is None:
            if kind == "events":
                statement = self.sql(f"{_INSERT_EVENT_HEAD} {self._rows('events', _EVENT_ROW, rows)}")
            elif kind in ("revisions", "newRevisions"):
                statement = self.upsert("device_revisions", ("mac",), ("mac", "revision"), rows)
                if kind == "newRevisions":
                    statement = statement.partition(" ON CONFLICT")[0] + " ON CONFLICT (mac) DO NOTHING"
            else:
                statement = self.upsert(
                    "devices", ("mac",), _DEVICE_COLUMNS, rows, **_DEVICE_UPSERTS[kind]
                )
            statement = _MULTI_ROW[key] = statement
        return statement


def _marks(width: int, rows: int) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    return ", ".join([row] * rows)


_MULTI_ROW: dict[tuple[str, str, int], str] = {}
_EVENT_ROW = ("time", "mac", "kind", "detail")
_COLUMN_TYPES: dict[str, dict[str, str]] = {
    "devices": {column.name: column.sqlType for column in DEVICE_COLUMNS},
    "events": {"time": "{real}", "mac": "TEXT", "kind": "TEXT", "detail": "TEXT"},
    "device_revisions": {"mac": "TEXT", "revision": "INTEGER"},
}
"""
The types of the columns L{Dialect.insertRows} writes, per table (as the
migrations write them).
"""
_REAL_POSITIONS: dict[str, frozenset[int]] = {
    kind: frozenset(n for n, c in enumerate(columns) if _COLUMN_TYPES[table][c] == "{real}")
    for kind, table, columns in (
        *((kind, "devices", COLUMN_NAMES) for kind in ("devices", "merge", "mergeSameOperatorFields")),
        ("events", "events", _EVENT_ROW),
        *((kind, "device_revisions", ("mac", "revision")) for kind in ("revisions", "newRevisions")),
    )
}
"""
Per L{Dialect.insertRows} kind, the positions in its rows of the C{{real}}
columns.
"""
_ROWS_PER_INSERT = 128
"""
Rows per multi-row C{INSERT} (a power of two; the rest of a batch goes in
halving statements, so that few distinct statements are prepared).  One
statement per many rows, rather than C{executemany}, steps the database
once per statement: C{sqlite3} lets go of the GIL around each step, and at
a few thousand rows per flush the reactor's thread and the pool's would
otherwise hand the GIL back and forth for every row.  SQLite allows 32766
parameters: 128 device rows use 1,408.
"""


SQLITE = Dialect(
    name="sqlite",
    dbapiModule="sqlite3",
    paramstyle="qmark",
    types={"real": "REAL", "blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    beginWrite="BEGIN IMMEDIATE",
    beginRead="BEGIN",
    poolKeywords={
        "cp_min": 1,
        "cp_max": 1,
        "check_same_thread": False,
        # Transactions are begun explicitly (beginWrite/beginRead), so that
        # migrations' DDL is transactional too.
        "isolation_level": None,
        "timeout": 30.0,
    },
    openStatements=(
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
    ),
    # snomprov never chooses a device's rowid, so SQLite gives a new row
    # the largest one plus one.
    newestDevice="SELECT max(rowid) FROM devices",
    likeIgnoresCase=True,
)

POSTGRESQL = Dialect(
    name="postgresql",
    dbapiModule="psycopg",
    paramstyle="format",
    types={
        "real": "DOUBLE PRECISION",
        "blob": "BYTEA",
        "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    },
    # Writers one at a time, as SQLite's: ids and sequence numbers commit
    # in order (see snomprov.store.postgresql.WRITE_LOCK).
    beginWrite=f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {WRITE_LOCK})",
    # A read's statements see one snapshot (eventsAfter reads the events,
    # then the largest id).
    beginRead="SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    # One connection, as SQLite's: a store's operations run in the order
    # they are asked (a read asked before a write does not see it), and
    # writes are one at a time anyway.  A broken connection is dropped by
    # QuietConnection, not by adbapi's reconnect (which logs it).
    poolKeywords={"cp_min": 1, "cp_max": 1, "cp_reconnect": False},
    lockSchema=f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {SCHEMA_LOCK})",
    notifyChanges=f"SELECT pg_notify('{CHANGES_CHANNEL}', ?)",
    arrayRows=True,
    # The database's locale (initdb's default) would otherwise order text.
    collate=' COLLATE "C"',
)
"""
PostgreSQL through psycopg 3 (L{SQLDeviceStore.openPostgreSQL}).
"""

# Every statement, in one place.
_DEVICE_COLUMNS = COLUMN_NAMES

_DEVICE_MERGE = mergeSQL()
"""
L{snomprov.store.columns.mergeDeviceRows} in SQL: the stored row's columns
merged with the new row's (C{excluded}) by the rules of
L{snomprov.store.columns.DEVICE_COLUMNS}.
"""

_SAME_OPERATOR_FIELDS = sameColumnsSQL(OPERATOR_COLUMNS)
"""
True when merging the new row leaves the stored device's operator columns
(vendor and model, what its rendered files depend on, and notes: with
them, what its revision depends on) as they are.
"""

_DEVICE_UPSERTS: dict[str, dict[str, Any]] = {
    "devices": {},
    "merge": {"updates": _DEVICE_MERGE},
    "mergeSameOperatorFields": {"updates": _DEVICE_MERGE, "where": _SAME_OPERATOR_FIELDS},
}

_LINE_COLUMNS = (
    "mac", "idx", '"user"', "auth_user", "password", "display_name", "registrar", "outbound_proxy",
)  # fmt: skip
_SELECT_DEVICES = f"SELECT {', '.join(_DEVICE_COLUMNS)} FROM devices"
_GET_DEVICE = _SELECT_DEVICES + " WHERE mac = ?"
_STORED_MACS = "SELECT mac FROM devices"
_IN_CHUNK = 500  # MACs per "WHERE mac IN (...)": SQLite allows 32766 parameters
_LIST_DEVICES = _SELECT_DEVICES + " ORDER BY mac"
_DELETE_DEVICE = "DELETE FROM devices WHERE mac = ?"
_COUNT_BY_STATE_VENDOR = "SELECT state, vendor, COUNT(*) FROM devices GROUP BY state, vendor"
_SELECT_LINES = f"SELECT {', '.join(_LINE_COLUMNS)} FROM lines"
_GET_LINES = _SELECT_LINES + " WHERE mac = ? ORDER BY idx"
_LINE_INDEX = itemgetter(1)
_DELETE_LINES = "DELETE FROM lines WHERE mac = ?"
_INSERT_LINE = (
    f"INSERT INTO lines ({', '.join(_LINE_COLUMNS)}) VALUES ({', '.join('?' * len(_LINE_COLUMNS))})"
)
_HAS_LAYER = "SELECT 1 FROM layers WHERE scope = ?"
_GET_SETTINGS = "SELECT name, value, idx, perm, secret FROM settings WHERE scope = ? ORDER BY position"
_GET_DOCUMENTS = "SELECT name, body FROM documents WHERE scope = ? ORDER BY name"
_INSERT_LAYER = "INSERT INTO layers (scope) VALUES (?)"
_INSERT_SETTING = (
    "INSERT INTO settings (scope, position, name, value, idx, perm, secret) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_DOCUMENT = "INSERT INTO documents (scope, name, body) VALUES (?, ?, ?)"
_DELETE_SETTINGS = "DELETE FROM settings WHERE scope = ?"
_DELETE_DOCUMENTS = "DELETE FROM documents WHERE scope = ?"
_DELETE_LAYER = "DELETE FROM layers WHERE scope = ?"
_SELECT_SCOPES = "SELECT scope FROM layers"
_LIST_SCOPES = _SELECT_SCOPES + " ORDER BY scope"
_INSERT_EVENT_HEAD = f"INSERT INTO events ({', '.join(_EVENT_ROW)})"
_EVENT_COLUMNS = "SELECT id, time, mac, kind, detail FROM events"
_LAST_EVENT = "SELECT COALESCE(MAX(id), 0) FROM events"
_NEWEST_EVENTS = {
    False: f"{_EVENT_COLUMNS} ORDER BY id DESC LIMIT ?",
    True: f"{_EVENT_COLUMNS} WHERE mac = ? ORDER BY id DESC LIMIT ?",
}
_EVENTS_AFTER = {
    False: f"{_EVENT_COLUMNS} WHERE id > ? ORDER BY id LIMIT ?",
    True: f"{_EVENT_COLUMNS} WHERE id > ? AND mac = ? ORDER BY id LIMIT ?",
}
_OLDEST_EVENTS = "SELECT id, time FROM events ORDER BY id LIMIT ?"
_DELETE_EVENTS_UPTO = "DELETE FROM events WHERE id <= ? AND time < ?"
_GET_REVISION = "SELECT revision FROM device_revisions WHERE mac = ?"
_DELETE_REVISION = "DELETE FROM device_revisions WHERE mac = ?"
_NEXT_REVISION = "UPDATE meta SET value = value + 1 WHERE name = 'device_revision'"
_LAST_REVISION = "SELECT value FROM meta WHERE name = 'device_revision'"
_TEXT_COLUMNS = len(DEVICE_TEXT_FIELDS) + len(LINE_TEXT_FIELDS)
_GET_VERSION = "SELECT value FROM meta WHERE name = 'settings_version'"
_BUMP_VERSION = "UPDATE meta SET value = value + 1 WHERE name = 'settings_version'"
_INSERT_CHANGE = "INSERT INTO changes (scope, time) VALUES (?, ?)"
_PRUNE_CHANGES = f"DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - {CHANGES_KEPT}"
# Two subqueries: SQLite answers a lone MAX or MIN from the key's index,
# but both in one SELECT scan the whole table (on every read of the feed).
_CHANGE_BOUNDS = ("SELECT COALESCE((SELECT MAX(seq) FROM changes), 0), "
                  "COALESCE((SELECT MIN(seq) FROM changes), 0)")
_CHANGE_ROWS_AFTER = "SELECT seq, scope FROM changes WHERE seq > ?"
_SET_CURRENT = (
    "INSERT INTO device_versions (mac, current) SELECT mac, ? FROM devices WHERE {where} "
    "ON CONFLICT (mac) DO UPDATE SET current = excluded.current"
)
_COVERED = {"site": "1 = 1", "vendor": "vendor = ?", "model": "model = ?", "device": "mac = ?"}
_MARK_FETCHED = "UPDATE device_versions SET fetched = ? WHERE mac = ?"
# Dialect.arrayRows: every row in one statement (its MACs distinct, checkFetched).
_MARK_FETCHED_ARRAYS = ("UPDATE device_versions SET fetched = r.fetched "
                        "FROM unnest(?::TEXT[], ?::INTEGER[]) AS r(mac, fetched) WHERE device_versions.mac = r.mac")
_STALE = "fetched IS NOT NULL AND current > fetched"
_PAGE_STALE = {
    False: f"SELECT mac, current, fetched FROM device_versions WHERE {_STALE} ORDER BY mac LIMIT ?",
    True: (f"SELECT mac, current, fetched FROM device_versions WHERE {_STALE} AND mac > ? "
           "ORDER BY mac LIMIT ?"),
}
_COUNT_STALE = f"SELECT count(*) FROM device_versions WHERE {_STALE}"
_DEVICE_VERSIONS = "SELECT mac, current, fetched FROM device_versions"
_ADDED_SINCE = "SELECT mac FROM devices WHERE rowid > ?"


def _textMatch(dialect: "Dialect") -> str:
    """
    The text filter of L{devicePageQuery} (L{snomprov.store.filters}),
    taking its L{likePattern} once per column.  The lines' columns are
    searched once for the whole page (a subquery, not one look-up per
    device: half the cost when few devices match), and a dialect whose
    C{LIKE} ignores ASCII case compares the columns as they are.
    """

    def like(column: str) -> str:
        value = column if dialect.likeIgnoresCase else f"lower({column})"
        return f"{value} LIKE ? ESCAPE '\\'"

    devices = " OR ".join(like(f"devices.{c}") for c in DEVICE_TEXT_FIELDS)
    lines = " OR ".join(like(f"lines.{c}") for _, c in LINE_TEXT_FIELDS)
    return f"({devices} OR devices.mac IN (SELECT lines.mac FROM lines WHERE {lines}))"


def devicePageQuery(state: str | None, vendor: str | None, model: str | None, text: str | None,
                    after: object, limit: int, dialect: "Dialect | None" = None, sort: str = "mac",
                    descending: bool = False) -> tuple[str, list[Any]]:
    """
    The statement and parameters of a page of devices
    (L{snomprov.interfaces.IDeviceStore.pageDevices}): the filters, then
    what comes after the cursor in the order C{sort} (L{snomprov.store.sorts},
    the MAC breaking ties), stopping after C{limit} rows.  By MAC, the page
    is read in the primary key's order, so that it costs what it holds (and
    what the filters skip), not the whole table; another order has no index
    (each would cost every sighting an index write), so the filtered devices
    are sorted keeping only the C{limit} first (a top-N sort, one pass).
    """
    dialect = dialect or SQLITE
    where, params = [], []
    for column, value in (("state", state), ("vendor", vendor), ("model", model)):
        if value is not None:
            where.append(f"devices.{column} = ?")
            params.append(value)
    if text is not None:
        where.append(_textMatch(dialect))
        params.extend([likePattern(text)] * _TEXT_COLUMNS)
    direction = " DESC" if descending else ""
    if sort == "mac":
        if after is not None:
            where.append("devices.mac < ?" if descending else "devices.mac > ?")
            params.append(after)
        order = f"devices.mac{direction}"
    else:
        key = sortExpression(sort, dialect.collate)
        if after is not None:
            where.append(f"({key} {'<' if descending else '>'} ? OR ({key} = ? AND devices.mac > ?))")
            params.extend([after[0], after[0], after[1]])
        order = f"{key}{direction}, devices.mac"
    statement = (_SELECT_DEVICES + (" WHERE " + " AND ".join(where) if where else "")
                 + f" ORDER BY {order} LIMIT ?")
    return statement, [*params, limit]


def eventPageQuery(mac: str | None, kind: str | None, before: int | None,
                   limit: int) -> tuple[str, list[Any]]:
    """
    The statement and parameters of a page of events
    (L{snomprov.interfaces.IDeviceStore.pageEvents}): newest first, through
    the C{(mac, id)} index when C{mac} is given.
    """
    where, params = [], []
    for condition, value in (("mac = ?", mac), ("kind = ?", kind), ("id < ?", before)):
        if value is not None:
            where.append(condition)
            params.append(value)
    statement = (_EVENT_COLUMNS + (" WHERE " + " AND ".join(where) if where else "")
                 + " ORDER BY id DESC LIMIT ?")
    return statement, [*params, limit]


def _lineFromRow(row: Sequence[Any]) -> Line:
    (_, index, user, authUser, password, displayName, registrar, outboundProxy) = row
    return Line(
        index=index,
        user=user,
        password=password,
        displayName=displayName,
        registrar=registrar,
        authUser=authUser,
        outboundProxy=outboundProxy,
    )


def _lineToRow(mac: str, line: Line) -> tuple[Any, ...]:
    return (
        mac, line.index, line.user, line.authUser, line.password,
        line.displayName, line.registrar, line.outboundProxy,
    )  # fmt: skip


def _chunks(rows: list[tuple[Any, ...]]) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """
    C{rows} in chunks of L{_ROWS_PER_INSERT} rows, then halving sizes.

    @return: C{(size, chunk)} pairs.
    """
    start, total, size = 0, len(rows), _ROWS_PER_INSERT
    while start < total:
        while total - start < size:
            size //= 2
        yield size, rows[start : start + size]
        start += size


def _oncePerMAC(rows: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """
    Device rows split into runs in which each MAC comes at most once: a
    MAC's first row in the first run, its second in the second...  A
    multi-row upsert may not touch a row twice (PostgreSQL refuses), and
    the runs, written in order, merge each MAC's rows in order.
    """
    if len({row[0] for row in rows}) == len(rows):
        return [rows] if rows else []
    runs: list[list[tuple[Any, ...]]] = []
    seen: dict[str, int] = {}
    for row in rows:
        count = seen.get(row[0], 0)
        seen[row[0]] = count + 1
        if count == len(runs):
            runs.append([])
        runs[count].append(row)
    return runs


class _SQLRecords(SQLAccountRecords, SQLPBXRecords):
    """
    L{snomprov.store.Records} and L{snomprov.store.accounts.AccountRecords}
    over one C{adbapi} transaction, plus the reads and event writes the
    store needs.
    """

    def __init__(self, txn, dialect: Dialect) -> None:
        self._txn = txn
        self._dialect = dialect
        self.newScopes: set[str] = set()
        # The change rows this transaction added, where the feed is pushed
        # (its readers skip their own).
        self.newSeqs: list[int] = []

    def _execute(self, statement: str, *params: Any) -> None:
        self._txn.execute(self._dialect.sql(statement), params)

    def _executeMany(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._txn.executemany(self._dialect.sql(statement), rows)

    def _fetch(self, statement: str, *params: Any) -> list[Sequence[Any]]:
        self._execute(statement, *params)
        return self._txn.fetchall()

    def _delete(self, statement: str, *params: Any) -> bool:
        self._execute(statement, *params)
        return self._txn.rowcount > 0

    def getDevice(self, mac: str) -> DeviceInfo | None:
        rows = self._fetch(_GET_DEVICE, mac)
        return deviceFromRow(rows[0]) if rows else None

    def _fetchForMACs(self, query: str, macs: list[str], column: str = "mac") -> Iterator[Sequence[Any]]:
        """
        The rows of C{query} with C{WHERE mac IN (...)} for C{macs} (or
        another text C{column}), asked in chunks of L{_IN_CHUNK} MACs; where
        L{Dialect.arrayRows}, all at once with C{= ANY} of an array (one
        statement text, whatever the number).
        """
        if self._dialect.arrayRows:
            if macs:
                yield from self._fetch(f"{query} WHERE {column} = ANY(?::TEXT[])", macs)
            return
        for start in range(0, len(macs), _IN_CHUNK):
            chunk = macs[start : start + _IN_CHUNK]
            yield from self._fetch(f"{query} WHERE {column} IN ({', '.join('?' * len(chunk))})", *chunk)

    def getDevices(self, macs: list[str]) -> dict[str, DeviceInfo]:
        rows = self._fetchForMACs(_SELECT_DEVICES, list(dict.fromkeys(macs)))
        return {row[0]: deviceFromRow(row) for row in rows}

    def listDevices(self) -> list[DeviceInfo]:
        return [deviceFromRow(row) for row in self._fetch(_LIST_DEVICES)]

    def countDevices(self) -> dict[tuple[str, str | None], int]:
        return {(state, vendor): count for state, vendor, count in self._fetch(_COUNT_BY_STATE_VENDOR)}

    def putDevice(self, device: DeviceInfo) -> None:
        self.putDevices([device])

    def putDevices(self, devices: list[DeviceInfo]) -> None:
        self._insertRows("devices", [deviceToRow(device) for device in devices])

    def mergeDeviceRows(self, rows: list[tuple[Any, ...]]) -> list[str]:
        """
        Merge device rows (see L{deviceToRow}) into the stored devices, in
        order, as L{snomprov.store.columns.mergeDeviceRows} does, without
        reading them back.

        @return: the MACs of the devices added or whose vendor or model
            changed.
        """
        changed: dict[str, None] = {}
        for run in _oncePerMAC(rows):
            changed.update(dict.fromkeys(self._mergeRun(run)))
        return list(changed)

    def _mergeRun(self, rows: list[tuple[Any, ...]]) -> list[str]:
        """
        L{_SQLRecords.mergeDeviceRows} on rows of distinct MACs.  Each
        multi-row upsert first leaves alone the devices whose registration
        the rows change; when its row count says some were, those are found
        (a read of the chunk's registrations, rare) and it runs again
        merging them all (merging a row twice gives what merging it once
        gives).
        """
        added = self._whetherAdded(rows)
        changed: list[str] = []
        moved: list[str] = []
        execute = self._txn.execute
        statement = self._dialect.insertRows
        for size, chunk in self._chunks(rows):
            values = self._dialect.rowValues("merge", chunk)
            execute(statement("mergeSameOperatorFields", size), values)
            if self._txn.rowcount != size:
                registration, operator = self._mergeChanging(chunk, size, values)
                changed.extend(registration)
                moved.extend(operator)
        if moved:
            self.moveRevisions(moved)
        new = added()
        if new:
            self.moveRevisions(new, onlyNew=True)
        return [*new, *changed]

    def _mergeChanging(
        self, chunk: list[tuple[Any, ...]], size: int, values: list[Any]
    ) -> tuple[list[str], list[str]]:
        """
        Merge a chunk some of whose rows change a stored device's vendor,
        model or notes (the rows merged already merge again to the same).

        @return: the MACs whose vendor or model changed, and those whose
            vendor, model or notes changed.
        """
        before = {row[0]: row for row in self._fetchForMACs(_SELECT_DEVICES, [r[0] for r in chunk])}
        self._txn.execute(self._dialect.insertRows("merge", size), values)
        registration, moved = [], []
        for row in chunk:
            old = before.get(row[0])
            if old is None:
                continue  # added: given a revision by the caller
            new = mergeDeviceRows(old, row)
            if any(new[p] != old[p] for p in REGISTRATION_POSITIONS):
                registration.append(row[0])
            if any(new[p] != old[p] for p in OPERATOR_POSITIONS):
                moved.append(row[0])
        return registration, moved

    def _whetherAdded(self, rows: list[tuple[Any, ...]]) -> Callable[[], list[str]]:
        """
        Called before C{rows} are written: a function telling, once they
        are, which devices were added (see L{Dialect.newestDevice}).
        """
        newest = self._dialect.newestDevice
        if newest is None:
            stored = {mac for (mac,) in self._fetchForMACs(_STORED_MACS, [row[0] for row in rows])}
            added = [row[0] for row in rows if row[0] not in stored]
            return lambda: added
        before = self._fetch(newest)[0][0]

        def addedSince() -> list[str]:
            if self._fetch(newest)[0][0] == before:
                return []
            # Where newestDevice is the largest rowid (SQLite).
            return [mac for (mac,) in self._fetch(_ADDED_SINCE, before or 0)]

        return addedSince

    def _insertRows(self, kind: str, rows: list[tuple[Any, ...]]) -> None:
        """
        Write C{rows} with multi-row statements (L{Dialect.insertRows}).
        """
        execute = self._txn.execute
        dialect = self._dialect
        for size, chunk in self._chunks(rows):
            execute(dialect.insertRows(kind, size), dialect.rowValues(kind, chunk))

    def _chunks(self, rows: list[tuple[Any, ...]]) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
        """
        C{rows} in the chunks one L{Dialect.insertRows} statement each
        writes (L{_chunks}; all at once where L{Dialect.arrayRows}).
        """
        if not self._dialect.arrayRows:
            return _chunks(rows)
        return iter([(len(rows), rows)] if rows else [])

    def removeDevice(self, mac: str) -> bool:
        self._execute(_DELETE_LINES, mac)
        self._execute(_DELETE_REVISION, mac)
        return self._delete(_DELETE_DEVICE, mac)

    def getRevision(self, mac: str) -> int | None:
        rows = self._fetch(_GET_REVISION, mac)
        return rows[0][0] if rows else None

    def moveRevisions(self, macs: list[str], onlyNew: bool = False) -> None:
        self._execute(_NEXT_REVISION)
        revision = self._fetch(_LAST_REVISION)[0][0]
        self._insertRows("newRevisions" if onlyNew else "revisions", [(mac, revision) for mac in macs])

    def pageDevices(self, state: str | None, vendor: str | None, model: str | None,
                    text: str | None, after: object, limit: int, sort: str = "mac",
                    descending: bool = False) -> list[DeviceInfo]:
        statement, params = devicePageQuery(state, vendor, model, text, after, limit, self._dialect,
                                            sort, descending)
        return [deviceFromRow(row) for row in self._fetch(statement, *params)]

    def readDevice(self, mac: str) -> tuple[DeviceInfo, tuple[Line, ...], int] | None:
        device = self.getDevice(mac)
        if device is None:
            return None
        revision = self.getRevision(mac)
        assert revision is not None
        return device, self.getLines(mac), revision

    def readDevices(self, macs: list[str]) -> dict[str, tuple]:
        """
        Each device's record, lines, version and device layer, in a few
        statements whatever the number of MACs (on PostgreSQL each is a
        round trip): the lines of all and which have a device layer, then
        those layers alone.
        """
        macs = list(dict.fromkeys(macs))
        versions = self.deviceVersions(macs)
        devices = self.getDevices(macs)
        lines: dict[str, list[Sequence[Any]]] = {}
        for row in self._fetchForMACs(_SELECT_LINES, [mac for mac in macs if mac in devices]):
            lines.setdefault(row[0], []).append(row)
        scopes = [scope for (scope,) in self._fetchForMACs(_SELECT_SCOPES, [f"device:{m}" for m in macs], "scope")]
        layers = {scope: self.getLayer(scope) for scope in scopes}
        found = {}
        for mac in macs:
            version = versions[mac][0] if mac in versions else None
            rows = sorted(lines.get(mac, ()), key=_LINE_INDEX)
            found[mac] = (devices.get(mac), tuple(_lineFromRow(row) for row in rows), version,
                          layers.get(f"device:{mac}"))
        return found

    def getLines(self, mac: str) -> tuple[Line, ...]:
        return tuple(_lineFromRow(row) for row in self._fetch(_GET_LINES, mac))

    def putLines(self, mac: str, lines: tuple[Line, ...]) -> None:
        self._execute(_DELETE_LINES, mac)
        self._executeMany(_INSERT_LINE, [_lineToRow(mac, line) for line in lines])

    def getLayer(self, scope: str) -> SettingsLayer | None:
        if not self._fetch(_HAS_LAYER, scope):
            return None
        settings = tuple(
            Setting(name=name, value=value, idx=idx, perm=perm, secret=bool(secret))
            for name, value, idx, perm, secret in self._fetch(_GET_SETTINGS, scope)
        )
        documents = {name: bytes(body) for name, body in self._fetch(_GET_DOCUMENTS, scope)}
        return SettingsLayer(scope, settings, documents)


    def putLayer(self, layer: SettingsLayer) -> None:
        self.removeLayer(layer.scope)
        self._execute(_INSERT_LAYER, layer.scope)
        self._executeMany(
            _INSERT_SETTING,
            [
                (layer.scope, position, s.name, s.value, s.idx, s.perm, int(s.secret))
                for position, s in enumerate(layer.settings)
            ],
        )
        self._executeMany(
            _INSERT_DOCUMENT,
            [(layer.scope, name, body) for name, body in layer.documents.items()],
        )

    def removeLayer(self, scope: str) -> bool:
        self._execute(_DELETE_SETTINGS, scope)
        self._execute(_DELETE_DOCUMENTS, scope)
        return self._delete(_DELETE_LAYER, scope)

    def listScopes(self) -> list[str]:
        return [scope for (scope,) in self._fetch(_LIST_SCOPES)]

    def addEvents(self, events: tuple[Event, ...]) -> None:
        self.addEventRows([(e.time, e.mac, e.kind, e.detail) for e in events])

    def addEventRows(self, rows: list[tuple[Any, ...]]) -> None:
        self._insertRows("events", rows)

    def listEvents(self, mac: str | None, limit: int) -> list[Event]:
        """
        The newest C{limit} events, of C{mac} or all: read backwards through
        the C{id} (all) or the C{(mac, id)} index (one device's).
        """
        macs = () if mac is None else (mac,)
        rows = self._fetch(_NEWEST_EVENTS[mac is not None], *macs, limit)
        return [Event(time=t, mac=m, kind=k, detail=d) for _, t, m, k, d in rows]

    def eventsAfter(self, cursor: int | None, mac: str | None, limit: int) -> EventPage:
        """
        The events' C{id} is the position.  With C{mac}, the events after the
        cursor are read through the C{(mac, id)} index; the cursor moves to
        the last C{id} when fewer than C{limit} were found, so that other
        devices' events are not read again.

        The largest C{id} is read in the same transaction as the events, so
        an event added meanwhile is after the cursor.  This relies on
        C{id}s being committed in order, which SQLite's single writer
        ensures, and on PostgreSQL the write lock every write transaction
        takes (L{snomprov.store.postgresql.WRITE_LOCK}): an identity alone
        would not (two writers' transactions may commit out of order).
        """
        filtered = mac is not None
        macs = (mac,) if filtered else ()
        if cursor is None:
            rows = self._fetch(_NEWEST_EVENTS[filtered], *macs, limit)[::-1]
        else:
            rows = self._fetch(_EVENTS_AFTER[filtered], cursor, *macs, limit)
        if cursor is not None and len(rows) == limit:
            last = rows[-1][0] if rows else cursor
        else:
            last = self._fetch(_LAST_EVENT)[0][0]
        events = tuple(Event(time=t, mac=m, kind=k, detail=d) for _, t, m, k, d in rows)
        return EventPage(events, last)

    def pageEvents(self, mac: str | None, kind: str | None, before: int | None,
                   limit: int) -> list[tuple[int, Event]]:
        """
        The newest C{limit} events with an id below C{before}, of C{mac}
        and C{kind} or all, with their ids.
        """
        statement, params = eventPageQuery(mac, kind, before, limit)
        rows = self._fetch(statement, *params)
        return [(i, Event(time=t, mac=m, kind=k, detail=d)) for i, t, m, k, d in rows]

    def pruneEvents(self, before: float, limit: int) -> int:
        """
        Delete the oldest events, in C{id} order, while their time is below
        C{before}, at most C{limit}: C{limit} rows are read through the
        primary key and a range of it deleted, whatever the table holds
        (the time checked again: a writer's event committed meanwhile with
        a smaller C{id} is not old).
        """
        last = None
        for eventId, eventTime in self._fetch(_OLDEST_EVENTS, limit):
            if eventTime >= before:
                break
            last = eventId
        if last is None:
            return 0
        self._execute(_DELETE_EVENTS_UPTO, last, before)
        return self._txn.rowcount

    def version(self) -> int:
        return self._fetch(_GET_VERSION)[0][0]

    def bumpVersion(self, scopes: Iterable[str]) -> int:
        self._execute(_BUMP_VERSION)
        now = time.time()
        scopes = list(dict.fromkeys(scopes))
        self._executeMany(_INSERT_CHANGE, [(scope, now) for scope in scopes])
        self._execute(_PRUNE_CHANGES)
        if self._dialect.notifyChanges is not None and scopes:
            # Consecutive: every writer holds the write lock.
            last = self._fetch(_CHANGE_BOUNDS)[0][0]
            self.newSeqs.extend(range(last - len(scopes) + 1, last + 1))
            self._execute(self._dialect.notifyChanges, str(last))
        self.newScopes.update(scopes)
        return self.version()

    def setCurrent(self, version: int, macs: Iterable[str]) -> None:
        macs = list(dict.fromkeys(macs))
        for start in range(0, len(macs), _IN_CHUNK):
            chunk = macs[start : start + _IN_CHUNK]
            where = f"mac IN ({', '.join('?' * len(chunk))})"
            self._execute(_SET_CURRENT.format(where=where), version, *chunk)

    def setCurrentCovered(self, version: int, scope: str) -> None:
        kind, _, name = scope.partition(":")
        where = _COVERED.get(kind)
        if where is not None:
            self._execute(_SET_CURRENT.format(where=where), version, *((name,) if name else ()))

    def changesAfter(self, seq: int | None) -> tuple[int, frozenset[str] | None]:
        latest, rows = self.changeRowsAfter(seq)
        return latest, None if rows is None else frozenset(scope for _, scope in rows)

    def changeRowsAfter(self, seq: int | None) -> tuple[int, list[tuple[int, str]] | None]:
        """
        L{changesAfter} with each change's sequence number: C{(seq, scope)}
        rows, or C{None}.
        """
        latest, oldest = self._fetch(_CHANGE_BOUNDS)[0]
        if seq is None or seq > latest or (seq < latest and oldest > seq + 1):
            return latest, None
        if seq == latest:
            return latest, []
        return latest, [(n, scope) for n, scope in self._fetch(_CHANGE_ROWS_AFTER, seq)]

    def markFetched(self, rows: list[tuple[str, int]]) -> None:
        if self._dialect.arrayRows:
            if rows:
                self._execute(_MARK_FETCHED_ARRAYS, [mac for mac, _ in rows], [version for _, version in rows])
            return
        self._executeMany(_MARK_FETCHED, [(version, mac) for mac, version in rows])

    def deviceVersions(self, macs: list[str]) -> dict[str, tuple[int, int | None]]:
        rows = self._fetchForMACs(_DEVICE_VERSIONS, list(dict.fromkeys(macs)))
        return {mac: (current, fetched) for mac, current, fetched in rows}

    def pageStale(self, after: str | None, limit: int) -> list[tuple[str, int, int]]:
        if after is None:
            return [tuple(row) for row in self._fetch(_PAGE_STALE[False], limit)]
        return [tuple(row) for row in self._fetch(_PAGE_STALE[True], after, limit)]

    def countStale(self) -> int:
        return self._fetch(_COUNT_STALE)[0][0]


@implementer(IDeviceStore, IAccountStore, IAccountSyncStore)
class SQLDeviceStore(StoreWrites, AccountWrites, SQLPBXStore):
    """
    An L{IDeviceStore} in an SQL database.  Every write is one transaction;
    its Deferred fires after the commit.

    @ivar dialect: the database's L{Dialect}.
    """

    _log = Logger()

    def __init__(self, pool: adbapi.ConnectionPool, dialect: Dialect, description: str) -> None:
        """
        Use L{openSQLite} or L{openPostgreSQL}, which also migrate the
        schema.

        @param description: names the database in logs and errors; never
            carries a password.
        """
        self._pool = pool
        self.dialect = dialect
        self._description = description
        self._listeners = ChangeListeners()
        self._feed: NotifyListener | None = None
        self._feedSeq: int | None = None
        self._feedConnected = False
        self._feedLost = False
        self._feedReading = False
        self._feedAgain = False
        self._live = False
        # The change rows this store wrote, not yet read from the feed:
        # added in the pool's thread before the commit (so before their
        # notification can come back), read in the reactor's, under the lock.
        self._ownSeqs: set[int] = set()
        self._ownLock = threading.Lock()

    @classmethod
    def openSQLite(
        cls, path: str, reactor, migrations: Sequence[Migration] = MIGRATIONS
    ) -> defer.Deferred:
        """
        Open (creating it and its directory if need be) and migrate an SQLite
        database.

        @param path: the file, or C{":memory:"}.
        @param reactor: runs the pool's thread and gives the time recorded
            with each migration.
        @param migrations: the schema's history (tests pass their own).
        @return: C{Deferred} firing with the store, or failing with
            L{StoreError} (the pool then closed).
        """
        if path != ":memory:":
            try:
                makePrivateDirectory(FilePath(path).parent().path)
                createPrivateFile(path)
            except OSError as e:
                return defer.fail(StoreError(f"cannot create {path} or its directory: {e}"))
        pool = adbapi.ConnectionPool(
            SQLITE.dbapiModule,
            path,
            cp_reactor=reactor,
            cp_openfun=lambda connection: _openConnection(SQLITE, connection),
            **SQLITE.poolKeywords,
        )
        store = cls(pool, SQLITE, path)
        return store._migrate(reactor.seconds(), migrations)

    @classmethod
    def openPostgreSQL(
        cls, url: DatabaseURL, reactor, migrations: Sequence[Migration] = MIGRATIONS,
        feedRetry: float = 1.0,
    ) -> defer.Deferred:
        """
        Connect to a PostgreSQL database, migrate it (under the schema's
        advisory lock) and listen to its change feed.

        @param url: the server and database (L{snomprov.dburl}).
        @param feedRetry: seconds between tries to listen again after the
            feed's connection broke.
        @return: C{Deferred} firing with the store, or failing with
            L{StoreError} (the pool then closed).
        """
        pool = adbapi.ConnectionPool(
            POSTGRESQL.dbapiModule,
            cp_reactor=reactor,
            cp_noisy=False,
            cp_openfun=lambda connection: _openConnection(POSTGRESQL, connection),
            **connectKeywords(url),
            **POSTGRESQL.poolKeywords,
        )
        pool.connectionFactory = QuietConnection
        store = cls(pool, POSTGRESQL, url.safe())
        d = store._migrate(reactor.seconds(), migrations)
        d.addCallback(lambda _: store._listen(url, reactor, feedRetry))
        return d

    def _listen(self, url: DatabaseURL, reactor, retryDelay: float) -> defer.Deferred:
        """
        Start the pushed change feed (L{NotifyListener}) from the feed's
        newest change.
        """

        def started(result: tuple[int, Any]) -> "SQLDeviceStore":
            self._feedSeq = result[0]
            self._feed = NotifyListener(
                lambda: connectPostgreSQL(url, autocommit=True), CHANGES_CHANNEL, reactor,
                notified=self._notified, up=self._feedUp,
                down=lambda error: self._feedDown(reason(error, url)), retryDelay=retryDelay,
            )
            self._feed.start()
            return self

        def failed(failure):
            self._pool.close()
            raise StoreError(f"cannot open {self._description}: {failure.value}")

        return self._run(lambda r: r.changesAfter(None)).addCallbacks(started, failed)

    def _feedUp(self) -> None:
        if self._feedLost:
            self._feedLost = False
            self._log.info("The database {database} is back", database=self._description)
        self._feedConnected = True
        self._readFeed()

    def _feedDown(self, why: str) -> None:
        self._feedConnected = self._live = False
        self._feedLost = True
        self._log.warn(
            "Lost the database {database}: {why}; answering from memory and retrying until it is back",
            database=self._description, why=why,
        )

    def _notified(self, payloads: list[str]) -> None:
        """
        Notifications arrived (their payloads, each a transaction's last
        change seq): read the feed, unless they are this store's own writes
        following the last change read, which were told as they committed;
        the feed's position then moves past them without a read.
        """
        try:
            top = max(int(payload) for payload in payloads)
        except ValueError:
            top = None
        start = self._feedSeq
        if top is not None and start is not None and not self._feedReading:
            with self._ownLock:
                own = self._ownSeqs
                if all(seq in own for seq in range(start + 1, top + 1)):
                    self._feedSeq = top
                    own.difference_update([seq for seq in own if seq <= top])
                    return
        self._readFeed()

    def _readFeed(self) -> None:
        """
        Read the change feed after a notification (or after listening
        again, what was missed meanwhile) and tell the listeners what
        changed; changes are pushed (L{pushesChanges}) once a read after
        listening succeeded.
        """
        if self._feedReading:
            self._feedAgain = True
            return
        self._feedReading, self._feedAgain = True, False

        def read(result: tuple[int, list[tuple[int, str]] | None]) -> None:
            latest, rows = result
            self._feedSeq = latest
            self._live = self._feedConnected
            with self._ownLock:
                own = self._ownSeqs
                if rows is None:
                    own.clear()
                else:
                    # This store's own changes were told as they committed.
                    scopes = frozenset(scope for seq, scope in rows if seq not in own)
                    own.difference_update([seq for seq in own if seq <= latest])
            if rows is None:
                self._listeners.tell(None)
                return
            if scopes:
                self._listeners.tell(scopes)

        def unread(failure) -> None:
            # Polled until a later read succeeds; the loss is logged by
            # the feed's connection.
            self._live = False

        def done(_) -> None:
            self._feedReading = False
            if self._feedAgain and self._feed is not None:
                self._readFeed()

        self._run(lambda r: r.changeRowsAfter(self._feedSeq)).addCallbacks(read, unread).addBoth(done)

    def pushesChanges(self) -> bool:
        """
        Whether every process's changes are told to the change listeners as
        they commit (PostgreSQL while its feed listens), so that the feed
        need not be polled.
        """
        return self._live

    def _migrate(self, now: float, migrations: Sequence[Migration]) -> defer.Deferred:
        def migrated(result: tuple[int, list[int]]) -> "SQLDeviceStore":
            version, applied = result
            self._log.info(
                "Opened {database} at schema version {version}",
                database=self._description,
                version=version,
            )
            return self

        def failed(failure):
            self._pool.close()
            if failure.check(StoreError):
                return failure
            raise StoreError(f"cannot open {self._description}: {failure.value}")

        d = self._pool.runInteraction(
            self._transaction, True, lambda txn: migrate(txn, self.dialect, now, migrations)
        )
        return d.addCallbacks(migrated, failed)

    def _transaction(self, txn, write: bool, work: Callable[[Any], Any]) -> Any:
        begin = self.dialect.beginWrite if write else self.dialect.beginRead
        if begin is not None:
            txn.execute(begin)
        return work(txn)

    def _run(self, work: Callable[[_SQLRecords], Any], write: bool = False) -> defer.Deferred:
        """
        Run C{work} on the records in one transaction, in the pool's thread.
        A constraint the database enforces becomes a L{StoreError}.
        """

        used: list[_SQLRecords] = []

        def withRecords(txn):
            records = _SQLRecords(txn, self.dialect)
            used.append(records)
            result = work(records)
            if records.newSeqs:
                with self._ownLock:
                    self._ownSeqs.update(records.newSeqs)
            return result

        def integrity(failure):
            failure.trap(self._pool.dbapi.IntegrityError)
            raise StoreError(f"refused by {self._description}: {failure.value}")

        def committed(result):
            scopes = used[-1].newScopes if used else None
            if scopes:
                self._listeners.tell(frozenset(scopes))
            return result

        d = self._pool.runInteraction(self._transaction, write, withRecords)
        if write:
            d.addCallback(committed)
        return d.addErrback(integrity)

    def _write(
        self, check: Callable[[], Any], apply: Callable[[_SQLRecords, Any], Any]
    ) -> defer.Deferred:
        return whenValid(check, lambda value: self._run(lambda r: apply(r, value), write=True))

    def _read(self, work: Callable[[_SQLRecords], Any]) -> defer.Deferred:
        return self._run(work)

    def getDevice(self, mac):
        return self._run(lambda r: r.getDevice(mac))

    def listDevices(self):
        return self._run(_SQLRecords.listDevices)

    def countDevices(self):
        return self._run(_SQLRecords.countDevices)

    def pageDevices(self, state=None, vendor=None, model=None, text=None, after=None, limit=100,
                    sort="mac", descending=False):
        return whenValid(
            lambda: checkDevicePage(state, vendor, model, text, after, limit, sort, descending),
            lambda checked: self._run(lambda r: r.pageDevices(*checked)),
        )

    def deviceRevision(self, mac):
        return self._run(lambda r: r.getRevision(mac))

    def readDevice(self, mac):
        return self._run(lambda r: r.readDevice(mac))

    def readDevices(self, macs):
        return whenValid(lambda: [checkMAC(mac) for mac in macs],
                         lambda checked: self._run(lambda r: r.readDevices(checked)))

    def getLines(self, mac):
        return self._run(lambda r: r.getLines(mac))

    def getLayer(self, scope):
        return self._run(lambda r: r.getLayer(scope))

    def listScopes(self):
        return self._run(_SQLRecords.listScopes)

    def addEvents(self, events):
        return self._write(lambda: checkEvents(events), _SQLRecords.addEvents)

    def record(self, devices, events):
        """
        L{mergeDevices} and L{addEvents} in one transaction.
        """

        def apply(records, checked):
            mergeDevicesInto(records, checked[0])
            records.addEvents(checked[1])

        return self._write(lambda: (checkDevices(devices), checkEvents(events)), apply)

    def recordRows(self, deviceRows, eventRows):
        """
        L{record} on validated rows, in one transaction: no L{DeviceInfo} or
        L{Event} is built, and devices are merged by the database (upserts),
        without being read back.
        """

        def apply(records):
            finishSightings(records, records.mergeDeviceRows(deviceRows))
            records.addEventRows(eventRows)

        return self._run(apply, write=True)

    def listEvents(self, mac=None, limit=100):
        return whenValid(
            lambda: checkLimit(limit), lambda n: self._run(lambda r: r.listEvents(mac, n))
        )

    def eventsAfter(self, cursor=None, mac=None, limit=100):
        return whenValid(
            lambda: (checkCursor(cursor), checkLimit(limit)),
            lambda checked: self._run(lambda r: r.eventsAfter(checked[0], mac, checked[1])),
        )

    def pageEvents(self, mac=None, kind=None, before=None, limit=100):
        return whenValid(
            lambda: checkLimit(limit),
            lambda n: self._run(lambda r: r.pageEvents(mac, kind, before, n)),
        )

    def pruneEvents(self, before, limit):
        return whenValid(
            lambda: (checkTime(before), checkLimit(limit)),
            lambda checked: self._run(lambda r: r.pruneEvents(*checked), write=True),
        )

    def settingsVersion(self):
        return self._run(_SQLRecords.version)

    def addChangeListener(self, listener):
        self._listeners.add(listener)

    def removeChangeListener(self, listener):
        self._listeners.remove(listener)

    def changesAfter(self, seq):
        """
        The change rows' C{seq} is read as committed in order, which
        SQLite's single writer and PostgreSQL's write lock ensure (see
        L{eventsAfter}).
        """
        return self._run(lambda r: r.changesAfter(seq))

    def markFetched(self, rows):
        return whenValid(lambda: checkFetched(rows),
                         lambda checked: self._run(lambda r: r.markFetched(checked), write=True))

    def deviceVersions(self, macs):
        return whenValid(lambda: [checkMAC(mac) for mac in macs],
                         lambda checked: self._run(lambda r: r.deviceVersions(checked)))

    def pageStale(self, after=None, limit=100):
        return whenValid(lambda: checkLimit(limit),
                         lambda n: self._run(lambda r: r.pageStale(after, n)))

    def countStale(self):
        return self._run(_SQLRecords.countStale)

    def close(self):
        feed, self._feed = self._feed, None
        self._live = False
        if feed is not None:
            feed.stop()
        self._pool.close()
        return defer.succeed(None)


def _openConnection(dialect: Dialect, connection) -> None:
    """
    Prepare a new connection (C{cp_openfun}): SQLite's journal, durability
    and foreign-key pragmas.
    """
    cursor = connection.cursor()
    for statement in dialect.openStatements:
        cursor.execute(statement)
    cursor.close()
