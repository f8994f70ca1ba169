"""
Tests for L{snomprov.web.pages.settings} (the L{test_pages} harness):
Browse / Load a settings XML as a multipart upload, the plan before
applying, the change applied from the plan, an invalid file refused with
its line.
"""

from __future__ import annotations

import base64
import re

from test_pages import MAC, _result, pages  # noqa: F401 (the fixture)

from snomprov.device import DeviceInfo, Setting, SettingsLayer
from snomprov.audit import parseAudit

SITE_XML = b'<settings>\n<phone-settings>\n<language perm="RW">Deutsch</language>\n</phone-settings>\n</settings>\n'
BROKEN_XML = b'<settings>\n<phone-settings>\n<language perm="RW">Deutsch</languag>\n</phone-settings>\n</settings>\n'


def _registered(pages, browser):
    response, html = browser.post("/register", {"csrf": browser.csrf(), "mac": MAC, "vendor": "snom",
                                               "model": "snomD785", "line1_user": "1001"})
    assert response.code == 200, html


def _load(browser, scope, data):
    return browser.post("/settings/plan", {"csrf": browser.csrf("/settings"), "scope": scope},
                        files={"file": ("settings.xml", "application/xml", data)})


def test_loadPlanApply(pages):
    browser = pages.browser("otto")
    _registered(pages, browser)
    _, before = browser.get(f"/devices/{MAC}")
    response, html = _load(browser, "site", SITE_XML)
    assert response.code == 200, html
    summary = re.search(r'id="plan-summary">([^<]*)<', html).group(1)
    assert "Files of 1 of the 1 phones it covers change" in summary
    assert MAC in html and re.search(r"\+\s*&lt;language[^\n]*Deutsch", html)
    assert _result(pages.store.getLayer("site")) is None  # nothing applied yet
    data = re.search(r'name="data" value="([^"]*)"', html).group(1)
    assert base64.b64decode(data) == SITE_XML
    response, _ = browser.post("/settings/apply", {"csrf": browser.csrf(), "scope": "site", "data": data})
    assert response.code == 303 and response.headers.getRawHeaders("Location") == ["/settings?scope=site"]
    _, html = browser.get("/settings?scope=site")
    assert "files of 1 phones changed" in html and "<td>language</td>" in html
    _, after = browser.get(f"/devices/{MAC}")
    assert "Deutsch" in after and "Deutsch" not in before
    audits = [parseAudit(e) for e in pages.events()]
    assert any(a is not None and a.object == "layer:site" and a.actor == "operator:otto" for a in audits)


def test_brokenFileRefusedWithItsLine(pages):
    browser = pages.browser("otto")
    response, html = _load(browser, "site", BROKEN_XML)
    assert response.code == 400
    error = re.search(r'id="f-file-error"[^>]*>([^<]*)<', html).group(1)
    assert error.startswith("line 3: ")
    assert 'aria-describedby="f-file-hint f-file-error"' in html
    assert _result(pages.store.getLayer("site")) is None


def test_badScopeAndMissingFile(pages):
    browser = pages.browser("otto")
    response, html = _load(browser, "planet:mars", SITE_XML)
    assert response.code == 400 and 'id="f-scope-error"' in html
    response, html = browser.post("/settings/plan", {"csrf": browser.csrf("/settings"), "scope": "site"},
                                  files={"file": ("empty.xml", "application/xml", b"")})
    assert response.code == 400 and "Choose a settings file" in html


def test_damagedPlanRefused(pages):
    browser = pages.browser("otto")
    response, html = browser.post("/settings/apply", {"csrf": browser.csrf(), "scope": "site", "data": "!!"})
    assert response.code == 400 and "load it again" in html
    response, html = browser.post("/settings/apply", {"csrf": browser.csrf(), "scope": "site",
                                                      "data": base64.b64encode(BROKEN_XML).decode()})
    assert response.code == 400 and "line 3: " in html
    assert _result(pages.store.getLayer("site")) is None


def test_deleteLayer(pages):
    pages.store.mergeDevices([DeviceInfo(MAC, vendor="snom", state="seen")])
    browser = pages.browser("otto")
    _, html = _load(browser, "vendor:snom", SITE_XML)
    data = re.search(r'name="data" value="([^"]*)"', html).group(1)
    browser.post("/settings/apply", {"csrf": browser.csrf(), "scope": "vendor:snom", "data": data})
    _, html = browser.get("/settings")
    assert 'href="/settings?scope=vendor:snom"' in html
    response, _ = browser.post("/settings/delete", {"csrf": browser.csrf(), "scope": "vendor:snom"})
    assert response.code == 303 and _result(pages.store.getLayer("vendor:snom")) is None


def _layerRows(html: str) -> dict:
    """
    The shown layer's table: setting name to (value, secret, the buttons'
    texts).
    """
    section = html.split('id="layer"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]:
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        text = [re.sub(r"<[^>]+>", "", cell) for cell in cells]
        rows[text[0]] = (text[2], text[4], re.findall(r"<button[^>]*>([^<]*)</button>", cells[5]))
    return rows


def _secretLayer(pages):
    _result(pages.store.putLayer(SettingsLayer("site", (
        Setting("http_pass", "web-pw-5"), Setting("ntp_server", "10.3.3.3", secret=True),
        Setting("fkey", "line", 2)))))


def _mark(browser, name, secret, idx=""):
    return browser.post("/settings/secrets", {"csrf": browser.csrf("/settings"), "scope": "site", "name": name,
                                              "idx": idx, "secret": secret})


def test_layerShowsSecretsMaskedWithTheirKind(pages):
    """
    The layer's table masks a declared and a marked secret, says which
    kind each is, and offers Mark secret for an unmarked setting and
    Unmark only to an admin.
    """
    _secretLayer(pages)
    _, html = pages.browser("otto").get("/settings?scope=site")
    assert "web-pw-5" not in html and "10.3.3.3" not in html
    assert _layerRows(html) == {"http_pass": ("***", "declared by snom", ["Mark secret"]),
                                "ntp_server": ("***", "marked", []),
                                "fkey": ("line", "no", ["Mark secret"])}
    _, html = pages.browser("ada").get("/settings?scope=site")
    assert _layerRows(html)["ntp_server"] == ("***", "marked", ["Unmark"])
    assert "web-pw-5" not in html


def test_markAndUnmarkFromThePage(pages):
    """
    An operator marks a setting secret from the page (audited); an
    operator's unmark is refused, an admin's done; a missing setting is
    not found.
    """
    _secretLayer(pages)
    otto = pages.browser("otto")
    response, _ = _mark(otto, "fkey", "true", "2")
    assert response.code == 303 and response.headers.getRawHeaders("Location") == ["/settings?scope=site"]
    assert _result(pages.store.getLayer("site")).settings[2] == Setting("fkey", "line", 2, secret=True)
    _, html = otto.get("/settings?scope=site")
    assert "Marked fkey[2] secret in layer site." in html and _layerRows(html)["fkey"] == ("***", "marked", [])
    response, html = _mark(otto, "ntp_server", "false")
    assert response.code == 403 and "admin" in html
    assert _result(pages.store.getLayer("site")).settings[1].secret
    ada = pages.browser("ada")
    response, _ = _mark(ada, "ntp_server", "false")
    assert response.code == 303 and not _result(pages.store.getLayer("site")).settings[1].secret
    response, html = _mark(otto, "fkey", "true", "7")
    assert response.code == 404 and "no setting fkey[7] in the layer site" in html
    response, _ = _mark(otto, "fkey", "true", "x")
    assert response.code == 400
    vera = pages.browser("vera")
    response, html = vera.post("/settings/secrets", {"csrf": vera.csrf(), "scope": "site", "name": "http_pass",
                                                     "secret": "true"})
    assert response.code == 403 and "needs the role operator" in html
    summaries = [a.summary.split(";")[0] for a in map(parseAudit, pages.events())
                 if a is not None and a.object == "layer:site"]
    assert sorted(summaries) == ["marked fkey[2] secret", "unmarked ntp_server secret"]
