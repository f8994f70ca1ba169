"""
Tests for L{snomprov.web.api.devices}, through the harness of
L{test_api} (the API on a memory store, driven by C{StubTreq}): devices
listed, registered, read, replaced, patched and deleted; C{ETag} and
C{If-Match} keeping two operators from overwriting each other; passwords
masked, revealed only to an admin, and that reveal audited.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_spec_validator import validate as validateOpenAPI

from snomprov.audit import AUDIT, parseAudit
from snomprov.device import DeviceInfo, Event, Setting, SettingsLayer

from test_api import API, _header, _result, assertProblem, basic, bearer

MAC = "000413922D24"
OTHER = "0004F2000001"
PATH = f"/api/devices/{MAC}"


@pytest.fixture
def api():
    return API()


def register(api, mac="00:04:13:92:2d:24", who="otto", **fields):
    body = {"mac": mac, "vendor": "snom", "model": "snomD785",
            "lines": [{"index": 1, "user": "1001", "password": "pw-one", "displayName": "Ada"},
                      {"index": 2, "user": "1002"}], **fields}
    return api.json("POST", "/api/devices", basic(who), json_=body)


def schemaOf(api, method, path, status):
    endpoint = next(e for e in api.endpoints if (e.method, e.path) == (method, path))
    return endpoint.responses[status][1]


def audits(api):
    return [parseAudit(e) for e in reversed(_result(api.store.listEvents(limit=100))) if e.kind == AUDIT]


def test_register(api):
    """
    A registration answers 201 with the device (a MAC in any spelling made
    the stored one), its C{Location} and C{ETag}, and the password
    generated for the line without one, once; it is audited.
    """
    code, body, response = register(api)
    assert code == 201, body
    jsonschema.validate(body, schemaOf(api, "POST", "/api/devices", 201))
    assert _header(response, "Location") == PATH
    assert _header(response, "ETag") == f'"{body["revision"]}"'
    assert (body["mac"], body["vendor"], body["model"], body["state"]) == (MAC, "snom", "snomD785", "registered")
    assert [(l["index"], l["passwordSet"], "password" in l) for l in body["lines"]] == [(1, True, False),
                                                                                        (2, True, False)]
    assert list(body["generated"]) == ["2"] and len(body["generated"]["2"]) >= 16
    stored = _result(api.store.getLines(MAC))
    assert stored[1].password == body["generated"]["2"] and stored[0].password == "pw-one"
    trail = audits(api)
    assert [(a.actor, a.object) for a in trail] == [("operator:otto", f"device:{MAC}")]
    assert body["generated"]["2"] not in json.dumps([a.summary for a in trail])
    code, problem, response = register(api)
    assertProblem(code, problem, response, 409)


@pytest.mark.parametrize("body,fields", [
    ({"mac": "zz", "vendor": "snom"}, ["/mac"]),
    ({"mac": MAC, "vendor": "acme"}, ["/vendor"]),
    ({"mac": MAC, "vendor": "snom", "lines": [{"index": 0, "user": ""}]}, ["/lines/0/index", "/lines/0/user"]),
    ({"mac": MAC, "vendor": "snom", "lines": [{"index": 1, "user": "u", "password": "a\x00"}]},
     ["/lines/0/password"]),
    ({"mac": MAC}, ["/vendor"]),
    ({"mac": MAC, "vendor": "snom", "colour": "red"}, ["/colour"]),
])
def test_registerRefused(api, body, fields):
    code, problem, response = api.json("POST", "/api/devices", basic("otto"), json_=body)
    assertProblem(code, problem, response, 400)
    assert [e["field"] for e in problem["errors"]] == fields
    assert "a\x00" not in json.dumps(problem)
    assert _result(api.store.listDevices()) == []


def test_viewerNeverSeesAPassword(api):
    """
    A viewer reads the device and its lines masked, and may not reveal.
    """
    register(api)
    for path in (PATH, PATH + "/lines", "/api/devices"):
        response, content = api.request("GET", path, basic("vera"))
        assert response.code == 200
        assert b"pw-one" not in content and b'"password"' not in content
    for who in ("vera", "otto"):
        code, problem, response = api.json("GET", PATH + "?reveal=true", basic(who))
        assertProblem(code, problem, response, 403)
        assert "admin" in problem["detail"]
    assert [a.summary for a in audits(api)][1:] == []


def test_adminRevealIsAudited(api):
    register(api)
    code, body, response = api.json("GET", PATH + "?reveal=true", bearer(api.tokens["admin"]))
    assert code == 200
    jsonschema.validate(body, schemaOf(api, "GET", "/api/devices/{mac}", 200))
    assert body["lines"][0]["password"] == "pw-one"
    last = audits(api)[-1]
    assert (last.actor, last.object, last.summary) == ("token:t-admin", f"device:{MAC}", "SIP passwords revealed")
    assert "pw-one" not in json.dumps(_result(api.store.listEvents(limit=100)), default=str)
    code, body, _ = api.json("GET", PATH + "?reveal=false", basic("ada"))
    assert "password" not in body["lines"][0]


def test_twoOperatorsSecondGets412(api):
    """
    Two operators GET the same ETag and both PUT with it: the first
    succeeds, the second is 412 and the first's change is what is stored.
    """
    register(api)
    code, document, response = api.json("GET", PATH, basic("otto"))
    etag = _header(response, "ETag")
    first = {**document, "notes": "otto was here"}
    second = {**document, "notes": "ada was here", "model": "snom360"}
    code, body, response = api.json("PUT", PATH, {**basic("otto"), "If-Match": etag}, json_=first)
    assert code == 200, body
    assert _header(response, "ETag") != etag and body["notes"] == "otto was here"
    newer = _header(response, "ETag")
    for method, payload in (("PUT", second), ("PATCH", {"notes": "ada"}), ("DELETE", None)):
        code, problem, response = api.json(method, PATH, {**basic("ada"), "If-Match": etag}, json_=payload)
        assertProblem(code, problem, response, 412)
    code, lines, response = api.json("PUT", PATH + "/lines", {**basic("ada"), "If-Match": etag},
                                     json_={"lines": []})
    assertProblem(code, lines, response, 412)
    code, now, response = api.json("GET", PATH, basic("vera"))
    assert (now["notes"], now["model"], len(now["lines"])) == ("otto was here", "snomD785", 2)
    assert _header(response, "ETag") == newer
    assert [a.actor for a in audits(api)] == ["operator:otto", "operator:otto"]


def test_getPutRoundTripKeepsPasswords(api):
    """
    The masked document, PUT back as it was read, changes nothing (not the
    passwords, not the ETag).
    """
    register(api)
    before = _result(api.store.getLines(MAC))
    code, document, response = api.json("GET", PATH, basic("otto"))
    code, body, again = api.json("PUT", PATH, {**basic("otto"), "If-Match": _header(response, "ETag")},
                                 json_=document)
    assert code == 200 and _header(again, "ETag") == _header(response, "ETag")
    assert _result(api.store.getLines(MAC)) == before
    code, lines, response = api.json("GET", PATH + "/lines", basic("vera"))
    jsonschema.validate(lines, schemaOf(api, "GET", "/api/devices/{mac}/lines", 200))
    code, body, after = api.json("PUT", PATH + "/lines", {**basic("otto"), "If-Match": _header(response, "ETag")},
                                 json_=lines)
    assert code == 200 and _header(after, "ETag") == _header(response, "ETag")
    assert _result(api.store.getLines(MAC)) == before
    code, problem, response = api.json("PUT", PATH, basic("otto"), json_={**document, "mac": OTHER})
    assertProblem(code, problem, response, 400)


def test_patchLinesAndDelete(api):
    code, registered, response = register(api)
    code, body, response = api.json("PATCH", PATH, {**basic("otto"), "If-Match": f'"{registered["revision"]}"'},
                                    json_={"notes": "hall", "model": None})
    assert code == 200 and (body["notes"], body["model"]) == ("hall", None)
    jsonschema.validate(body, schemaOf(api, "PATCH", "/api/devices/{mac}", 200))
    code, body, response = api.json("PUT", PATH + "/lines", basic("otto"),
                                    json_={"lines": [{"index": 3, "user": "1003", "password": ""}]})
    assert code == 200 and [l["index"] for l in body["lines"]] == [3] and list(body["generated"]) == ["3"]
    jsonschema.validate(body, schemaOf(api, "PUT", "/api/devices/{mac}/lines", 200))
    code, problem, response = api.json("PATCH", PATH, basic("otto"), json_={})
    assertProblem(code, problem, response, 400)
    for bad in ('W/"1"', "12", '"x"', '"1", "2"'):
        code, problem, response = api.json("DELETE", PATH, {**basic("otto"), "If-Match": bad})
        assertProblem(code, problem, response, 412)
    etag = _header(api.json("GET", PATH, basic("otto"))[2], "ETag")
    assert api.json("DELETE", PATH, {**basic("otto"), "If-Match": etag})[0] == 204
    for method in ("GET", "DELETE"):
        code, problem, response = api.json(method, PATH, basic("otto"))
        assertProblem(code, problem, response, 404)
    code, problem, response = api.json("PUT", f"/api/devices/{OTHER}", basic("otto"),
                                       json_={"vendor": "snom", "lines": []})
    assertProblem(code, problem, response, 404)
    code, problem, response = api.json("PUT", f"/api/devices/{OTHER}", basic("otto"), json_={"vendor": "snom"})
    assertProblem(code, problem, response, 400)  # a PUT names every line it keeps
    code, problem, response = api.json("GET", "/api/devices/not-a-mac", basic("otto"))
    assertProblem(code, problem, response, 404)
    assert [a.summary for a in audits(api)][-1] == "deleted"


def _walkPages(api, path: str) -> tuple[list[str], list[str]]:
    """
    The MACs of every page of C{path} (each answer valid by the OpenAPI
    document), following C{next}; and the cursors followed.
    """
    seen, cursors, cursor = [], [], None
    while True:
        code, body, _ = api.json("GET", path + (f"&cursor={cursor}" if cursor else ""), basic("vera"))
        assert code == 200
        jsonschema.validate(body, schemaOf(api, "GET", "/api/devices", 200))
        seen += [item["mac"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            return seen, cursors
        cursors.append(cursor)


def test_listPagedAndFiltered(api):
    macs = [f"000413{index:06X}" for index in range(5)]
    for mac in macs:
        register(api, mac, notes=f"room {mac[-1]}")
    _result(api.store.mergeDevices([DeviceInfo(OTHER, vendor="linksys", state="seen", ip="192.0.2.9")]))
    seen, _ = _walkPages(api, "/api/devices?limit=2")
    assert seen == macs + [OTHER]
    for query, expected in [("state=seen", [OTHER]), ("vendor=Linksys", [OTHER]), ("text=ROOM%203", [macs[3]]),
                            ("text=192.0.2", [OTHER]), ("model=snomD785&text=room", macs),
                            ("text=00:04:13:00:00:01", [macs[1]]), ("text=%25", [])]:
        code, body, _ = api.json("GET", f"/api/devices?{query}", basic("vera"))
        assert [item["mac"] for item in body["items"]] == expected, query
    for query, field in [("state=asleep", "state"), ("cursor=%21", "cursor"), ("cursor=Ino", "cursor"),
                         ("colour=red", "colour")]:
        code, problem, response = api.json("GET", f"/api/devices?{query}", basic("vera"))
        assertProblem(code, problem, response, 400)
        assert [e["field"] for e in problem["errors"]] == [field], query


def test_listSorted(api):
    """
    C{sort} and C{order} order the whole list, C{next} continuing in that
    order; a cursor of another order, or an unknown sort, is a 400 naming
    the field.
    """
    times = [4.0, 9.0, 1.0, 9.0, 6.0]
    macs = [f"000413{index:06X}" for index in range(5)]
    _result(api.store.mergeDevices([DeviceInfo(mac, vendor="snom", state="seen", lastSeen=t, firstSeen=t)
                                    for mac, t in zip(macs, times)]))
    seen, cursors = _walkPages(api, "/api/devices?limit=2&sort=seen&order=desc")
    assert seen == [macs[1], macs[3], macs[4], macs[0], macs[2]]
    code, body, _ = api.json("GET", "/api/devices?sort=seen", basic("vera"))
    assert [item["mac"] for item in body["items"]] == list(reversed(seen[2:])) + seen[:2]
    for query, field in [("sort=ip", "sort"), ("order=up", "order"), (f"sort=seen&cursor={cursors[0]}", "cursor"),
                         (f"cursor={cursors[0]}", "cursor")]:
        code, problem, response = api.json("GET", f"/api/devices?{query}", basic("vera"))
        assertProblem(code, problem, response, 400)
        assert [e["field"] for e in problem["errors"]] == [field], query


def test_deviceEvents(api):
    register(api)
    _result(api.store.addEvents([Event(float(i), MAC, "subscribe", f"e{i}") for i in range(3)]
                                + [Event(9.0, OTHER, "subscribe", "other")]))
    code, body, _ = api.json("GET", PATH + "/events?kind=subscribe&limit=2", basic("vera"))
    assert code == 200 and [item["detail"] for item in body["items"]] == ["e2", "e1"]
    code, body, _ = api.json("GET", PATH + f"/events?cursor={body['next']}", basic("vera"))
    assert [item["kind"] for item in body["items"]] == ["subscribe", "audit"] and body["next"] is None
    code, problem, response = api.json("GET", f"/api/devices/{OTHER}/events", basic("vera"))
    assertProblem(code, problem, response, 404)


def test_documentDeclaresHeaders(api):
    """
    The OpenAPI document lists C{If-Match} as a header parameter of the
    writes and C{ETag} as a header of the device answers, and stays valid.
    """
    code, document, _ = api.json("GET", "/api/openapi.json")
    validateOpenAPI(document)
    one = document["paths"]["/api/devices/{mac}"]
    for method in ("put", "patch", "delete"):
        assert {"name": "If-Match", "in": "header"}.items() <= next(
            p for p in one[method]["parameters"] if p["in"] == "header").items()
        assert "412" in one[method]["responses"]
    assert "ETag" in one["get"]["responses"]["200"]["headers"]
    assert set(document["paths"]["/api/devices"]["post"]["responses"]["201"]["headers"]) == {"ETag", "Location"}
    assert one["get"]["x-snomprov-role"] == "viewer" and one["put"]["x-snomprov-role"] == "operator"


def test_devicesShowWhetherTheyFetchedTheirSettings(api):
    """
    A device's answer and its list item say its current and fetched
    settings versions and whether it is stale; a layer change makes a phone
    that had fetched stale.
    """
    code, body, _ = api.json("POST", "/api/devices", basic("otto"),
                             json_={"mac": "000413000001", "vendor": "snom", "lines": []})
    assert code == 201
    mac = body["mac"]
    settings = api.json("GET", f"/api/devices/{mac}", basic("vera"))[1]["settings"]
    assert settings["fetched"] is None and settings["stale"] is False
    api.store.markFetched([(mac, settings["current"])])
    api.store.putLayer(SettingsLayer("site", (Setting("language", "English"),)))
    settings = api.json("GET", f"/api/devices/{mac}", basic("vera"))[1]["settings"]
    assert settings["stale"] is True and settings["current"] > settings["fetched"]
    (item,) = api.json("GET", "/api/devices", basic("vera"))[1]["items"]
    assert item["settings"] == settings
