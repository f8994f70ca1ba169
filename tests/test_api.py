"""
Tests for L{snomprov.web.api}: the API resource over a memory store,
driven through C{StubTreq} (no sockets), with a synchronous password check
so that every answer is ready when the request returns.

The 401 and 403 tests are generated from the declarations, so that a new
endpoint is covered as soon as it is declared.
"""

from __future__ import annotations

import base64
import json

import jsonschema
import pytest
from openapi_spec_validator import validate as validateOpenAPI
from treq.testing import StubTreq
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from snomprov.accounts import ROLES, Operator, Token, hashPassword, newToken, permits, tokenHash, verifyPassword
from snomprov.audit import parseAudit
from snomprov.device import Event
from snomprov.store.memory import MemoryDeviceStore
from snomprov.web.api import allEndpoints, apiResource
from snomprov.web.api.auth import CHALLENGE
from snomprov.web.api.declare import Answer, Endpoint
from snomprov.web.api.openapi import openAPIDocument
from snomprov.web.api.resource import APIResource
from snomprov.web.api.auth import Authenticator
from snomprov.web.root import SiteRoot

from twisted.web.resource import Resource

BASE = "http://snomprov.example"
PASSWORDS = {"ada": "ada-pw", "otto": "otto-pw", "vera": "vera-pw"}
ROLE_OF = {"ada": "admin", "otto": "operator", "vera": "viewer"}


def cheapHash(password: str) -> str:
    return hashPassword(password, n=2, r=1, p=1)


def basic(name: str, password: str | None = None) -> dict:
    raw = f"{name}:{PASSWORDS[name] if password is None else password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


class API:
    """
    The API mounted on a L{SiteRoot} over a memory store with an admin, an
    operator and a viewer (and a token of each role), and an in-memory
    client.

    @ivar verified: how many passwords the authenticator checked.
    """

    def __init__(self, endpoints=None, registry=None) -> None:
        self.store = MemoryDeviceStore()
        self.clock = Clock()
        self.clock.advance(1000)
        self.verified = 0
        for name, role in ROLE_OF.items():
            self.store.addOperator(Operator(name, role, cheapHash(PASSWORDS[name]), 1.0))
        self.tokens = {}
        for role in ROLES:
            secret = newToken()
            self.store.addToken(Token(f"t-{role}", role, tokenHash(secret), 1.0))
            self.tokens[role] = secret

        def verify(password, stored):
            self.verified += 1
            return verifyPassword(password, stored)

        if endpoints is None:
            api = apiResource(lambda: defer.succeed(self.store), self.clock, verify, registry)
        else:
            api = APIResource(endpoints, lambda: defer.succeed(self.store),
                              Authenticator(self.clock, verify), self.clock)
        self.endpoints = api.router.endpoints
        root = SiteRoot(Resource())
        root.putChild(b"api", api)
        self.client = StubTreq(root)

    def request(self, method: str, path: str, headers=None, body: bytes | None = None,
                json_=None, **kw):
        headers = dict(headers or {})
        if json_ is not None:
            body = json.dumps(json_).encode()
            headers.setdefault("Content-Type", "application/json")
        d = self.client.request(method, BASE + path, headers=headers, data=body, **kw)
        self.client.flush()
        response = _result(d)
        content = _result(response.content())
        self.client.flush()
        return response, content

    def json(self, method, path, headers=None, **kw):
        response, content = self.request(method, path, headers, **kw)
        return response.code, (json.loads(content) if content else None), response


def _result(d):
    results = []
    d.addBoth(results.append)
    assert results, "the request did not finish"
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


@pytest.fixture
def api():
    return API()


def _samplePath(endpoint: Endpoint) -> str:
    path = endpoint.path
    for name in endpoint.parameterNames:
        path = path.replace("{" + name + "}", "nobody")
    return path


def _header(response, name: str) -> str | None:
    values = response.headers.getRawHeaders(name)
    return values[0] if values else None


def _declaredSchema(endpoint: Endpoint, status: int):
    return endpoint.responses.get(status, (None, None))[1]


def assertProblem(code, body, response, status):
    assert code == status, body
    assert _header(response, "Content-Type") == "application/problem+json"
    from snomprov.web.api.problems import PROBLEM_SCHEMA

    jsonschema.validate(body, PROBLEM_SCHEMA)
    assert body["status"] == status and body["type"].startswith("/api/problems/")


GUARDED = [e for e in allEndpoints() if e.role is not None]


def _id(endpoint):
    return f"{endpoint.method} {endpoint.path}"


def test_everyOperatorEndpointIsGuarded():
    """
    Only the OpenAPI document is served without login.
    """
    assert {(e.method, e.path) for e in allEndpoints() if e.role is None} == {("GET", "/api/openapi.json")}
    assert GUARDED


@pytest.mark.parametrize("endpoint", GUARDED, ids=_id)
@pytest.mark.parametrize("credentials", ["none", "wrong-password", "unknown-user", "bad-token", "garbage"])
def test_refusedWithoutLogin(api, endpoint, credentials):
    """
    Every declared endpoint that needs a role answers 401 with the
    challenge to a request without valid credentials, whatever its body.
    """
    headers = {
        "none": {},
        "wrong-password": basic("ada", "nope"),
        "unknown-user": {"Authorization": "Basic " + base64.b64encode(b"mallory:x").decode()},
        "bad-token": bearer("snp_" + "A" * 43),
        "garbage": {"Authorization": "Basic !!!"},
    }[credentials]
    code, body, response = api.json(endpoint.method, _samplePath(endpoint), headers)
    assertProblem(code, body, response, 401)
    assert _header(response, "WWW-Authenticate") == CHALLENGE


@pytest.mark.parametrize("endpoint", GUARDED, ids=_id)
def test_refusedToSmallerRoles(api, endpoint):
    """
    Every declared endpoint answers 403 to each role below the one it
    needs, by password and by token, and never 401 or 403 to a role it
    permits.
    """
    for name, role in ROLE_OF.items():
        for headers in (basic(name), bearer(api.tokens[role])):
            code, body, response = api.json(endpoint.method, _samplePath(endpoint), headers)
            if permits(role, endpoint.role):
                assert code not in (401, 403), (role, body)
            else:
                assertProblem(code, body, response, 403)
                assert endpoint.role in body["detail"]


def test_openAPIDocument(api):
    """
    The document is served without login, is valid OpenAPI, and lists
    every declared route with its method.
    """
    code, document, response = api.json("GET", "/api/openapi.json")
    assert code == 200
    assert _header(response, "Content-Type") == "application/json"
    validateOpenAPI(document)
    assert document["openapi"].startswith("3.1")
    declared = {(e.method.lower(), e.path) for e in api.endpoints}
    listed = {(method, path) for path, item in document["paths"].items() for method in item}
    assert listed == declared
    assert document == json.loads(json.dumps(openAPIDocument(api.endpoints)))
    users = document["paths"]["/api/users"]["post"]
    assert users["x-snomprov-role"] == "admin"
    assert {"401", "403", "400", "413", "415", "201"} <= set(users["responses"])


def test_me(api):
    code, body, _ = api.json("GET", "/api/me", basic("vera"))
    assert (code, body) == (200, {"kind": "operator", "name": "vera", "role": "viewer", "actor": "operator:vera"})
    code, body, _ = api.json("GET", "/api/me", bearer(api.tokens["operator"]))
    assert body == {"kind": "token", "name": "t-operator", "role": "operator", "actor": "token:t-operator"}


def test_unknownPathAndMethod(api):
    code, body, response = api.json("GET", "/api/nothing-here", basic("ada"))
    assertProblem(code, body, response, 404)
    code, body, response = api.json("GET", "/api", basic("ada"))
    assertProblem(code, body, response, 404)
    code, body, response = api.json("PUT", "/api/users", basic("ada"))
    assertProblem(code, body, response, 405)
    assert _header(response, "Allow") == "GET, POST"
    code, body, response = api.json("GET", "/api/users/ada", basic("ada"))
    assertProblem(code, body, response, 405)
    assert _header(response, "Allow") == "DELETE"
    code, body, response = api.json("DELETE", "/api/users/NOT%20A%20NAME", basic("ada"))
    assertProblem(code, body, response, 404)


def test_bodyProblems(api):
    admin = basic("ada")
    code, body, response = api.json("POST", "/api/users", {**admin, "Content-Type": "text/plain"},
                                    body=b'{"name": "x", "password": "y"}')
    assertProblem(code, body, response, 415)
    code, body, response = api.json("POST", "/api/users", admin, body=b'{"name": "x"}')
    assertProblem(code, body, response, 415)
    code, body, response = api.json("POST", "/api/users", {**admin, "Content-Type": "application/json"},
                                    body=b'{"name": ')
    assertProblem(code, body, response, 400)
    assert "errors" not in body
    code, body, response = api.json("POST", "/api/users", {**admin, "Content-Type": "application/json"},
                                    body=b"\xff\xfe")
    assertProblem(code, body, response, 400)
    code, body, response = api.json("POST", "/api/users", admin,
                                    json_={"name": "Bad Name", "role": "king", "colour": 1})
    assertProblem(code, body, response, 400)
    assert {e["field"] for e in body["errors"]} == {"/name", "/role", "/password", "/colour"}
    code, body, response = api.json("POST", "/api/users", admin,
                                    json_={"name": "big", "password": "x" * 5000})
    assertProblem(code, body, response, 413)


def test_queryProblems(api):
    admin = basic("ada")
    for query, field in [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"),
                         ("cursor=%21%21", "cursor"), ("colour=red", "colour"), ("limit=1&limit=2", "limit")]:
        code, body, response = api.json("GET", f"/api/users?{query}", admin)
        assertProblem(code, body, response, 400)
        assert [e["field"] for e in body["errors"]] == [field], query
    code, body, response = api.json("GET", "/api/events?mac=zz", admin)
    assertProblem(code, body, response, 400)
    assert body["errors"][0]["field"] == "mac"
    code, body, response = api.json("GET", "/api/events?cursor=" + "ImEi", admin)  # a string, not an id
    assertProblem(code, body, response, 400)


def test_usersLifecycleAudited(api):
    admin = basic("ada")
    code, body, response = api.json("POST", "/api/users", admin,
                                    json_={"name": "nina", "password": "nina-pw", "role": "viewer"})
    assert (code, body) == (201, {"name": "nina", "role": "viewer", "created": 1000.0})
    assert _header(response, "Location") == "/api/users/nina"
    code, body, response = api.json("POST", "/api/users", admin, json_={"name": "nina", "password": "x"})
    assertProblem(code, body, response, 409)
    PASSWORDS["nina"] = "nina-pw"
    try:
        assert api.json("GET", "/api/me", basic("nina"))[1]["role"] == "viewer"
    finally:
        del PASSWORDS["nina"]
    code, body, _ = api.json("DELETE", "/api/users/nina", admin)
    assert (code, body) == (204, None)
    code, body, response = api.json("DELETE", "/api/users/nina", admin)
    assertProblem(code, body, response, 404)
    audits = [parseAudit(e) for e in reversed(_result(api.store.listEvents(limit=10)))]
    assert [(a.actor, a.object) for a in audits] == [("operator:ada", "user:nina")] * 2
    assert "nina-pw" not in json.dumps([a.summary for a in audits])


def test_lastAdminKept(api):
    code, body, response = api.json("DELETE", "/api/users/ada", basic("ada"))
    assertProblem(code, body, response, 409)


def test_tokensShownOnceAndRevoked(api):
    admin = bearer(api.tokens["admin"])
    code, body, _ = api.json("POST", "/api/tokens", admin, json_={"name": "ansible", "role": "viewer"})
    assert code == 201 and body["token"].startswith("snp_") and body["role"] == "viewer"
    secret = body["token"]
    assert api.json("GET", "/api/me", bearer(secret))[1]["actor"] == "token:ansible"
    code, listed, _ = api.json("GET", "/api/tokens", admin)
    assert secret not in json.dumps(listed)
    assert {"name": "ansible", "role": "viewer", "created": 1000.0} in listed["items"]
    assert api.json("DELETE", "/api/tokens/ansible", admin)[0] == 204
    code, body, response = api.json("GET", "/api/me", bearer(secret))
    assertProblem(code, body, response, 401)
    audit = parseAudit(_result(api.store.listEvents(limit=1))[0])
    assert (audit.actor, audit.object, audit.summary) == ("token:t-admin", "token:ansible", "revoked")


def test_usersPaged(api):
    for index in range(5):
        api.store.addOperator(Operator(f"u{index}", "viewer", cheapHash("x"), 1.0))
    names, cursor, pages = [], None, 0
    while True:
        path = "/api/users?limit=3" + (f"&cursor={cursor}" if cursor else "")
        code, body, _ = api.json("GET", path, basic("ada"))
        assert code == 200 and len(body["items"]) <= 3
        names += [item["name"] for item in body["items"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert names == sorted(["ada", "otto", "vera", "u0", "u1", "u2", "u3", "u4"]) and pages == 3


def test_eventsPagedAndFiltered(api):
    api.store.addEvents([Event(float(i), "000413AA0001" if i % 2 else "000413BB0002",
                               "subscribe" if i % 3 else "rejected", f"e{i}") for i in range(9)])
    seen, cursor = [], None
    while True:
        path = "/api/events?kind=subscribe&mac=00:04:13:aa:00:01&limit=2" + (f"&cursor={cursor}" if cursor else "")
        code, body, _ = api.json("GET", path, basic("vera"))
        assert code == 200
        seen += [item["detail"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == ["e7", "e5", "e1"]
    code, body, _ = api.json("GET", "/api/events", basic("vera"))
    assert [item["detail"] for item in body["items"]] == [f"e{i}" for i in reversed(range(9))]


def test_answersMatchTheirSchemas(api):
    """
    The 2xx answers of the tests' requests match the schemas their
    endpoints declare.
    """
    api.store.addEvents([Event(1.0, None, "rejected", "x")])
    requests = [("GET", "/api/me", None), ("GET", "/api/users", None), ("GET", "/api/tokens", None),
                ("GET", "/api/events", None), ("POST", "/api/users", {"name": "zed", "password": "p"}),
                ("POST", "/api/tokens", {"name": "tok"})]
    byRoute = {(e.method, e.path): e for e in api.endpoints}
    for method, path, payload in requests:
        code, body, _ = api.json(method, path, basic("ada"), json_=payload)
        schema = _declaredSchema(byRoute[method, path], code)
        assert schema is not None, (method, path, code)
        jsonschema.validate(body, schema)


def test_passwordCheckCached(api):
    """
    A repeated login is not verified again; a removed operator is refused
    at once though their login is cached; the password is not kept.
    """
    for _ in range(3):
        assert api.json("GET", "/api/me", basic("otto"))[0] == 200
    assert api.verified == 1
    assert api.json("GET", "/api/me", basic("otto", "wrong"))[0] == 401
    assert api.verified == 2
    _result(api.store.removeOperator("otto"))
    assert api.json("GET", "/api/me", basic("otto"))[0] == 401
    api.store.addOperator(Operator("otto", "operator", cheapHash("new-pw"), 1.0))
    assert api.json("GET", "/api/me", basic("otto"))[0] == 401
    assert api.json("GET", "/api/me", basic("otto", "new-pw"))[0] == 200
    api.clock.advance(3600)
    before = api.verified
    assert api.json("GET", "/api/me", basic("otto", "new-pw"))[0] == 200
    assert api.verified == before + 1


def test_unexpectedErrorIsALogged500(api):
    async def broken(call):
        raise RuntimeError("secret internals")

    events = []
    local = API([Endpoint("GET", "/api/broken", broken, "Broken", None, {200: ("never", None)})])
    globalLogPublisher.addObserver(events.append)
    try:
        code, body, response = local.json("GET", "/api/broken")
    finally:
        globalLogPublisher.removeObserver(events.append)
    assertProblem(code, body, response, 500)
    assert "secret internals" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert any(e.get("log_failure") is not None and "RuntimeError" in str(e["log_failure"].value.__class__)
               for e in events)


def test_handlerAnswers(api):
    async def teapot(call):
        return Answer(418, {"tea": True}, {"X-Tea": "yes"})

    local = API([Endpoint("GET", "/api/tea", teapot, "Tea", "viewer", {418: ("tea", None)})])
    code, body, response = local.json("GET", "/api/tea/", basic("vera"))
    assert code == 418 and _header(response, "X-Tea") == "yes"
    assert _header(response, "Cache-Control") == "no-store"


def test_failedLoginsThrottled(api):
    """
    Past a name's burst of failed logins, even the right password is
    answered 429 with C{Retry-After}, unchecked; another name still logs in;
    the lock lifts with time.
    """
    for _ in range(10):
        code, body, response = api.json("GET", "/api/me", basic("otto", "wrong"))
        assert code == 401
    checked = api.verified
    code, body, response = api.json("GET", "/api/me", basic("otto"))
    assertProblem(code, body, response, 429)
    assert int(_header(response, "Retry-After")) >= 1
    assert api.verified == checked
    assert api.json("GET", "/api/me", basic("vera"))[0] == 200
    api.clock.advance(int(_header(response, "Retry-After")))
    assert api.json("GET", "/api/me", basic("otto"))[0] == 200
