"""
Tests for L{snomprov.web.pages.imports} and L{snomprov.web.pages.users}
(the L{test_pages} harness): a CSV uploaded from the page, every bad row
in a table by its line, generated passwords shown once; operators and
tokens managed by an admin.
"""

from __future__ import annotations

import re

from test_pages import _result, pages  # noqa: F401 (the fixture)

from snomprov.accounts import tokenHash
from snomprov.audit import parseAudit

HEADER = "mac,vendor,model,line,user,password,display_name,registrar\n"


def phonesCSV(count: int, password: str = "") -> bytes:
    return (HEADER + "".join(f"000413{n:06X},snom,snomD785,1,{1000 + n},{password},Phone {n},pbx.example.org\n"
                             for n in range(count))).encode()


def _upload(browser, data: bytes, name: str = "phones.csv"):
    return browser.post("/import", {"csrf": browser.csrf("/import")},
                        files={"file": (name, "text/csv", data)})


def test_importTwoHundredPhones(pages):
    browser = pages.browser("otto")
    response, html = _upload(browser, phonesCSV(200))
    assert response.code == 200, html
    assert re.search(r'id="imported">phones.csv: 200 devices with 200 lines imported.<', html)
    assert len(re.findall(r'<span class="secret">', html)) == 200
    assert len(_result(pages.store.listDevices())) == 200
    audits = [parseAudit(e) for e in pages.events()]
    assert any(a is not None and a.object == "import:phones.csv" and a.actor == "operator:otto" for a in audits)
    response, html = _upload(browser, phonesCSV(200))
    assert "nothing changed" in html and 'class="secret"' not in html


def test_everyBadRowInATable(pages):
    browser = pages.browser("otto")
    data = HEADER + "000413000001,snom,snomD785,1,1001,,A,pbx\nnot-a-mac,snom,,1,1002,,B,pbx\n" \
        "000413000003,nokia,,1,1003,,C,pbx\n000413000004,snom,,x,1004,,D,pbx\n"
    response, html = _upload(browser, data.encode())
    assert response.code == 400
    table = html.split('id="problems"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>(\d+)</td>", table) == ["3", "4", "5"]
    assert _result(pages.store.listDevices()) == []
    response, html = _upload(browser, b"\xff\xfe bad")
    assert response.code == 400 and "not UTF-8" in html


def test_usersAndTokens(pages):
    browser = pages.browser("ada")
    response, _ = browser.post("/users/add", {"csrf": browser.csrf(), "name": "nina", "password": "nina-pw",
                                             "role": "viewer"})
    assert response.code == 303
    assert _result(pages.store.getOperator("nina")).role == "viewer"
    response, html = browser.post("/users/add", {"csrf": browser.csrf(), "name": "nina", "password": "x",
                                                "role": "viewer"})
    assert response.code == 400 and 'id="f-name-error"' in html and "exists already" in html
    response, html = browser.post("/tokens/add", {"csrf": browser.csrf(), "token": "ci", "role": "operator"})
    secret = re.search(r'id="token-secret">([^<]+)<', html).group(1)
    assert _result(pages.store.findToken(tokenHash(secret))).name == "ci"
    _, html = browser.get("/users")
    assert secret not in html and "<td>ci</td>" in html
    browser.post("/tokens/revoke", {"csrf": browser.csrf(), "name": "ci"})
    assert _result(pages.store.findToken(tokenHash(secret))) is None
    nina = pages.browser()
    assert nina.logIn("nina", "nina-pw")[0].code == 303
    assert nina.get("/")[0].code == 200
    browser.post("/users/remove", {"csrf": browser.csrf(), "name": "nina"})
    assert _result(pages.store.getOperator("nina")) is None
    assert nina.get("/")[0].code == 303
    response, html = browser.post("/users/remove", {"csrf": browser.csrf(), "name": "ada"})
    assert response.code == 400 and _result(pages.store.getOperator("ada")) is not None
