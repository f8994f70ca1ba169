"""
Events at scale: a device's history is an index look-up (the query plans
of every per-device query, after migration 6), and old events are deleted in
bounded batches (C{pruneEvents}, of every store backend) without moving
the positions of those kept.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
import pytest_twisted

from snomprov.device import Event
from snomprov.store import StoreError
from snomprov.store.migrations import migrate
from snomprov.store.sql import _EVENTS_AFTER, _NEWEST_EVENTS, POSTGRESQL, SQLITE, eventPageQuery

from test_store import _openSQLite, store  # noqa: F401

MAC1 = "000413922D24"
MAC2 = "000413922D25"


@pytest_twisted.inlineCallbacks
def test_pruneOldestWhileOld(store):
    """
    C{pruneEvents} deletes the oldest events, in the order they were added,
    while older than the cutoff, at most C{limit}; the first event not old
    enough stops it, and the kept events keep their positions.
    """
    times = [1.0, 2.0, 3.0, 4.0, 9.0, 2.5, 10.0]
    yield store.addEvents([Event(t, MAC1 if i % 2 else MAC2, "subscribe", f"e{i}")
                           for i, t in enumerate(times)])
    before = yield store.pageEvents(limit=100)
    assert (yield store.pruneEvents(5.0, 3)) == 3
    assert (yield store.pruneEvents(5.0, 3)) == 1
    assert (yield store.pruneEvents(5.0, 3)) == 0
    kept = yield store.pageEvents(limit=100)
    assert kept == before[:3]
    assert [e.detail for _, e in kept] == ["e6", "e5", "e4"]
    assert [e.detail for _, e in (yield store.pageEvents(mac=MAC1, limit=100))] == ["e5"]
    assert (yield store.pruneEvents(100.0, 0)) == 0
    assert (yield store.pruneEvents(100.0, 100)) == 3
    assert (yield store.listEvents()) == []


@pytest_twisted.inlineCallbacks
def test_followAcrossPruning(store):
    """
    A follower's cursor reads on after the events before it were pruned,
    and a cursor from before the pruned ones reads the kept ones.
    """
    yield store.addEvents([Event(float(i), MAC1, "subscribe", f"e{i}") for i in range(5)])
    start = yield store.eventsAfter(limit=0)
    middle = yield store.eventsAfter(cursor=0, limit=3)
    assert (yield store.pruneEvents(3.0, 100)) == 3
    yield store.addEvents([Event(9.0, MAC2, "subscribe", "e5")])
    assert [e.detail for e in (yield store.eventsAfter(middle.cursor)).events] == ["e3", "e4", "e5"]
    assert [e.detail for e in (yield store.eventsAfter(0)).events] == ["e3", "e4", "e5"]
    assert [e.detail for e in (yield store.eventsAfter(start.cursor)).events] == ["e5"]
    assert [e.detail for e in (yield store.eventsAfter(0, mac=MAC2)).events] == ["e5"]
    before = (yield store.pageEvents(limit=1))[0][0]
    assert [e.detail for _, e in (yield store.pageEvents(before=before, limit=10))] == ["e4", "e3"]


@pytest.mark.parametrize("before, limit", [("5", 1), (None, 1), (5.0, -1), (5.0, "1"), (True, 1)])
@pytest_twisted.inlineCallbacks
def test_pruneRefusesBadArguments(store, before, limit):
    yield store.addEvents([Event(1.0, MAC1, "subscribe")])
    with pytest.raises(StoreError):
        yield store.pruneEvents(before, limit)
    assert len((yield store.listEvents())) == 1


_INDEX_SEARCH = re.compile(r"SEARCH events USING (COVERING )?INDEX events_mac_id \(mac=\?")


def _isIndexLookup(plan: list[str]) -> bool:
    """
    Whether a query plan searches the C{(mac, id)} index, with no full
    scan and no sort.
    """
    return any(_INDEX_SEARCH.match(step) for step in plan) and not any(
        step.startswith("SCAN") or "TEMP B-TREE" in step for step in plan)


def _plan(connection, statement, params):
    rows = connection.execute(f"EXPLAIN QUERY PLAN {SQLITE.sql(statement)}", params).fetchall()
    return [row[-1] for row in rows]


def _historyQueries():
    """
    Every statement that reads one device's history, with parameters.
    """
    yield "listEvents/eventsAfter newest", _NEWEST_EVENTS[True], (MAC1, 100)
    yield "eventsAfter cursor", _EVENTS_AFTER[True], (10, MAC1, 100)
    for kind in (None, "subscribe"):
        for before in (None, 50):
            statement, params = eventPageQuery(MAC1, kind, before, 100)
            yield f"pageEvents kind={kind} before={before}", statement, params


@pytest_twisted.inlineCallbacks
def test_historyQueriesUseTheIndex(tmp_path):
    """
    On a migrated SQLite database holding events of many devices, every
    query of one device's history searches the C{(mac, id)} index: no
    full scan of the events, no sort.
    """
    path = tmp_path / "store.sqlite"
    store = yield _openSQLite(path)
    yield store.addEvents([Event(float(i), f"000413{i % 500:06X}", "subscribe") for i in range(5000)])
    yield store.close()
    connection = sqlite3.connect(str(path))
    try:
        connection.execute("ANALYZE")
        for name, statement, params in _historyQueries():
            plan = _plan(connection, statement, params)
            assert _isIndexLookup(plan), (name, plan)
        connection.execute("DROP INDEX events_mac_id")
        connection.commit()
    finally:
        connection.close()
    # Without the index (schema version 5), the same queries read the
    # events table itself (a new connection: sqlite3 caches the plans of
    # the statements it prepared).
    connection = sqlite3.connect(str(path))
    try:
        plans = [_plan(connection, statement, params) for _, statement, params in _historyQueries()]
        assert not any(_isIndexLookup(plan) for plan in plans), plans
        assert any("SCAN events" in plan for plan in plans), plans
    finally:
        connection.close()


def test_postgresqlHistoryQueriesUseTheIndex(postgres):
    """
    The same on a real PostgreSQL migrated to the newest schema: every
    query of one device's history scans the C{(mac, id)} index, none the
    events table.
    """
    postgres.createDatabase("events_scale")
    with postgres.connect("events_scale") as connection:
        with connection.cursor() as cursor:
            migrate(cursor, POSTGRESQL, 0.0)
            cursor.execute(
                "INSERT INTO events (time, mac, kind, detail) SELECT n, "
                "'000413' || lpad(upper(to_hex(n % 500)), 6, '0'), 'subscribe', '' "
                "FROM generate_series(1, 20000) AS n")
            cursor.execute("ANALYZE events")
            for name, statement, params in _historyQueries():
                cursor.execute(f"EXPLAIN {POSTGRESQL.sql(statement)}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "events_mac_id" in plan and "Seq Scan" not in plan, (name, plan)
