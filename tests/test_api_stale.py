"""
Tests for L{snomprov.web.api.stale}: C{GET /api/stale}, C{POST /api/resync}
and C{POST /api/devices/{mac}/resync}, on the harness of L{test_api} (a
memory store, a clock, no sockets), the NOTIFYs a fake
L{snomprov.push.pushResync}.
"""

from __future__ import annotations

import jsonschema
import pytest
from twisted.internet import defer

from snomprov.audit import parseAudit
from snomprov.operations.resync import NO_PROVEN_ADDRESS
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.registry import VendorRegistry
from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor

from test_api import API, _declaredSchema, basic, bearer

MAC1, MAC2, MAC3 = "000413000001", "000413000002", "000413000003"
NOADDRESS = "000413000009"
REGISTRY = VendorRegistry([snomVendor, linksysVendor])


class Pushes:
    def __init__(self, clock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, tuple[str, int]]] = []

    def __call__(self, reactor, address, event, onSend=None, credentials=None):
        self.sent.append((self.clock.seconds(), address))
        return defer.succeed("acked")


@pytest.fixture
def api(monkeypatch):
    api = API(registry=REGISTRY)
    store = api.store
    store.mergeDevices([DeviceInfo(mac=mac, vendor="snom", sipAddress=(f"192.0.2.{n}", 5060))
                        for n, mac in enumerate((MAC1, MAC2, MAC3), 1)]
                       + [DeviceInfo(mac=NOADDRESS, vendor="snom")])
    for mac in (MAC1, MAC2, MAC3):
        store.setLines(mac, (Line(1, "u", "p", "n", "r"),))
    versions = store.deviceVersions([MAC1, MAC2, MAC3]).result
    store.markFetched([(mac, current) for mac, (current, _) in versions.items()])
    api.pushes = Pushes(api.clock)
    monkeypatch.setattr("snomprov.push.pushResync", api.pushes)
    return api


def _matches(api, method, path, code, body):
    endpoint = next(e for e in api.endpoints if (e.method, e.path) == (method, path))
    schema = _declaredSchema(endpoint, code)
    assert schema is not None, (method, path, code)
    jsonschema.validate(body, schema)


def test_staleListed(api):
    """
    C{GET /api/stale} lists stale phones by MAC with both versions, paged,
    with the total; a viewer may read it.
    """
    code, body, _ = api.json("GET", "/api/stale", basic("vera"))
    assert (code, body) == (200, {"items": [], "next": None, "total": 0})
    api.store.putLayer(SettingsLayer("site", (Setting("language", "Norsk"),)))
    current = api.store.settingsVersion().result
    code, body, _ = api.json("GET", "/api/stale?limit=2", basic("vera"))
    assert code == 200 and body["total"] == 3 and body["next"] is not None
    assert [(i["mac"], i["current"]) for i in body["items"]] == [(MAC1, current), (MAC2, current)]
    assert all(i["fetched"] < current for i in body["items"])
    _matches(api, "GET", "/api/stale", code, body)
    code, rest, _ = api.json("GET", f"/api/stale?limit=2&cursor={body['next']}", basic("vera"))
    assert [i["mac"] for i in rest["items"]] == [MAC3] and rest["next"] is None


def test_badCursor(api):
    code, body, _ = api.json("GET", "/api/stale?cursor=%21%21", basic("vera"))
    assert code == 400 and body["errors"][0]["field"] == "cursor"


def test_resyncStaleInTheBackground(api):
    """
    C{POST /api/resync {stale: true}} answers 202 with what it queued; the
    NOTIFYs go out at the rate as the clock moves, each a C{resync-sent}
    event, the push one audit event of the operator.
    """
    api.store.putLayer(SettingsLayer(f"device:{MAC2}", (Setting("language", "Suomi"),)))
    api.store.putLayer(SettingsLayer(f"device:{MAC3}", (Setting("language", "Suomi"),)))
    code, body, _ = api.json("POST", "/api/resync", basic("otto"), json_={"stale": True, "rate": 4})
    assert (code, body) == (202, {"queued": 2, "rate": 4.0, "skipped": []})
    _matches(api, "POST", "/api/resync", code, body)
    assert [a for _, a in api.pushes.sent] == [("192.0.2.2", 5060)]
    api.clock.advance(0.25)
    assert [a for _, a in api.pushes.sent] == [("192.0.2.2", 5060), ("192.0.2.3", 5060)]
    assert api.pushes.sent[1][0] - api.pushes.sent[0][0] == pytest.approx(0.25)
    events = api.store.listEvents(limit=10).result
    assert [e.kind for e in events[:3]] == ["resync-sent", "resync-sent", "audit"]
    audit = parseAudit(events[2])
    assert (audit.actor, audit.object) == ("operator:otto", "resync:stale")


def test_resyncSelectionReportsSkipped(api):
    """
    C{macs} in any spelling; phones that cannot be pushed are reported in
    C{skipped}, not fatal.
    """
    code, body, _ = api.json("POST", "/api/resync", bearer(api.tokens["operator"]),
                             json_={"macs": ["00:04:13:00:00:01", NOADDRESS, "000413FFFFFF"]})
    assert code == 202 and body["queued"] == 1 and body["rate"] == 10.0
    assert body["skipped"] == [
        {"mac": NOADDRESS, "reason": NO_PROVEN_ADDRESS},
        {"mac": "000413FFFFFF", "reason": "no such device"}]
    assert [a for _, a in api.pushes.sent] == [("192.0.2.1", 5060)]


def test_resyncAll(api):
    code, body, _ = api.json("POST", "/api/resync", basic("ada"), json_={"all": True, "rate": 1000})
    assert code == 202 and body["queued"] == 3 and len(body["skipped"]) == 1
    for _ in range(3):
        api.clock.advance(0.001)
    assert len(api.pushes.sent) == 3


@pytest.mark.parametrize("payload, field", [
    ({}, None), ({"stale": True, "all": True}, None), ({"stale": False}, None),
    ({"macs": ["nonsense"]}, None), ({"macs": []}, "/macs"), ({"all": True, "rate": 0}, "/rate"),
    ({"all": True, "rate": 1e6}, "/rate"), ({"all": "yes"}, "/all"), ({"every": True}, None),
])
def test_resyncRefused(api, payload, field):
    """
    Not exactly one of macs, stale and all, a bad MAC or rate: 400, nothing
    sent, nothing recorded.
    """
    before = len(api.store.listEvents(limit=1000).result)
    code, body, _ = api.json("POST", "/api/resync", basic("otto"), json_=payload)
    assert code == 400, body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]]
    assert api.pushes.sent == [] and len(api.store.listEvents(limit=1000).result) == before


def test_resyncNeedsOperator(api):
    code, body, _ = api.json("POST", "/api/resync", basic("vera"), json_={"all": True})
    assert code == 403 and api.pushes.sent == []


def test_resyncOneDevice(api):
    """
    C{POST /api/devices/{mac}/resync}: 202 and one NOTIFY; 404 for a
    device not stored (or not a MAC); 409 for one without an address.
    """
    code, body, _ = api.json("POST", "/api/devices/0004.1300.0003/resync", basic("otto"))
    assert (code, body) == (202, {"queued": 1, "rate": 10.0, "skipped": []})
    _matches(api, "POST", "/api/devices/{mac}/resync", code, body)
    assert [a for _, a in api.pushes.sent] == [("192.0.2.3", 5060)]
    audit = parseAudit(api.store.listEvents(limit=10).result[1])
    assert (audit.actor, audit.object) == ("operator:otto", f"device:{MAC3}")
    assert api.json("POST", "/api/devices/000413FFFFFF/resync", basic("otto"))[0] == 404
    assert api.json("POST", "/api/devices/nobody/resync", basic("otto"))[0] == 404
    code, body, _ = api.json("POST", f"/api/devices/{NOADDRESS}/resync", basic("otto"))
    assert code == 409 and body["detail"].endswith(NO_PROVEN_ADDRESS)
    assert len(api.pushes.sent) == 1
