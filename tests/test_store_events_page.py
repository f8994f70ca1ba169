"""
Tests for C{pageEvents} of every store backend: the API's event pages,
newest first, filtered by MAC and kind, below an id.
"""

from __future__ import annotations

import pytest_twisted

from snomprov.device import Event

from test_store import store  # noqa: F401


@pytest_twisted.inlineCallbacks
def test_pagesNewestFirstWithFilters(store):
    events = [Event(float(i), "000413AA0001" if i % 2 else None, "audit" if i % 3 else "subscribe",
                    f"e{i}") for i in range(10)]
    yield store.addEvents(events)
    everything = yield store.pageEvents(limit=100)
    assert [e.detail for _, e in everything] == [f"e{i}" for i in reversed(range(10))]
    ids = [i for i, _ in everything]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 10

    first = yield store.pageEvents(limit=3)
    second = yield store.pageEvents(before=first[-1][0], limit=3)
    assert [e.detail for _, e in first + second] == ["e9", "e8", "e7", "e6", "e5", "e4"]

    mine = yield store.pageEvents(mac="000413AA0001", kind="audit", limit=100)
    assert [e.detail for _, e in mine] == ["e7", "e5", "e1"]
    older = yield store.pageEvents(mac="000413AA0001", kind="audit", before=mine[0][0], limit=1)
    assert [e.detail for _, e in older] == ["e5"]
    none = yield store.pageEvents(before=ids[-1], limit=10)
    assert none == []
