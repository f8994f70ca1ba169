"""
Tests for L{snomprov.operations.imports}: a devices CSV file imported all
or nothing, every bad row named, audited in the same transaction, against
each store backend.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer

from snomprov.audit import Audit, parseAudit
from snomprov.operations import imports
from snomprov.operations.errors import Refused
from snomprov.registry import VendorRegistry
from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor

from test_store import snapshot, store  # noqa: F401

REGISTRY = VendorRegistry([snomVendor, linksysVendor])

GOOD = (
    "mac,vendor,model,line,user,password,display_name,registrar\n"
    "0004.1392.2d24,snom,snomD785,1,100,secret1,Alice,pbx.example.com\n"
    "00:04:13:92:2D:24,snom,snomD785,2,101,secret2,Alice 2,pbx.example.com\n"
    "000E08AABBCC,Linksys,,1,200,secret3,Bob,pbx.example.com\n"
)


def run(coroutine):
    return defer.ensureDeferred(coroutine)


@pytest_twisted.inlineCallbacks
def test_importThenAgain(store):
    """
    A good file registers its devices and lines and is audited; the same
    file again changes nothing.
    """
    first = yield run(imports.importCSV(store, REGISTRY, "operator:otto", 5.0, GOOD.encode("utf-8-sig"),
                                        "devices.csv"))
    assert first == imports.Imported(devices=2, lines=3, changed=True)
    assert [d.mac for d in (yield store.listDevices())] == ["000413922D24", "000E08AABBCC"]
    assert [line.user for line in (yield store.getLines("000413922D24"))] == ["100", "101"]
    again = yield run(imports.importCSV(store, REGISTRY, "cli", 6.0, GOOD, "devices.csv"))
    assert again == imports.Imported(devices=2, lines=3, changed=False)
    events = yield store.listEvents(limit=10)
    assert [parseAudit(e) for e in reversed(events)] == [
        Audit("operator:otto", "import:devices.csv", "2 devices with 3 lines"),
        Audit("cli", "import:devices.csv", "2 devices with 3 lines"),
    ]
    assert "secret" not in " ".join(e.detail for e in events)


@pytest_twisted.inlineCallbacks
def test_badFileRefusedWholeEveryRowNamed(store):
    """
    A file with bad rows changes nothing, and its refusal names every bad
    row's line, never a password.
    """
    before = yield snapshot(store)
    bad = GOOD + "zz:zz,snom,,1,1,topsecret,x,r\n000413922D25,acme,,1,1,p,x,r\n000413922D26,snom,,0,,p,x,r\n"
    with pytest.raises(Refused) as caught:
        yield run(imports.importCSV(store, REGISTRY, "cli", 5.0, bad, "d.csv"))
    refused = caught.value
    assert [p.line for p in refused.problems] == [5, 6, 7, 7]
    assert "bad MAC 'zz:zz'" == refused.problems[0].message
    assert str(refused) == "d.csv: 4 problems; nothing was imported"
    assert "topsecret" not in repr([str(refused), *refused.problems])
    assert (yield snapshot(store)) == before


@pytest.mark.parametrize("data,message,line", [
    (b"mac,vendor\n\xff\n", "not UTF-8 text", 2),
    (b"", "no header row", None),
])
@pytest_twisted.inlineCallbacks
def test_unreadableFiles(store, data, message, line):
    with pytest.raises(Refused) as caught:
        yield run(imports.importCSV(store, REGISTRY, "cli", 5.0, data, "d.csv"))
    assert message in caught.value.problems[0].message
    assert caught.value.problems[0].line == line


def test_sizeBounded():
    with pytest.raises(Refused, match="the limit is"):
        imports.decodeCSV(b"x" * (imports.MAX_CSV + 1), "big.csv")


@pytest_twisted.inlineCallbacks
def test_emptyPasswordsGeneratedOnceThenKept(store):
    """
    A row without a password gets a strong generated one, answered once
    (never in the audit); importing the same file again keeps it and changes
    nothing; a row with a password sets it.
    """
    text = ("mac,vendor,model,line,user,password,display_name,registrar\n"
            "000413922D24,snom,snomD785,1,100,,Alice,pbx.example.com\n"
            "000413922D24,snom,snomD785,2,101,given,Alice 2,pbx.example.com\n")
    first = yield run(imports.importCSV(store, REGISTRY, "cli", 5.0, text, "devices.csv"))
    (generated,) = first.generated
    mac, index, password = generated
    assert (mac, index) == ("000413922D24", 1) and len(password) >= 20
    assert password not in repr(first)
    lines = yield store.getLines(mac)
    assert [line.password for line in lines] == [password, "given"]
    again = yield run(imports.importCSV(store, REGISTRY, "cli", 6.0, text, "devices.csv"))
    assert (again.changed, again.generated) == (False, ())
    assert [line.password for line in (yield store.getLines(mac))] == [password, "given"]
    other = yield run(imports.importCSV(store, REGISTRY, "cli", 7.0, text.replace("000413922D24", "000413922D25"),
                                        "more.csv"))
    assert other.generated[0][2] != password
    events = yield store.listEvents(limit=10)
    assert password not in " ".join(e.detail for e in events)
