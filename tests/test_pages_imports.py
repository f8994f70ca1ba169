"""
Tests for L{snomprov.web.pages.imports} and L{snomprov.web.pages.users}
(the L{test_pages} harness): a CSV uploaded from the page, every bad row
in a table by its line, generated passwords shown once; operators and
tokens managed by an admin.
"""

from __future__ import annotations

import json
import re

from twisted.web.test.requesthelper import DummyRequest

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


def _job(html: str) -> str:
    return re.search(r'data-result="/import/([^"]+)"', html).group(1)


def _sse(request) -> list[tuple[str, dict]]:
    text = b"".join(request.written).decode()
    return [(block.split("\n")[0].removeprefix("event: "), json.loads(block.split("\ndata: ")[1]))
            for block in text.split("\n\n") if block.startswith("event: ")]


def _turn(clock) -> None:
    """
    One turn of the reactor: the first call due runs, not those it
    schedules for now (C{Clock.advance(0)} would run them all).
    """
    due = sorted((c for c in clock.getDelayedCalls() if c.getTime() <= clock.seconds()), key=lambda c: c.getTime())
    assert due, "nothing is waiting for the reactor"
    clock.calls.remove(due[0])
    due[0].called = 1
    due[0].func(*due[0].args, **due[0].kw)


def test_largeImportShowsItsProgress(pages):
    """
    A 1,600-row import runs a chunk per turn of the reactor: the upload is
    answered at once with how far it is, other pages answer meanwhile, a
    stream follows each step, and the job's page then shows the result
    once, to the operator who started it only.
    """
    browser = pages.browser("otto")
    response, html = _upload(browser, phonesCSV(1600))
    assert response.code == 200, html
    assert "Checking rows: 500 of 1,600" in html and 'value="500" max="1600"' in html
    job = _job(html)
    assert f'http-equiv="refresh" content="2; url=/import/{job}"' in html
    assert browser.get("/devices")[0].code == 200  # the reactor is not held
    assert _result(pages.store.listDevices()) == []
    stream = DummyRequest([b"import", job.encode(), b"stream"])
    pages.resource.services["imports"].follow(pages.resource.services["imports"].jobs[job], stream)
    _turn(pages.clock)
    _, html = browser.get(f"/import/{job}")
    assert "Checking rows: 1,000 of 1,600" in html and 'id="imported"' not in html
    assert pages.browser("ada").get(f"/import/{job}")[0].code == 404  # not hers
    pages.clock.advance(0)
    assert stream.finished
    steps = _sse(stream)
    assert [kind for kind, _ in steps][-1] == "done"
    texts = [data["text"] for kind, data in steps if kind == "progress"]
    assert texts == ["Checking rows: 500 of 1,600", "Checking rows: 1,000 of 1,600", "Checking rows: 1,500 of 1,600",
                     "Reading stored passwords: 500 of 1,600 devices",
                     "Reading stored passwords: 1,000 of 1,600 devices",
                     "Reading stored passwords: 1,500 of 1,600 devices", "Writing 1,600 devices (one transaction)…"]
    assert len(_result(pages.store.listDevices())) == 1600
    response, html = browser.get(f"/import/{job}")
    assert response.code == 200 and "1600 devices with 1600 lines imported." in html
    assert len(re.findall(r'<span class="secret">', html)) == 1600
    response, html = browser.get(f"/import/{job}")
    assert response.code == 404 and "shown once" in html


def test_refusedAndUnshownImports(pages):
    """
    A large bad file is refused at the end of its checks with every bad
    row; a result never looked at is dropped after RESULT_KEPT.
    """
    from snomprov.web.pages.importjobs import RESULT_KEPT

    browser = pages.browser("otto")
    bad = phonesCSV(1200).replace(b"000413000457,", b"00041300045Z,")
    response, html = _upload(browser, bad)
    job = _job(html)
    pages.clock.advance(0)
    response, html = browser.get(f"/import/{job}")
    assert response.code == 400
    table = html.split('id="problems"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>(\d+)</td>", table) == [str(0x457 + 2)]
    _, html = _upload(browser, phonesCSV(600))
    job = _job(html)
    pages.clock.advance(0)
    assert len(_result(pages.store.listDevices())) == 600
    pages.clock.advance(RESULT_KEPT)
    assert pages.browser("otto").get(f"/import/{job}")[0].code == 404


def test_importJobsBounded():
    """
    At most maxJobs imports are kept: with every one under way a new one is
    refused; then a finished one (its result not yet shown) makes room.
    """
    from twisted.internet import defer
    from twisted.internet.task import Clock

    from snomprov.operations.imports import Imported
    from snomprov.web.pages.importjobs import ImportJobs

    jobs = ImportJobs(Clock(), maxJobs=2)
    waiting = [defer.Deferred(), defer.Deferred()]
    first, second = (jobs.start("operator:otto", f"{n}.csv", lambda progress, d=d: d) for n, d in enumerate(waiting))
    assert jobs.start("operator:otto", "2.csv", lambda progress: defer.Deferred()) is None
    waiting[0].callback(Imported(1, 1, True))
    assert first.finished and not second.finished
    third = jobs.start("operator:otto", "3.csv", lambda progress: defer.succeed(Imported(2, 2, True)))
    assert third is not None and set(jobs.jobs) == {second.id, third.id}
    assert jobs.find("operator:otto", third.id) is third and jobs.find("operator:ada", third.id) is None
