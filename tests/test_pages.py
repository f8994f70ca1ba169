"""
Tests for L{snomprov.web.pages}: the operators' pages over a memory store,
driven through C{StubTreq} (no sockets) with a synchronous password check:
sessions and their cookie, the CSRF token of every form, roles, and each
page calling the operations layer.

The "refused without a session", "refused without its token" and "refused
to a viewer" tests are generated from the routes, so that a new page is
covered as soon as it is routed.
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from treq.testing import StubTreq
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.web.resource import Resource

from snomprov.accounts import Operator, hashPassword, permits, verifyPassword
from snomprov.audit import parseAudit
from snomprov.config import parseConfig
from snomprov.device import DeviceInfo, Setting, SettingsLayer
from snomprov.loginthrottle import PER_NAME
from snomprov.registry import discoverVendors
from snomprov.store.memory import MemoryDeviceStore
from snomprov.web.api.auth import Authenticator
from snomprov.web.pages import PATHS, allRoutes, pagesResource
from snomprov.web.api import apiResource
from snomprov.web.sessions import COOKIE, LOGIN_COOKIE, Sessions
from snomprov.web.root import SiteRoot

BASE = "http://snomprov.example"
PASSWORDS = {"ada": "ada-pw", "otto": "otto-pw", "vera": "vera-pw"}
ROLE_OF = {"ada": "admin", "otto": "operator", "vera": "viewer"}
MAC = "000413298822"


def _result(d):
    results = []
    d.addBoth(results.append)
    assert results, "the request did not finish"
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


def multipart(form: dict, files: dict) -> tuple[bytes, str]:
    """
    A C{multipart/form-data} body, as a browser sends a form with a file
    (StubTreq does not encode files): C{files} maps a field to C{(file
    name, type, bytes)}.
    """
    boundary = "----snomprov-test-boundary"
    parts = []
    for name, value in form.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, kind, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Browser:
    """
    One client's cookies over the pages' resource.
    """

    def __init__(self, site: "Pages") -> None:
        self.site = site
        self.client = StubTreq(site.root)  # its own cookie jar, which these tests do not use
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers=None, body=None,
                files: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if files is not None:
            body, headers["Content-Type"] = multipart(form or {}, files)
        elif form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        d = self.client.request(method, BASE + path, headers=headers, data=body, allow_redirects=False)
        self.client.flush()
        response = _result(d)
        for raw in response.headers.getRawHeaders("Set-Cookie", []):
            cookie = SimpleCookie(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        content = _result(response.content())
        self.client.flush()
        return response, content.decode("utf-8")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, form, files=None):
        return self.request("POST", path, form, files=files)

    def csrf(self, path: str = "/") -> str:
        _, html = self.get(path)
        return re.search(r'name="csrf" value="([^"]*)"', html).group(1)

    def logIn(self, name: str, password: str | None = None):
        token = self.csrf("/login")
        return self.post("/login", {"csrf": token, "name": name,
                                    "password": PASSWORDS[name] if password is None else password})


class Pages:
    def __init__(self, tmp_path) -> None:
        self.store = MemoryDeviceStore()
        self.clock = Clock()
        self.clock.advance(1_000_000)
        for name, role in ROLE_OF.items():
            self.store.addOperator(Operator(name, role, hashPassword(PASSWORDS[name], n=2, r=1, p=1), 1.0))
        self.config = parseConfig("[admin]\nsession_idle = 600\n", baseDir=str(tmp_path))
        authenticator = Authenticator(self.clock, lambda password, stored: verifyPassword(password, stored))
        sessions = Sessions(self.clock, self.config.admin.sessionIdle)
        whenStore = lambda: defer.succeed(self.store)  # noqa: E731
        self.resource = pagesResource(whenStore, self.clock, authenticator, discoverVendors(), self.config,
                                      sessions=sessions)
        self.root = SiteRoot(Resource())
        for path in PATHS:
            self.root.putChild(path, self.resource)
        self.root.putChild(b"api", apiResource(whenStore, self.clock, registry=discoverVendors(),
                                               config=self.config, authenticator=authenticator,
                                               sessions=sessions))

    def browser(self, name: str | None = None) -> Browser:
        browser = Browser(self)
        if name is not None:
            response, _ = browser.logIn(name)
            assert response.code == 303, response.code
        return browser

    def events(self):
        return _result(self.store.listEvents(limit=1000))


@pytest.fixture
def pages(tmp_path):
    return Pages(tmp_path)


def _sample(pattern: str) -> str:
    return re.sub(r"\{[a-z]+\}", lambda m: {"{mac}": MAC, "{name}": "pages.css"}.get(m.group(0), "x"), pattern)


GUARDED = [r for r in allRoutes() if r.role is not None]


def _id(route):
    return f"{route.method} {route.pattern}"


def test_onlyLoginAndStaticAreOpen():
    assert {(r.method, r.pattern) for r in allRoutes() if r.role is None} == {
        ("GET", "/login"), ("POST", "/login"), ("GET", "/static/{name}")}


@pytest.mark.parametrize("route", GUARDED, ids=_id)
def test_refusedWithoutSession(pages, route):
    """
    Every page without a session: a GET goes to the login page (and back
    after it), anything else is 401; nothing is done.
    """
    before = len(pages.events())
    response, html = pages.browser().request(route.method, _sample(route.pattern), {} if route.method == "POST" else None)
    if route.method == "GET":
        assert response.code == 303
        location = response.headers.getRawHeaders("Location")[0]
        assert location.startswith("/login?next=/")
    else:
        assert response.code == 401 and "Log in" in html
    assert len(pages.events()) == before


@pytest.mark.parametrize("route", [r for r in GUARDED if r.method == "POST"], ids=_id)
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_postRefusedWithoutItsToken(pages, route, token):
    """
    Every form posted by an admin without its session's CSRF token (or
    with another) is 403 and changes nothing.
    """
    pages.store.mergeDevices([DeviceInfo(MAC, vendor="snom", state="seen")])
    browser = pages.browser("ada")
    before = len(pages.events())
    form = {"mac": MAC} if token == "missing" else {"mac": MAC, "csrf": "x" * 43}
    response, html = browser.post(_sample(route.pattern), form)
    assert response.code == 403 and "security token" in html
    assert len(pages.events()) == before
    assert _result(pages.store.getDevice(MAC)) is not None


@pytest.mark.parametrize("route", [r for r in GUARDED if r.role != "viewer"], ids=_id)
def test_smallerRolesRefused(pages, route):
    """
    A page or form that needs a role is 403 (a page saying so) to every
    smaller role, with the right token too.
    """
    pages.store.mergeDevices([DeviceInfo(MAC, vendor="snom", state="seen")])
    for name, role in ROLE_OF.items():
        if permits(role, route.role):
            continue
        browser = pages.browser(name)
        form = {"csrf": browser.csrf(), "mac": MAC} if route.method == "POST" else None
        response, html = browser.request(route.method, _sample(route.pattern), form)
        assert response.code == 403, (name, route)
        assert f"needs the role {route.role}" in html


def test_loginCookieAndSession(pages):
    browser = pages.browser()
    response, html = browser.get("/login")
    assert response.code == 200
    assert 'autocomplete="current-password"' in html and '<label for="f-name">Name</label>' in html
    response, _ = browser.logIn("otto")
    assert response.code == 303 and response.headers.getRawHeaders("Location") == ["/"]
    raw = [c for c in response.headers.getRawHeaders("Set-Cookie") if c.startswith(COOKIE.decode() + "=")][0]
    assert "HttpOnly" in raw and "SameSite=strict" in raw.replace("Strict", "strict") and "Secure" not in raw
    response, html = browser.get("/")
    assert response.code == 200 and "otto (operator)" in html
    assert response.headers.getRawHeaders("Cache-Control") == ["no-store"]
    assert "default-src 'self'" in response.headers.getRawHeaders("Content-Security-Policy")[0]


def test_loginGoesBackToTheAskedPage(pages):
    browser = pages.browser()
    response, _ = browser.get("/devices?state=seen")
    location = response.headers.getRawHeaders("Location")[0]
    _, html = browser.get(location)
    token = re.search(r'name="csrf" value="([^"]*)"', html).group(1)
    nxt = re.search(r'name="next" value="([^"]*)"', html).group(1)
    response, _ = browser.post("/login", {"csrf": token, "name": "vera", "password": "vera-pw", "next": nxt})
    assert response.headers.getRawHeaders("Location") == ["/devices?state=seen"]
    browser = pages.browser()
    token = browser.csrf("/login")
    response, _ = browser.post("/login", {"csrf": token, "name": "vera", "password": "vera-pw",
                                          "next": "//evil.example/"})
    assert response.headers.getRawHeaders("Location") == ["/"]


def test_loginRefused(pages):
    browser = pages.browser()
    response, html = browser.logIn("otto", "wrong")
    assert response.code == 401
    assert 'aria-invalid="true"' in html and "do not match" in html
    assert COOKIE.decode() not in browser.cookies
    token = browser.csrf("/login")
    response, html = browser.post("/login", {"csrf": token + "x", "name": "otto", "password": "otto-pw"})
    assert response.code == 403 and COOKIE.decode() not in browser.cookies


def test_loginThrottledPerName(pages):
    """
    Past the failures a name may have, even its right password is refused
    (429) until time passes: the same limit as the API's.
    """
    browser = pages.browser()
    for _ in range(int(PER_NAME[0])):
        assert browser.logIn("otto", "wrong")[0].code == 401
    response, html = browser.logIn("otto")
    assert response.code == 429 and "try again in" in html
    pages.clock.advance(PER_NAME[0] / PER_NAME[1])
    assert browser.logIn("otto")[0].code == 303


def test_sessionIdleExpiry(pages):
    browser = pages.browser("otto")
    pages.clock.advance(599)
    assert browser.get("/")[0].code == 200
    pages.clock.advance(599)
    assert browser.get("/")[0].code == 200
    pages.clock.advance(601)
    response, _ = browser.get("/")
    assert response.code == 303


def test_logoutEndsTheSession(pages):
    browser = pages.browser("otto")
    cookie = browser.cookies[COOKIE.decode()]
    response, _ = browser.post("/logout", {"csrf": browser.csrf()})
    assert response.code == 303
    browser.cookies[COOKIE.decode()] = cookie
    assert browser.get("/")[0].code == 303


def test_removedOperatorLosesSession(pages):
    browser = pages.browser("otto")
    _result(pages.store.removeOperator("otto"))
    assert browser.get("/")[0].code == 303


def test_apiTakesThePageSession(pages):
    """
    The API answers a page session's cookie as its operator (DESIGN §4.5),
    with the role stored now; not once it has ended.
    """
    import json

    browser = pages.browser()
    assert browser.get("/api/me")[0].code == 401
    browser.logIn("vera")
    response, body = browser.get("/api/me")
    assert response.code == 200 and json.loads(body) == {"kind": "operator", "name": "vera", "role": "viewer",
                                                         "actor": "operator:vera"}
    assert browser.request("POST", "/api/devices", headers={"Content-Type": "application/json"},
                           body=b'{"mac": "000413000001", "vendor": "snom"}')[0].code == 403
    cookie = browser.cookies[COOKIE.decode()]
    browser.post("/logout", {"csrf": browser.csrf()})
    browser.cookies[COOKIE.decode()] = cookie
    assert browser.get("/api/me")[0].code == 401


def test_static(pages):
    response, css = pages.browser().get("/static/pages.css")
    assert response.code == 200 and "@media" in css
    assert pages.browser().get("/static/other.css")[0].code == 404
    assert pages.browser().get("/nothing")[0].code == 404


def test_dashboard(pages):
    pages.store.mergeDevices([DeviceInfo(MAC, vendor="snom", model="snomD785", ip="192.0.2.7", state="seen"),
                              DeviceInfo("000413000001", vendor="snom", state="fetched")])
    browser = pages.browser("vera")
    response, html = browser.get("/")
    assert response.code == 200
    assert re.search(r'data-live-key="state:seen">1<', html)
    assert re.search(r'data-live-key="vendor:snom">2<', html)
    assert re.search(r'data-live-key="total">2<', html)
    assert f'href="/register?mac={MAC}"' in html
    assert 'data-live="/events/stream"' in html


def test_registerScannedMAC(pages):
    """
    A MAC as a scanner types it registers the phone with a generated
    password shown once; the form comes back for the next phone with the
    focus in the MAC field and the vendor kept; the device page hides the
    password.
    """
    browser = pages.browser("otto")
    token = browser.csrf("/register")
    response, html = browser.post("/register", {
        "csrf": token, "mac": "00-04-13-29-88-2c", "vendor": "snom", "model": "snomD785",
        "registrar": "pbx.example.org", "line1_user": "1001", "line1_display": "Ada", "line1_password": ""})
    assert response.code == 200, html
    password = re.search(r'class="secret">([^<]+)<', html).group(1)
    assert len(password) >= 20
    assert re.search(r'id="f-mac"[^>]*autofocus', html) or re.search(r'autofocus[^>]*id="f-mac"', html)
    assert re.search(r'<option value="snom" selected="selected">', html)
    view = _result(pages.store.readDevice("00041329882C"))
    assert view[1][0].password == password and view[1][0].user == "1001"
    _, page = browser.get("/devices/00041329882C")
    assert password not in page and "set (hidden)" in page
    response, html = browser.post("/register", {"csrf": token, "mac": "00-04-13-29-88-2c", "vendor": "snom",
                                               "line1_user": "1002"})
    assert response.code == 409 and "registered already" in html


def test_registerErrorsNextToFields(pages):
    browser = pages.browser("otto")
    response, html = browser.post("/register", {"csrf": browser.csrf("/register"), "mac": "nope",
                                               "vendor": "snom"})
    assert response.code == 400
    assert re.search(r'id="f-mac-error"[^>]*role="alert"', html) or 'id="f-mac-error"' in html
    assert 'aria-describedby="f-mac-hint f-mac-error"' in html


def test_registerRegistrarErrorBesideItsField(pages):
    browser = pages.browser("otto")
    response, html = browser.post("/register", {"csrf": browser.csrf("/register"), "mac": MAC, "vendor": "snom",
                                               "registrar": "pbx\x01", "line1_user": "1"})
    assert response.code == 400 and 'id="f-registrar-error"' in html


def test_registerSeenPhonePrefilled(pages):
    pages.store.mergeDevices([DeviceInfo(MAC, vendor="snom", model="snom360", ip="192.0.2.7", state="seen")])
    browser = pages.browser("otto")
    _, html = browser.get(f"/register?mac={MAC}")
    assert 'value="snom360"' in html and re.search(r'<option value="snom" selected="selected">', html)
    response, html = browser.post("/register", {"csrf": browser.csrf(), "mac": MAC.lower(), "line1_user": "7"})
    assert response.code == 200, html
    device, lines, _ = _result(pages.store.readDevice(MAC))
    assert device.model == "snom360" and device.ip == "192.0.2.7" and lines[0].user == "7"


def test_devicePageAndReveal(pages):
    pages.store.mergeDevices([DeviceInfo(MAC, vendor="snom", model="snomD785", state="seen")])
    browser = pages.browser("ada")
    browser.post("/register", {"csrf": browser.csrf(), "mac": MAC, "line1_user": "1001",
                               "line1_password": "s3cret-pw"})
    _result(pages.store.putLayer(SettingsLayer("site", (Setting("language", "English"),
                                                        Setting("timezone", "GBR-0")))))
    _result(pages.store.putLayer(SettingsLayer(f"device:{MAC}", (Setting("language", "Deutsch"),))))
    response, html = browser.get(f"/devices/{MAC}")
    assert response.code == 200
    assert "s3cret-pw" not in html
    assert re.search(r"<td>language</td><td></td><td>Deutsch</td><td></td><td><a[^>]*>device:" + MAC
                     + r"</a></td><td>site</td>", html)
    assert re.search(r"<td>timezone</td><td></td><td>GBR-0</td><td></td><td><a[^>]*>site</a>", html)
    assert "data-file=" in html and "***" in html
    response, html = browser.post(f"/devices/{MAC}/reveal", {"csrf": browser.csrf()})
    assert response.code == 200 and "s3cret-pw" in html
    audits = [parseAudit(e) for e in pages.events() if parseAudit(e) is not None]
    assert any(a.summary == "SIP passwords revealed" and a.actor == "operator:ada" for a in audits)


def _effectiveRows(html: str) -> dict:
    """
    The effective settings table: setting name to (value, layer, overrides).
    """
    section = html.split('id="effective"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]:
        cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        rows[cells[0]] = (cells[2], cells[4], cells[5])
    return rows


def test_effectiveSettingsShowBuiltins(pages):
    """
    A device's effective settings start with its vendor's built-in
    defaults, named as theirs, with the value its file is rendered with; a
    layer setting one of them overrides it there, as in the file.  An SPA
    phone's resync parameters are its vendor's.
    """
    spa = "0004F2000042"
    pages.store.mergeDevices([DeviceInfo(MAC, vendor="snom", model="snomD785", state="seen"),
                              DeviceInfo(spa, vendor="linksys", model="SPA942", state="seen")])
    browser = pages.browser("vera")
    _, html = browser.get(f"/devices/{MAC}")
    rows = _effectiveRows(html)
    server, layer, overrides = rows["setting_server"]
    assert (layer, overrides) == ("snom built-in", "")
    rendered = re.search(r'data-file="snom/' + MAC + r'-settings.xml">(.*?)</pre>', html, re.S).group(1)
    assert f"&lt;setting_server&gt;{server}&lt;/setting_server&gt;" in rendered, rendered
    _result(pages.store.putLayer(SettingsLayer("site", (Setting("setting_server", "http://site.example/x"),))))
    _, html = browser.get(f"/devices/{MAC}")
    assert _effectiveRows(html)["setting_server"] == ("http://site.example/x", "site", "snom built-in")
    rendered = re.search(r'data-file="snom/' + MAC + r'-settings.xml">(.*?)</pre>', html, re.S).group(1)
    assert "http://site.example/x" in rendered and server not in rendered
    _, html = browser.get(f"/devices/{spa}")
    rows = _effectiveRows(html)
    assert rows["Resync_Periodic"] == ("3600", "linksys built-in", "")
    assert rows["Profile_Rule"][1] == "linksys built-in"


def test_effectiveSettingsMaskSecrets(pages):
    """
    The effective settings show a declared secret (snom's C{http_pass})
    and a marked one as C{***} to a viewer; an admin's reveal shows them.
    """
    pages.store.mergeDevices([DeviceInfo(MAC, vendor="snom", model="snomD785", state="seen")])
    _result(pages.store.putLayer(SettingsLayer("site", (Setting("http_pass", "web-pw-9"),
                                                        Setting("language", "English")))))
    _result(pages.store.putLayer(SettingsLayer(f"device:{MAC}", (Setting("ntp_server", "10.4.4.4", secret=True),))))
    _, html = pages.browser("vera").get(f"/devices/{MAC}")
    rows = _effectiveRows(html)
    assert (rows["http_pass"][0], rows["ntp_server"][0], rows["language"][0]) == ("***", "***", "English")
    effective = html.split('id="effective"', 1)[1].split("</table>", 1)[0]
    assert "web-pw-9" not in effective and "10.4.4.4" not in effective
    browser = pages.browser("ada")
    _, html = browser.get(f"/devices/{MAC}")
    assert _effectiveRows(html)["http_pass"][0] == "***"
    response, html = browser.post(f"/devices/{MAC}/reveal", {"csrf": browser.csrf()})
    assert response.code == 200
    rows = _effectiveRows(html)
    assert (rows["http_pass"][0], rows["ntp_server"][0]) == ("web-pw-9", "10.4.4.4")


def test_devicesListFilterSortResync(pages):
    pages.store.mergeDevices([DeviceInfo(f"0004130000{i:02X}", vendor="snom", model=f"m{9 - i}",
                                         state="seen" if i % 2 else "fetched") for i in range(6)])
    browser = pages.browser("otto")
    _, html = browser.get("/devices?state=seen&sort=model")
    macs = re.findall(r'href="/devices/(0004130000[0-9A-F]{2})"', html)
    assert macs == ["000413000005", "000413000003", "000413000001"]
    _, html = browser.get("/devices?q=00:04:13:00:00:02")
    assert re.findall(r'href="/devices/(0004130000[0-9A-F]{2})"', html) == ["000413000002"]
    response, _ = browser.post("/devices/resync", {"csrf": browser.csrf(), "mac": ["000413000001", "000413000002"]})
    assert response.code == 303
    _, html = browser.get("/devices")
    assert "Resync queued for 0 phone(s)" in html and "no proven address: the phone has not acknowledged a NOTIFY" in html


def test_devicesPaged(pages, monkeypatch):
    from snomprov.web.pages import devices

    monkeypatch.setattr(devices, "PAGE_SIZE", 2)
    pages.store.mergeDevices([DeviceInfo(f"0004130000{i:02X}", state="seen") for i in range(5)])
    browser = pages.browser("vera")
    seen, path = [], "/devices"
    while path:
        _, html = browser.get(path)
        seen += re.findall(r'href="/devices/(0004130000[0-9A-F]{2})"', html)
        found = re.search(r'<a href="(/devices\?[^"]*after=[^"]*)" rel="next"', html)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [f"0004130000{i:02X}" for i in range(5)]


def test_devicesSortedAcrossPages(pages, monkeypatch):
    """
    A sort orders the whole store, not the page shown: page 1 of "last
    seen, newest first" holds the newest phones of all, the next pages
    continue in that order (the MAC breaking ties); every store order has
    its header link.
    """
    from snomprov.operations.devices import DEVICE_SORTS
    from snomprov.web.pages import devices

    assert set(devices.SORTS) == set(DEVICE_SORTS) and set(DEVICE_SORTS) <= set(devices.COLUMNS)
    monkeypatch.setattr(devices, "PAGE_SIZE", 2)
    times = [3.0, 8.0, 1.0, 8.0, 5.0]
    pages.store.mergeDevices([DeviceInfo(f"0004130000{i:02X}", state="seen", lastSeen=t, firstSeen=t)
                              for i, t in enumerate(times)])
    browser = pages.browser("vera")
    shown, path = [], "/devices?sort=seen&order=desc"
    while path:
        _, html = browser.get(path)
        shown.append(re.findall(r'href="/devices/(0004130000[0-9A-F]{2})"', html))
        found = re.search(r'<a href="(/devices\?[^"]*after=[^"]*)" rel="next"', html)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert shown == [["000413000001", "000413000003"], ["000413000004", "000413000000"], ["000413000002"]]
    assert "sorted by last seen, newest first" in html
    for key in DEVICE_SORTS:
        assert f"sort={key}" in html
    response, html = browser.get("/devices?sort=seen&order=asc&after=" + "000413000001")
    assert response.code == 400 and "not a cursor of this list" in html


def test_editAndDelete(pages):
    browser = pages.browser("otto")
    browser.post("/register", {"csrf": browser.csrf(), "mac": MAC, "vendor": "snom", "line1_user": "1"})
    _, html = browser.get(f"/devices/{MAC}/edit")
    revision = re.search(r'name="revision" value="(\d+)"', html).group(1)
    response, _ = browser.post(f"/devices/{MAC}/edit", {"csrf": browser.csrf(), "vendor": "snom",
                                                        "model": "snom370", "revision": revision})
    assert response.code == 303
    assert _result(pages.store.getDevice(MAC)).model == "snom370"
    response, html = browser.post(f"/devices/{MAC}/edit", {"csrf": browser.csrf(), "vendor": "nokia",
                                                          "index": "1", "line1_user": "1"})
    assert response.code == 400 and 'id="f-vendor-error"' in html and 'value="nokia"' not in html


def test_editLines(pages):
    """
    The edit form changes, adds (a generated password shown once) and
    removes lines; a password left empty is kept; a bad line's error is
    beside its field.
    """
    browser = pages.browser("otto")
    browser.post("/register", {"csrf": browser.csrf(), "mac": MAC, "vendor": "snom", "line1_user": "1",
                               "line1_password": "kept-pw"})
    _, html = browser.get(f"/devices/{MAC}/edit")
    assert 'name="line1_user"' in html and 'name="line2_user"' in html and "Line 2 (new)" in html
    form = {"csrf": browser.csrf(), "vendor": "snom", "index": ["1", "2"], "line1_user": "11",
            "line1_display": "Eleven", "line2_user": "12"}
    response, html = browser.post(f"/devices/{MAC}/edit", form)
    assert response.code == 200
    generated = re.search(r'class="secret">([^<]+)<', html).group(1)
    lines = _result(pages.store.getLines(MAC))
    assert [(l.index, l.user, l.displayName) for l in lines] == [(1, "11", "Eleven"), (2, "12", "")]
    assert lines[0].password == "kept-pw" and lines[1].password == generated
    response, _ = browser.post(f"/devices/{MAC}/edit", {"csrf": browser.csrf(), "vendor": "snom",
                                                        "index": ["1", "2", "3"], "line2_user": "12"})
    assert response.code == 303
    assert [l.index for l in _result(pages.store.getLines(MAC))] == [2]
    response, html = browser.post(f"/devices/{MAC}/edit", {"csrf": browser.csrf(), "vendor": "snom",
                                                          "index": ["2"], "line2_user": "bad user\x01"})
    assert response.code == 400 and 'id="f-line2_user-error"' in html
    response, _ = browser.post(f"/devices/{MAC}/delete", {"csrf": browser.csrf()})
    assert response.code == 303 and _result(pages.store.getDevice(MAC)) is None
    assert browser.get(f"/devices/{MAC}")[0].code == 404
