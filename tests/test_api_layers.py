"""
Tests for the API's layers, imports and files endpoints
(L{snomprov.web.api.layers}, L{snomprov.web.api.imports},
L{snomprov.web.api.files}), with the harness of L{test_api} over a memory
store, a vendor registry and a configuration.  The 401 and 403 tests of
these endpoints are generated in L{test_api}.
"""

from __future__ import annotations

import json
import tempfile
from urllib.parse import quote

import jsonschema
import pytest
from openapi_spec_validator import validate as validateOpenAPI
from treq.testing import StubTreq
from twisted.internet import defer
from twisted.web.resource import Resource

from snomprov.accounts import verifyPassword
from snomprov.audit import parseAudit
from snomprov.config import parseConfig
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.registry import VendorRegistry
from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor
from snomprov.web.api import allEndpoints
from snomprov.web.api.auth import Authenticator
from snomprov.web.api.resource import APIResource
from snomprov.web.root import SiteRoot

from test_api import API, _header, _result, assertProblem, basic, bearer
from test_store import snapshot

REGISTRY = VendorRegistry([snomVendor, linksysVendor])
CONFIG = parseConfig('[server]\nbase_url = "http://prov.example"\n', "t.toml", baseDir=tempfile.gettempdir())
XML = {"Content-Type": "application/xml"}
SITE_XML = b'<settings>\n<phone-settings>\n<language perm="RW">Deutsch</language>\n</phone-settings>\n</settings>\n'
GOOD_CSV = (
    "mac,vendor,model,line,user,password,display_name,registrar\n"
    "0004.1392.2d24,snom,snomD785,1,100,secret1,Alice,pbx.example.com\n"
    "00:04:13:92:2D:24,snom,snomD785,2,101,secret2,Alice 2,pbx.example.com\n"
)


class LayersAPI(API):
    """
    L{API} with the registry, the configuration and a counted pause.
    """

    def __init__(self, registry=REGISTRY) -> None:
        super().__init__()
        self.pauses = 0

        async def pause():
            self.pauses += 1

        resource = APIResource(allEndpoints(), lambda: defer.succeed(self.store),
                               Authenticator(self.clock, verifyPassword), self.clock,
                               registry=registry, config=CONFIG, pause=pause)
        root = SiteRoot(Resource())
        root.putChild(b"api", resource)
        self.client = StubTreq(root)
        self.byRoute = {(e.method, e.path): e for e in resource.router.endpoints}

    def checked(self, method, path, template, headers, **kw):
        """
        A request whose 2xx answer must match its declared schema.
        """
        code, body, response = self.json(method, path, headers, **kw)
        if 200 <= code < 300:
            schema = self.byRoute[method, template].responses[code][1]
            if schema is not None:
                jsonschema.validate(body, schema)
        return code, body, response


def mac(n: int) -> str:
    return f"000413{n:06X}"


@pytest.fixture
def api():
    return LayersAPI()


def register(api, count: int, model=lambda n: "snomD785"):
    devices = [DeviceInfo(mac(n), vendor="snom", model=model(n), state="registered") for n in range(count)]
    lines = {mac(n): (Line(1, f"u{n}", f"secret-{n}", f"User {n}", "pbx.example"),) for n in range(count)}
    _result(api.store.applyImport(devices, lines))


def audits(api, limit=10):
    return [parseAudit(e) for e in reversed(_result(api.store.listEvents(limit=limit)))]


def test_putGetListDeleteLayer(api):
    register(api, 2)
    code, body, _ = api.checked("PUT", "/api/layers/site", "/api/layers/{scope}", {**basic("otto"), **XML},
                                body=SITE_XML)
    assert code == 200, body
    assert body["changed"] == {"scope": "site", "count": 2, "macs": [mac(0), mac(1)]}
    assert body["layer"]["settings"] == [{"name": "language", "idx": None, "value": "Deutsch", "perm": "RW", "secret": False}]
    code, layer, _ = api.checked("GET", "/api/layers/site", "/api/layers/{scope}", basic("vera"))
    assert code == 200 and layer == body["layer"]
    code, listed, _ = api.checked("GET", "/api/layers", "/api/layers", basic("vera"))
    assert listed == {"items": [{"scope": "site", "settings": 1, "documents": []}], "next": None}
    code, body, _ = api.checked("DELETE", "/api/layers/site", "/api/layers/{scope}", bearer(api.tokens["operator"]))
    assert (code, body) == (200, {"scope": "site", "count": 2, "macs": [mac(0), mac(1)]})
    code, body, response = api.json("DELETE", "/api/layers/site", basic("otto"))
    assertProblem(code, body, response, 404)
    assert [(a.actor, a.object) for a in audits(api)] == [("operator:otto", "layer:site"),
                                                          ("token:t-operator", "layer:site")]


def test_putLayerAsJSONAndDeviceScopeNormalised(api):
    code, body, _ = api.checked("PUT", "/api/layers/device:00-04-13-00-00-01", "/api/layers/{scope}",
                                basic("otto"), json_={"settings": [{"name": "fkey", "idx": 2, "value": "x"}],
                                                      "documents": {"dialplan": "<dialplan/>"}})
    assert code == 200, body
    assert body["layer"]["scope"] == "device:000413000001"
    assert body["layer"]["documents"] == {"dialplan": "<dialplan/>"}
    assert _result(api.store.getLayer("device:000413000001")).settings == (Setting("fkey", "x", 2),)


def test_badLayersRefusedWithTheirProblems(api):
    before = _result(snapshot(api.store))
    bad = b'<settings>\n<phone-settings>\n<language perm="Q">x</language>\n</phone-settings>\n</settings>\n'
    code, body, response = api.json("PUT", "/api/layers/site", {**basic("otto"), **XML}, body=bad)
    assertProblem(code, body, response, 400)
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "")] and "line 3" in body["detail"]
    code, body, response = api.json("PUT", "/api/layers/site", basic("otto"),
                                    json_={"settings": [{"name": "a b", "value": "x", "perm": "Q"}], "x": 1})
    assertProblem(code, body, response, 400)
    assert {e["field"] for e in body["errors"]} == {"/settings/0/name", "/settings/0/perm", "/x"}
    code, body, response = api.json("PUT", "/api/layers/planet:x", {**basic("otto"), **XML}, body=SITE_XML)
    assertProblem(code, body, response, 400)
    code, body, response = api.json("PUT", "/api/layers/site", {**basic("otto"), "Content-Type": "text/csv"},
                                    body=SITE_XML)
    assertProblem(code, body, response, 415)
    code, body, response = api.json("GET", "/api/layers/site", basic("vera"))
    assertProblem(code, body, response, 404)
    assert _result(snapshot(api.store)) == before


def test_planOverAThousandDevices(api):
    """
    A site-layer change over 1,000 devices, a quarter of them of a model
    whose layer sets the same setting: the right count, an exact diff,
    passwords masked to a viewer, pauses between chunks, nothing changed.
    """
    register(api, 1000, model=lambda n: "snomD785" if n % 4 else "snomD717")
    _result(api.store.putLayer(SettingsLayer("site", (Setting("language", "English"),))))
    _result(api.store.putLayer(SettingsLayer("model:snomD717", (Setting("language", "Francais"),))))
    before = _result(snapshot(api.store))
    code, plan, _ = api.checked("POST", "/api/layers/site/plan", "/api/layers/{scope}/plan",
                                {**basic("vera"), **XML}, body=SITE_XML)
    assert code == 200, plan
    assert (plan["count"], plan["considered"], plan["truncated"]) == (750, 1000, False)
    assert len(plan["devices"]) == 750 and plan["devices"][0]["mac"] == mac(1)
    assert api.pauses >= 4
    diff = plan["devices"][0]["files"][0]["diff"]
    assert diff.startswith(f"--- a/snom/{mac(1)}-settings.xml\n+++ b/snom/{mac(1)}-settings.xml\n")
    assert [l for l in diff.splitlines()[2:] if l[:1] in "+-"] == [
        "-<language>English</language>", '+<language perm="RW">Deutsch</language>']
    assert "secret-" not in json.dumps(plan)
    code, short, _ = api.checked("POST", "/api/layers/site/plan?limit=10", "/api/layers/{scope}/plan",
                                 {**basic("vera"), **XML}, body=SITE_XML)
    assert (short["count"], len(short["devices"]), short["truncated"]) == (750, 10, True)
    assert _result(snapshot(api.store)) == before


def test_planRevealOnlyForAnAdminAudited(api):
    register(api, 2)
    code, body, response = api.json("GET", "/api/layers/site/plan?reveal=true", basic("otto"))
    assertProblem(code, body, response, 403)
    _result(api.store.putLayer(SettingsLayer("site", (Setting("user_pass", "x", 1, "R"),))))
    code, plan, _ = api.checked("GET", "/api/layers/site/plan?reveal=true", "/api/layers/{scope}/plan",
                                basic("ada"))
    assert code == 200 and plan["count"] == 2
    diff = plan["devices"][0]["files"][0]["diff"]
    assert '\n-<user_pass idx="1" perm="R">secret-0</user_pass>\n' in diff
    assert '\n+<user_pass idx="1">secret-0</user_pass>\n' in diff
    code, plan, _ = api.checked("GET", "/api/layers/site/plan", "/api/layers/{scope}/plan", basic("ada"))
    assert "secret-0" not in json.dumps(plan)
    assert '\n-<user_pass idx="1" perm="R">***</user_pass>\n' in plan["devices"][0]["files"][0]["diff"]
    assert [(a.actor, a.object) for a in audits(api)] == [("operator:ada", "layer:site")]
    assert _result(api.store.getLayer("site")) is not None


def test_importCSV(api):
    code, body, _ = api.checked("POST", "/api/imports?filename=d.csv", "/api/imports",
                                {**basic("otto"), "Content-Type": "text/csv; charset=utf-8"},
                                body=GOOD_CSV.encode())
    assert (code, body) == (200, {"devices": 1, "lines": 2, "changed": True})
    code, body, _ = api.checked("POST", "/api/imports", "/api/imports",
                                {**basic("otto"), "Content-Type": "text/csv"}, body=GOOD_CSV.encode())
    assert body["changed"] is False
    assert [(a.actor, a.object) for a in audits(api)] == [("operator:otto", "import:d.csv"),
                                                          ("operator:otto", "import:upload.csv")]


def test_importRefusedEveryRowNamed(api):
    before = _result(snapshot(api.store))
    bad = GOOD_CSV + "zz:zz,snom,,1,1,topsecret,x,r\n000413922D25,acme,,1,1,p,x,r\n"
    code, body, response = api.json("POST", "/api/imports", {**basic("otto"), "Content-Type": "text/csv"},
                                    body=bad.encode())
    assertProblem(code, body, response, 400)
    assert [e["line"] for e in body["errors"]] == [4, 5]
    assert "topsecret" not in json.dumps(body)
    code, body, response = api.json("POST", "/api/imports", basic("otto"), json_={"x": 1})
    assertProblem(code, body, response, 415)
    code, body, response = api.json("POST", "/api/imports", {**basic("otto"), "Content-Type": "text/csv"},
                                    body=b"\xff\xfe")
    assertProblem(code, body, response, 400)
    assert _result(snapshot(api.store)) == before


def test_deviceFiles(api):
    register(api, 1)
    code, body, _ = api.checked("GET", "/api/devices/00:04:13:00:00:00/files", "/api/devices/{mac}/files",
                                basic("vera"))
    assert body == {"mac": mac(0), "files": [f"snom/{mac(0)}-settings.xml", f"snom/{mac(0)}.xml",
                                             f"snom/{mac(0)}-firmware.xml", f"snomD785-{mac(0)}.htm"]}
    name = quote(f"snom/{mac(0)}-settings.xml", safe="")
    response, content = api.request("GET", f"/api/devices/{mac(0)}/files/{name}", basic("vera"))
    assert response.code == 200 and _header(response, "Content-Type") == "application/xml"
    assert b'<user_pass idx="1">***</user_pass>' in content and b"secret-0" not in content
    response, content = api.request("GET", f"/api/devices/{mac(0)}/files/{name}?reveal=true", basic("ada"))
    assert b'<user_pass idx="1">secret-0</user_pass>' in content
    assert [(a.actor, a.object) for a in audits(api)] == [("operator:ada", f"device:{mac(0)}")]
    code, body, response = api.json("GET", f"/api/devices/{mac(0)}/files/{name}?reveal=true", basic("otto"))
    assertProblem(code, body, response, 403)
    code, body, response = api.json("GET", f"/api/devices/{mac(0)}/files/nothing.txt", basic("vera"))
    assertProblem(code, body, response, 404)
    assert "its files are" in body["detail"]
    code, body, response = api.json("GET", "/api/devices/zz/files", basic("vera"))
    assertProblem(code, body, response, 400)


def test_documented(api):
    code, document, _ = api.json("GET", "/api/openapi.json")
    validateOpenAPI(document)
    put = document["paths"]["/api/layers/{scope}"]["put"]
    assert set(put["requestBody"]["content"]) == {"application/xml", "text/xml", "application/json"}
    assert {"413", "415", "400"} <= set(put["responses"])
    assert set(document["paths"]["/api/imports"]["post"]["requestBody"]["content"]) == {"text/csv"}
    got = document["paths"]["/api/devices/{mac}/files/{name}"]["get"]["responses"]["200"]["content"]
    assert "application/xml" in got


def test_layerSchemaNamesNoVendorsValues(api):
    """
    The documented layer keeps C{perm} a short string and the documents a
    map of strings: which values are valid is the installed vendors' to
    say, checked by the operations layer.
    """
    code, document, _ = api.json("GET", "/api/openapi.json")
    body = document["paths"]["/api/layers/{scope}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    perm = body["properties"]["settings"]["items"]["properties"]["perm"]
    assert "enum" not in perm and perm["maxLength"] == 8
    assert body["properties"]["documents"]["additionalProperties"] == {
        "type": "string", "description": "one section of the vendor's settings file"}


def test_withoutSnomAnXMLLayerIsRefused():
    """
    An API whose registry has no vendor reading settings files refuses an
    XML layer (400, saying why) and snom's perm flags in a JSON one, and
    stores a JSON layer without them.
    """
    api = LayersAPI(VendorRegistry([linksysVendor]))
    before = _result(snapshot(api.store))
    code, body, response = api.json("PUT", "/api/layers/site", {**basic("otto"), **XML}, body=SITE_XML)
    assertProblem(code, body, response, 400)
    assert "no installed vendor reads settings files" in body["detail"]
    code, body, response = api.json("POST", "/api/layers/site/plan", {**basic("otto"), **XML}, body=SITE_XML)
    assertProblem(code, body, response, 400)
    code, body, response = api.json("PUT", "/api/layers/site", basic("otto"),
                                    json_={"settings": [{"name": "Proxy_1_", "value": "pbx", "perm": "RW"}]})
    assertProblem(code, body, response, 400)
    assert [e["field"] for e in body["errors"]] == ["/settings/0/perm"]
    assert _result(snapshot(api.store)) == before
    code, body, _ = api.checked("PUT", "/api/layers/site", "/api/layers/{scope}", basic("otto"),
                                json_={"settings": [{"name": "Proxy_1_", "value": "pbx"}]})
    assert code == 200, body
    assert _result(api.store.getLayer("site")) == SettingsLayer("site", (Setting("Proxy_1_", "pbx"),))


SECRETS = "/api/layers/{scope}/secrets"


def _secretLayer(api):
    _result(api.store.putLayer(SettingsLayer("site", (Setting("http_pass", "web-pw-1"), Setting("language", "English"),
                                                      Setting("ntp_server", "10.7.7.7", secret=True),
                                                      Setting("fkey", "line", 2)))))


def test_viewerNeverSeesASecretValue(api):
    """
    A layer's declared (snom's C{http_pass}) and marked secrets are
    C{***} in every answer but an admin's reveal, which is audited; a
    viewer's or an operator's reveal is refused.
    """
    _secretLayer(api)
    for who in ("vera", "otto", "ada"):
        code, layer, _ = api.checked("GET", "/api/layers/site", "/api/layers/{scope}", basic(who))
        assert code == 200
        assert [(s["name"], s["value"], s["secret"]) for s in layer["settings"]] == [
            ("http_pass", "***", False), ("language", "English", False), ("ntp_server", "***", True),
            ("fkey", "line", False)]
    for who in ("vera", "otto"):
        code, body, response = api.json("GET", "/api/layers/site?reveal=true", basic(who))
        assertProblem(code, body, response, 403)
        assert "web-pw-1" not in json.dumps(body)
    assert audits(api) == []
    code, layer, _ = api.checked("GET", "/api/layers/site?reveal=true", "/api/layers/{scope}", basic("ada"))
    assert [s["value"] for s in layer["settings"]] == ["web-pw-1", "English", "10.7.7.7", "line"]
    assert [(a.actor, a.object) for a in audits(api)] == [("operator:ada", "layer:site")]
    assert not any("web-pw-1" in a.summary or "10.7.7.7" in a.summary for a in audits(api))


def test_maskedLayerSentBackKeepsSecrets(api):
    """
    An operator's masked read, sent back as it is, changes nothing: the
    stored values and marks stay.
    """
    _secretLayer(api)
    before = _result(api.store.getLayer("site"))
    _, layer, _ = api.json("GET", "/api/layers/site", basic("otto"))
    code, body, _ = api.checked("PUT", "/api/layers/site", "/api/layers/{scope}", basic("otto"),
                                json_={"settings": layer["settings"]})
    assert code == 200 and body["layer"] == layer
    assert _result(api.store.getLayer("site")) == before
    unmark = [{**s, "secret": False} for s in layer["settings"]]
    code, body, response = api.json("PUT", "/api/layers/site", basic("otto"), json_={"settings": unmark})
    assertProblem(code, body, response, 403)
    assert _result(api.store.getLayer("site")) == before


def test_operatorMarksOnlyAnAdminUnmarks(api):
    """
    An operator marks a setting secret (answered masked, audited without
    the value); clearing a mark needs an admin; a viewer can do neither.
    """
    _secretLayer(api)
    code, layer, _ = api.checked("POST", "/api/layers/site/secrets", SECRETS, basic("otto"),
                                 json_={"name": "fkey", "idx": 2, "secret": True})
    assert code == 200
    assert layer["settings"][3] == {"name": "fkey", "idx": 2, "value": "***", "perm": None, "secret": True}
    assert _result(api.store.getLayer("site")).settings[3] == Setting("fkey", "line", 2, secret=True)
    for who, status in (("otto", 403), ("vera", 403)):
        code, body, response = api.json("POST", "/api/layers/site/secrets", basic(who),
                                        json_={"name": "fkey", "idx": 2, "secret": False})
        assertProblem(code, body, response, status)
    code, body, response = api.json("POST", "/api/layers/site/secrets", basic("vera"),
                                    json_={"name": "language", "secret": True})
    assertProblem(code, body, response, 403)
    code, layer, _ = api.checked("POST", "/api/layers/site/secrets", SECRETS, basic("ada"),
                                 json_={"name": "ntp_server", "secret": False})
    assert code == 200 and layer["settings"][2] == {"name": "ntp_server", "idx": None, "value": "10.7.7.7",
                                                    "perm": None, "secret": False}
    assert [(a.actor, a.summary.split(";")[0]) for a in audits(api)] == [
        ("operator:otto", "marked fkey[2] secret"), ("operator:ada", "unmarked ntp_server secret")]


@pytest.mark.parametrize("path,body,status", [
    ("/api/layers/site/secrets", {"name": "nope", "secret": True}, 404),
    ("/api/layers/site/secrets", {"name": "fkey", "secret": True}, 404),
    ("/api/layers/model:snomD785/secrets", {"name": "fkey", "idx": 2, "secret": True}, 404),
    ("/api/layers/site/secrets", {"name": "fkey", "idx": 2}, 400),
    ("/api/layers/site/secrets", {"name": "fkey", "idx": 2, "secret": "yes"}, 400),
    ("/api/layers/site/secrets", {"name": "fkey", "idx": -1, "secret": True}, 400),
    ("/api/layers/site/secrets", {"name": "fkey", "secret": True, "value": "x"}, 400),
    ("/api/layers/planet:x/secrets", {"name": "fkey", "secret": True}, 400),
])
def test_markSecretRefusals(api, path, body, status):
    _secretLayer(api)
    before = _result(snapshot(api.store))
    code, answer, response = api.json("POST", path, basic("otto"), json_=body)
    assertProblem(code, answer, response, status)
    assert _result(snapshot(api.store)) == before


def test_markSecretDeclared():
    """
    The endpoint and its body are in the OpenAPI document.
    """
    from snomprov.web.api.openapi import openAPIDocument

    document = openAPIDocument(allEndpoints())
    operation = document["paths"]["/api/layers/{scope}/secrets"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["name", "secret"]
    assert {"200", "400", "401", "403", "404"} <= set(operation["responses"])
    validateOpenAPI(document)
