"""
Tests for the orders of a page of devices (L{snomprov.store.sorts} and
C{pageDevices(sort=..., descending=...)}) against every backend: the whole
store in order, across pages, the cursor staying right while devices are
added and changed.
"""

from __future__ import annotations

import pytest
import pytest_twisted

from snomprov.device import DeviceInfo
from snomprov.store import StoreError
from snomprov.store.sorts import DEVICE_SORTS, sortKey, sortedDevices

from test_store import store  # noqa: F401

ORDERS = [(sort, descending) for sort in DEVICE_SORTS for descending in (False, True)]


def _devices():
    """
    Devices with ties, missing values, text that a locale would order
    otherwise than code points (C{B} < C{a} < C{é}), every state; their
    MACs 4 apart.
    """
    vendors = [None, "snom", "linksys", "Snom"]
    models = ["snomD785", "snom360", None, "SPA942", "a", "B", "é"]
    states = ["registered", "seen", "notified", "fetched"]
    found = []
    for index in range(23):
        state = states[index % 4]
        seen = None if state == "registered" else 1_700_000_000.25 + (index * 7) % 5
        found.append(DeviceInfo(f"0004{(index * 37) % 101 * 4 + 8:08X}", vendor=vendors[index % 4],
                                model=models[index % 7], firmware=["10.1", "9.9", None][index % 3],
                                state=state, lastSeen=seen, firstSeen=seen))
    return found


@pytest_twisted.inlineCallbacks
def _store(store):
    devices = _devices()
    yield store.mergeDevices(devices)
    return devices


@pytest_twisted.inlineCallbacks
def _pages(store, limit, sort, descending, **filters):
    pages, after = [], None
    while True:
        found = yield store.pageDevices(after=after, limit=limit + 1, sort=sort, descending=descending,
                                        **filters)
        page = found[:limit]
        pages.append(page)
        if len(found) <= limit:
            return pages
        last = page[-1]
        after = last.mac if sort == "mac" else (sortKey(sort, last), last.mac)


def _expected(devices, sort, descending):
    """
    The order, written out here again: the key compared as Python does,
    ties by MAC ascending in both directions.
    """
    groups: dict = {}
    for device in devices:
        groups.setdefault(sortKey(sort, device), []).append(device)
    order = []
    for key in sorted(groups, reverse=descending):
        order.extend(sorted(groups[key], key=lambda d: d.mac))
    return [d.mac for d in order]


@pytest.mark.parametrize("sort,descending", ORDERS)
@pytest_twisted.inlineCallbacks
def test_wholeStoreInOrder(store, sort, descending):
    """
    Pages of any size, one after the other, are the whole store in the
    order asked, each device once.
    """
    devices = yield _store(store)
    expected = _expected(devices, sort, descending)
    assert [d.mac for d in sortedDevices(devices, sort, descending)] == expected
    for limit in (1, 3, 7, 100):
        pages = yield _pages(store, limit, sort, descending)
        assert [d.mac for page in pages for d in page] == expected
        assert all(len(page) <= limit for page in pages)


def test_orderWrittenOut():
    """
    The keys: no value first (the empty text, time 0, before every state),
    text by code point.
    """
    a, b, c = (DeviceInfo("000413000003", model="é", state="fetched", lastSeen=5.0),
               DeviceInfo("000413000001", model="B", state="seen"),
               DeviceInfo("000413000002", model="a", state="registered", lastSeen=2.0))
    assert [d.mac for d in sortedDevices([a, b, c], "model")] == [b.mac, c.mac, a.mac]
    assert [d.mac for d in sortedDevices([a, b, c], "state")] == [c.mac, b.mac, a.mac]
    assert [d.mac for d in sortedDevices([a, b, c], "seen", True)] == [a.mac, c.mac, b.mac]
    assert [d.mac for d in sortedDevices([a, b, c], "vendor", True)] == [b.mac, c.mac, a.mac]


@pytest.mark.parametrize("sort,descending", [("seen", True), ("vendor", False), ("state", True),
                                             ("model", False), ("mac", True)])
@pytest_twisted.inlineCallbacks
def test_filtersInOrder(store, sort, descending):
    devices = yield _store(store)
    wanted = [d for d in devices if d.vendor == "snom"]
    pages = yield _pages(store, 2, sort, descending, vendor="snom")
    assert [d.mac for page in pages for d in page] == _expected(wanted, sort, descending)
    found = yield store.pageDevices(text="spa", sort=sort, descending=descending)
    assert [d.mac for d in found] == _expected([d for d in devices if d.model == "SPA942"], sort, descending)


@pytest.mark.parametrize("sort,descending", ORDERS)
@pytest_twisted.inlineCallbacks
def test_cursorWhileDevicesAdded(store, sort, descending):
    """
    Devices added between two pages: those after the cursor come on the
    next pages, those before it do not, and no device is repeated or
    skipped.
    """
    devices = yield _store(store)
    first = yield store.pageDevices(limit=8, sort=sort, descending=descending)
    last = first[-1]
    after = last.mac if sort == "mac" else (sortKey(sort, last), last.mac)
    # New devices copying each stored one's sort values, with a MAC just
    # below and just above it: half fall before the cursor, half after.
    added = []
    for device in devices:
        for step in (-1, 1):
            mac = f"{int(device.mac, 16) + step:012X}"
            added.append(DeviceInfo(mac, vendor=device.vendor, model=device.model, firmware=device.firmware,
                                    state=device.state, lastSeen=device.lastSeen, firstSeen=device.firstSeen))
    yield store.mergeDevices(added)
    rest, cursor = [], after
    while True:
        page = yield store.pageDevices(after=cursor, limit=5, sort=sort, descending=descending)
        if not page:
            break
        rest.extend(page)
        cursor = page[-1].mac if sort == "mac" else (sortKey(sort, page[-1]), page[-1].mac)
    everything = _expected(devices + added, sort, descending)
    position = everything.index(last.mac)
    assert [d.mac for d in first] == _expected(devices, sort, descending)[:8]
    assert [d.mac for d in rest] == everything[position + 1:]
    assert not {d.mac for d in first} & {d.mac for d in rest}
    assert {d.mac for d in devices} <= {d.mac for d in first} | {d.mac for d in rest}


@pytest.mark.parametrize("query", [
    {"sort": "ip"}, {"sort": None}, {"sort": "MAC"}, {"descending": "yes"}, {"descending": 1},
    {"sort": "seen", "after": "000413000001"}, {"sort": "seen", "after": ("x", "000413000001")},
    {"sort": "seen", "after": (float("nan"), "000413000001")},
    {"sort": "vendor", "after": ("snom", "nope")}, {"sort": "vendor", "after": ("snom",)},
    {"sort": "state", "after": (True, "000413000001")}, {"sort": "mac", "after": ("x", "000413000001")},
])
@pytest_twisted.inlineCallbacks
def test_badOrderRefused(store, query):
    with pytest.raises(StoreError):
        yield store.pageDevices(**query)


@pytest_twisted.inlineCallbacks
def test_postgresqlOrdersByCodePointInAnyLocale(postgres):
    """
    On a PostgreSQL database whose default collation is a language's
    (ICU English: C{a} < C{B}), text still sorts by code point, as the
    other stores do.
    """
    from psycopg import sql

    from snomprov.dburl import parseDatabaseURL
    from snomprov.store.sql import SQLDeviceStore

    from test_store import _reactor

    name = "store_sorts_icu"
    with postgres.connect() as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 LOCALE_PROVIDER icu "
                                   "ICU_LOCALE 'en' LOCALE 'C.UTF-8'").format(sql.Identifier(name)))
    with postgres.connect(name) as connection:
        assert connection.execute("SELECT 'a' < 'B'").fetchone() == (True,)
    opened = yield SQLDeviceStore.openPostgreSQL(parseDatabaseURL(postgres.dsn(name)), reactor=_reactor())
    try:
        devices = _devices()
        yield opened.mergeDevices(devices)
        for sort in ("model", "vendor"):
            found = yield opened.pageDevices(limit=100, sort=sort)
            assert [d.mac for d in found] == _expected(devices, sort, False)
    finally:
        yield opened.close()
        postgres.dropDatabase(name)
