"""
Tests for L{snomprov.store.columns}: the one table of the devices' columns
and merge rules.  The Python merge it generates and the SQL merge it
generates give the same devices on random sequences of sightings, on
SQLite and on a real PostgreSQL; the migrated devices table has exactly
its columns.
"""

from __future__ import annotations

import itertools
import sqlite3
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from snomprov.device import DEVICE_STATES, DeviceInfo
from snomprov.store.columns import (
    COLUMN_NAMES,
    DEVICE_COLUMNS,
    OPERATOR_POSITIONS,
    deviceFromRow,
    deviceToRow,
    mergeDevice,
    mergeDeviceRows,
)
from snomprov.store.migrations import migrate
from snomprov.store.sql import POSTGRESQL, SQLITE, _oncePerMAC

MAC = "000413922D24"
MACS = ("000413922D24", "000413922D25", "0004F2000001")


def test_mergeKeepsEarliestAndMovesStateForward():
    """
    Merging keeps stored values where the newer is unknown, keeps the
    earliest first sighting, and only moves the state forward.
    """
    old = DeviceInfo(MAC, vendor="snom", model="snomD785", state="fetched", firstSeen=10.0, lastSeen=10.0)
    new = DeviceInfo(MAC, ip="192.0.2.5", state="seen", firstSeen=20.0, lastSeen=20.0)
    assert mergeDevice(old, new) == DeviceInfo(
        MAC, vendor="snom", model="snomD785", ip="192.0.2.5", state="fetched", firstSeen=10.0,
        lastSeen=20.0)
    assert mergeDevice(new, old).state == "fetched"
    assert mergeDevice(new, old).firstSeen == 10.0


def test_mergeSIPAddressWhole():
    """
    The SIP host and port, two columns of one field, merge together: an
    unknown address keeps the stored one whole.
    """
    old = DeviceInfo(MAC, sipAddress=("192.0.2.1", 5060))
    assert mergeDevice(old, DeviceInfo(MAC)).sipAddress == ("192.0.2.1", 5060)
    assert mergeDevice(old, DeviceInfo(MAC, sipAddress=("192.0.2.2", 5062))).sipAddress == (
        "192.0.2.2", 5062)


def _devices():
    def maybe(strategy):
        return st.none() | strategy

    return st.builds(
        DeviceInfo,
        mac=st.sampled_from(MACS),
        vendor=maybe(st.sampled_from(["snom", "yealink"])),
        model=maybe(st.sampled_from(["snomD785", "snom720"])),
        firmware=maybe(st.sampled_from(["10.1", "10.2"])),
        ip=maybe(st.sampled_from(["192.0.2.1", "192.0.2.2"])),
        state=maybe(st.sampled_from(DEVICE_STATES)),
        firstSeen=maybe(st.floats(min_value=1.0, max_value=2e9)),
        lastSeen=maybe(st.floats(min_value=1.0, max_value=2e9)),
        notes=maybe(st.sampled_from(["hall", "lobby"])),
        sipAddress=maybe(st.tuples(st.sampled_from(["192.0.2.1", "192.0.2.9"]),
                                   st.integers(1024, 65535))),
    )


_sightings = st.lists(_devices(), max_size=25)


def test_rowRoundTrip():
    """
    A device's row gives the device back, one value a column.
    """
    device = DeviceInfo(MAC, vendor="snom", state="seen", firstSeen=1.0, sipAddress=("192.0.2.1", 5060))
    row = deviceToRow(device)
    assert len(row) == len(DEVICE_COLUMNS)
    assert dict(zip(COLUMN_NAMES, row))["sip_port"] == 5060
    assert deviceFromRow(row) == device


def pythonMerge(rows):
    """
    The stored rows after merging C{rows} in order with
    L{mergeDeviceRows}, and for each row whether it left the stored
    device's operator columns as they were (or added the device).
    """
    stored: dict[str, tuple] = {}
    same = []
    for row in rows:
        old = stored.get(row[0])
        new = row if old is None else mergeDeviceRows(old, row)
        same.append(old is None or all(new[p] == old[p] for p in OPERATOR_POSITIONS))
        stored[row[0]] = new
    return stored, same


def sqlMerge(cursor, dialect, rows):
    """
    The same on a database: each row upserted by the statement leaving
    alone a device whose operator columns it would change (its row count
    says which), then by the merge; then all the rows again, into emptied
    tables, in multi-row merges (each MAC once a statement).
    """
    same = []
    for row in rows:
        cursor.execute(dialect.insertRows("mergeSameOperatorFields", 1), dialect.rowValues("merge", [row]))
        same.append(cursor.rowcount == 1)
        if cursor.rowcount != 1:
            cursor.execute(dialect.insertRows("merge", 1), dialect.rowValues("merge", [row]))
    select = f"SELECT {', '.join(COLUMN_NAMES)} FROM devices ORDER BY mac"
    cursor.execute(select)
    oneByOne = {row[0]: tuple(row) for row in cursor.fetchall()}
    cursor.execute("DELETE FROM devices")
    for run in _oncePerMAC(rows):
        cursor.execute(dialect.insertRows("merge", len(run)), dialect.rowValues("merge", run))
    cursor.execute(select)
    multiRow = {row[0]: tuple(row) for row in cursor.fetchall()}
    cursor.execute("DELETE FROM devices")
    return oneByOne, multiRow, same


def _checkMerge(cursor, dialect, devices):
    rows = [deviceToRow(device) for device in devices]
    stored, same = pythonMerge(rows)
    oneByOne, multiRow, sqlSame = sqlMerge(cursor, dialect, rows)
    assert oneByOne == stored
    assert multiRow == stored
    assert sqlSame == same


@contextmanager
def _sqlite():
    connection = sqlite3.connect(":memory:", isolation_level=None)
    cursor = connection.cursor()
    cursor.execute("BEGIN")
    migrate(cursor, SQLITE, 0.0)
    try:
        yield cursor
    finally:
        connection.close()


@settings(max_examples=300, deadline=None)
@given(_sightings)
def test_pythonMergeIsSQLiteMerge(devices):
    """
    On any sequence of sightings, merging the rows in Python and upserting
    them into SQLite (one by one, and in multi-row statements) leave the
    same devices, and the upsert leaving operator columns alone skips
    exactly the rows that would change them.
    """
    with _sqlite() as cursor:
        _checkMerge(cursor, SQLITE, devices)


@pytest.fixture(scope="module")
def postgresCursor(postgres):
    """
    A cursor on a new PostgreSQL database migrated to the newest schema,
    inside a transaction rolled back at the end.
    """
    postgres.createDatabase("columns")
    connection = postgres.connect("columns")
    connection.autocommit = False
    cursor = connection.cursor()
    migrate(cursor, POSTGRESQL, 0.0)
    yield cursor
    connection.rollback()
    connection.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(devices=_sightings)
def test_pythonMergeIsPostgreSQLMerge(postgresCursor, devices):
    """
    The same, on a real PostgreSQL: the generated SQL is standard, only
    its placeholders are the dialect's.
    """
    _checkMerge(postgresCursor, POSTGRESQL, devices)


def _declared(dialect, column):
    return dialect.ddl(column.sqlType).lower()


def test_sqliteTableIsTheColumns():
    """
    The migrated SQLite devices table has exactly the table's columns, in
    order, with their types.
    """
    with _sqlite() as cursor:
        cursor.execute("PRAGMA table_info(devices)")
        found = [(name, kind.lower()) for _, name, kind, *_ in cursor.fetchall()]
    assert found == [(c.name, _declared(SQLITE, c)) for c in DEVICE_COLUMNS]


def test_postgresqlTableIsTheColumns(postgresCursor):
    """
    The same on PostgreSQL.
    """
    postgresCursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'devices' ORDER BY ordinal_position")
    assert postgresCursor.fetchall() == [(c.name, _declared(POSTGRESQL, c)) for c in DEVICE_COLUMNS]
