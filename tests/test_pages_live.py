"""
Tests for L{snomprov.web.sessions} and L{snomprov.web.pages.live}:
sessions on a Clock, and the Server-Sent Events feed over a memory store
with C{DummyRequest}s (no sockets, no wall-clock time).
"""

from __future__ import annotations

import json

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.web.test.requesthelper import DummyRequest

from snomprov.device import DeviceInfo, Event, Line, Setting, SettingsLayer
from snomprov.operations.devices import listWaiting
from snomprov.operations.layers import effectiveSettings
from snomprov.store.memory import MemoryDeviceStore
from snomprov.web.api.auth import Principal
from snomprov.web.pages.live import LiveFeed, countsOf, sseMessage
from snomprov.web.sessions import Sessions, checkToken


def _result(d):
    results = []
    defer.ensureDeferred(d).addBoth(results.append)
    assert results
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


def test_sessionsExpireAndAreBounded():
    clock = Clock()
    sessions = Sessions(clock, idle=100, limit=3)
    first = sessions.start(Principal("operator", "ada", "admin"))
    assert sessions.get(first.id) is first and first.csrf and first.csrf != first.id
    clock.advance(99)
    assert sessions.get(first.id.encode()) is first
    clock.advance(100)
    assert sessions.get(first.id) is None
    made = [sessions.start(Principal("operator", f"o{i}", "viewer")) for i in range(5)]
    assert len(sessions) == 3
    assert sessions.get(made[0].id) is None and sessions.get(made[4].id) is made[4]
    sessions.endFor("o4")
    assert sessions.get(made[4].id) is None
    assert sessions.get(None) is None and sessions.get("nope") is None


def test_checkToken():
    assert checkToken("abc", "abc") and checkToken(b"abc", "abc")
    assert not checkToken("abd", "abc") and not checkToken(None, "abc") and not checkToken("", "")


def test_sseMessage():
    assert sseMessage("counts", {"total": 2}) == b'event: counts\ndata: {"total":2}\n\n'
    assert b"\n" not in sseMessage("events", [{"detail": "a\nb"}])[:-2].split(b"data: ")[1]


def test_countsOf():
    counts = countsOf({("seen", "snom"): 2, ("fetched", "snom"): 1, ("seen", None): 4}, 1, 3)
    assert counts == {"total": 7, "stale": 1, "waiting": 3, "state:seen": 6, "state:fetched": 1,
                      "vendor:snom": 3, "vendor:": 4}


def _messages(request) -> list[tuple[str, object]]:
    out = []
    for chunk in b"".join(request.written).split(b"\n\n"):
        lines = dict(line.split(b": ", 1) for line in chunk.split(b"\n") if b": " in line and not line.startswith(b":"))
        if b"event" in lines:
            out.append((lines[b"event"].decode(), json.loads(lines[b"data"])))
    return out


def test_liveFeedSendsNewEventsAndCounts():
    store = MemoryDeviceStore()
    clock = Clock()
    store.addEvents([Event(1.0, "000413000001", "subscribe", "old")])
    feed = LiveFeed(lambda: defer.succeed(store), clock, poll=1.0, heartbeat=15.0, maxClients=2)
    request = DummyRequest([b"events", b"stream"])
    assert feed.subscribe(request)
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"text/event-stream; charset=utf-8"]
    assert _messages(request) == []  # what was there before is on the page already
    store.mergeDevices([DeviceInfo("000413000002", vendor="snom", state="seen")])
    store.addEvents([Event(2.0, "000413000002", "subscribe", "new one")])
    clock.advance(1.0)
    messages = dict(_messages(request))
    assert [e["detail"] for e in messages["events"]] == ["new one"]
    assert messages["counts"]["state:seen"] == 1 and messages["counts"]["waiting"] == 1
    assert messages["waiting"][0]["mac"] == "000413000002"
    clock.advance(1.0)
    assert len(_messages(request)) == 3  # nothing new, nothing sent
    clock.advance(15.0)
    assert b": heartbeat\n\n" in b"".join(request.written)


def test_liveFeedBoundedAndStopsWhenNobodyListens():
    store = MemoryDeviceStore()
    clock = Clock()
    feed = LiveFeed(lambda: defer.succeed(store), clock, maxClients=2)
    first, second = DummyRequest([b""]), DummyRequest([b""])
    assert feed.subscribe(first) and feed.subscribe(second)
    assert not feed.subscribe(DummyRequest([b""]))
    first.finish()
    second.finish()
    assert not feed.clients and not clock.getDelayedCalls()


def test_liveFeedTellsLayerChanges():
    store = MemoryDeviceStore()
    clock = Clock()
    feed = LiveFeed(lambda: defer.succeed(store), clock)
    request = DummyRequest([b""])
    feed.subscribe(request)
    _result(store.putLayer(SettingsLayer("site", (Setting("language", "English"),))))
    clock.advance(1.0)
    assert [name for name, _ in _messages(request)] == ["counts", "waiting"]


def test_listWaiting():
    store = MemoryDeviceStore()
    store.mergeDevices([DeviceInfo("000413000001", state="fetched"), DeviceInfo("000413000002", state="seen"),
                        DeviceInfo("000413000003", state="seen"), DeviceInfo("000413000004", state="registered")])
    _result(store.writeDevice(DeviceInfo("000413000003", vendor="snom"), (Line(1, "7", "pw"),)))
    assert [d.mac for d in _result((listWaiting(store)))] == ["000413000002", "000413000001"]
    assert len(_result((listWaiting(store, limit=1)))) == 1
    assert len(_result((listWaiting(store, scan=1)))) == 1


def test_effectiveSettings():
    store = MemoryDeviceStore()
    mac = "000413000001"
    store.mergeDevices([DeviceInfo(mac, vendor="snom", model="snomD785", state="seen")])
    for scope, settings in (("site", [Setting("language", "English"), Setting("tz", "GBR")]),
                            ("vendor:snom", [Setting("language", "Deutsch")]),
                            ("model:snomD785", [Setting("fkey", "line", idx=2, perm="R")]),
                            ("model:snom360", [Setting("tz", "no")]),
                            (f"device:{mac}", [Setting("language", "Français")])):
        _result(store.putLayer(SettingsLayer(scope, tuple(settings))))
    found = _result((effectiveSettings(store, mac)))
    assert [(e.setting.name, e.setting.idx, e.setting.value, e.scope, e.overrides) for e in found] == [
        ("fkey", 2, "line", "model:snomD785", ()),
        ("language", None, "Français", f"device:{mac}", ("site", "vendor:snom")),
        ("tz", None, "GBR", "site", ()),
    ]
