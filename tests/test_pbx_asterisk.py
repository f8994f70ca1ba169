"""
Tests for the C{asterisk-pjsip} sink (L{snomprov.pbx.asterisk},
L{snomprov.pbx.pjsipfile}).  Debian 12 has no C{asterisk} package: the file
is checked against Asterisk's documented PJSIP sections (the hand-written
C{tests/fixtures/pbx/asterisk-3x2.conf}), not by a running Asterisk.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, task

from snomprov.device import DeviceInfo, Line
from snomprov.pbx.account import AccountChange, SIPAccount, accountFor
from snomprov.pbx.asterisk import AsteriskPJSIPSink, ReloadFailed
from snomprov.pbx.pjsipfile import TRAILER, formatAccounts, parseAccounts
from snomprov.pbx.sync import AccountSync
from snomprov.store.memory import MemoryDeviceStore

FIXTURE = Path(__file__).parent / "fixtures" / "pbx" / "asterisk-3x2.conf"

PHONES = {
    "000413922D24": (
        Line(index=1, user="1001", password="pw-1001-a", displayName="Alice Example", registrar="pbx.example.org"),
        Line(index=2, user="2002", authUser="a2002", password="x;y", registrar="pbx.example.org"),
    ),
    "000413A0B0C1": (
        Line(index=1, user="1101", password="Tr0ub4dor", displayName="Bob", registrar="pbx.example.org"),
        Line(index=2, user="1102", password="correct-horse", displayName="Bob (2)", registrar="pbx.example.org"),
    ),
    "0004F2112233": (
        Line(index=1, user="1201", password="battery-staple", displayName="Carol", registrar="10.0.0.5"),
        Line(index=2, user="1202", password="s3cr3t", displayName="Carol", registrar="10.0.0.5"),
    ),
}


def registered():
    store = MemoryDeviceStore()
    for mac, lines in PHONES.items():
        store.writeDevice(DeviceInfo(mac=mac, vendor="snom", model="snomD785"), lines)
    return store


def test_threeByTwoMatchesFixture(tmp_path):
    path = tmp_path / "pjsip_snomprov.conf"
    sink = AsteriskPJSIPSink("asterisk-pjsip", str(path), (), "", task.Clock())
    service = AccountSync(lambda: defer.succeed(registered()), [sink], task.Clock())
    service.startService()
    assert path.read_text() == FIXTURE.read_text()
    service.stopService()


def test_readBack(tmp_path):
    path = tmp_path / "pjsip_snomprov.conf"
    path.write_text(FIXTURE.read_text())
    sink = AsteriskPJSIPSink("asterisk-pjsip", str(path), (), "", task.Clock())
    held = sink.accounts().result
    expected = {}
    for mac, lines in PHONES.items():
        for line in lines:
            account = accountFor(mac, line, line.registrar)
            expected[(account.username, account.domain)] = account
    assert held == expected
    assert held[("a2002", "pbx.example.org")].password == "x;y"
    assert not any(sink.differs(expected[key], held[key]) for key in held)


def test_applyBuildsOnTheFile(tmp_path):
    """
    A new sink on an existing file keeps its accounts; a change replaces
    one line's, a removal drops it, a rename drops the old name.
    """
    path = tmp_path / "p.conf"
    path.write_text(FIXTURE.read_text())
    sink = AsteriskPJSIPSink("asterisk-pjsip", str(path), (), "", task.Clock())
    new = SIPAccount("000413922D24", 1, "1001", "pbx.example.org", "changed", "1001", "Alice Example")
    renamed = SIPAccount("000413A0B0C1", 1, "1109", "pbx.example.org", "pw", "1109", "Bob")
    sink.apply([AccountChange("000413922D24", 1, 10, new, "1001"),
                AccountChange("000413922D24", 2, 11, None, "a2002"),
                AccountChange("000413A0B0C1", 1, 12, renamed, "1101")]).result
    held = parseAccounts(path.read_text())
    assert sorted(held) == ["1001", "1102", "1109", "1201", "1202"]
    assert held["1001"].password == "changed"
    assert "[1101]" not in path.read_text()


def test_noPasswordInRepr(tmp_path):
    sink = AsteriskPJSIPSink("a", str(tmp_path / "p.conf"), (), "", task.Clock())
    sink.apply([AccountChange("000413922D24", 1, 1, SIPAccount("000413922D24", 1, "u", "d", "hunter2"))])
    assert "hunter2" not in repr(sink.accounts().result)


def test_unsafeUserLeftOut():
    text = formatAccounts("a", [SIPAccount("000413922D24", 1, "bad]user", "d", "p", "bad]user")])
    assert "[bad]user]" not in text and "left out: line 1 of 000413922D24" in text
    assert parseAccounts(text) == {}


def test_readerNeverSeesPartialFile(tmp_path):
    path = tmp_path / "p.conf"
    sink = AsteriskPJSIPSink("a", str(path), (), "", task.Clock())
    sink.apply([]).result
    stop = threading.Event()
    seen = {"reads": 0, "partial": 0}

    def read():
        while not stop.is_set():
            with open(path, encoding="utf-8") as f:
                text = f.read()
            seen["reads"] += 1
            if not text.endswith(TRAILER + "\n") or not text.startswith("; Written by snomprov"):
                seen["partial"] += 1

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(100):
            accounts = [SIPAccount("000413922D24", i, f"u{n}-{i}", "d", "p" * 200, f"u{n}-{i}", "x" * 100)
                        for i in range(1, 1 + n % 40)]
            sink.apply([AccountChange(a.mac, a.index, n, a) for a in accounts]).result
    finally:
        stop.set()
        reader.join()
    assert seen["reads"] > 0 and seen["partial"] == 0
    assert [name for name in os.listdir(tmp_path)] == ["p.conf"]  # no temporary left


@pytest_twisted.inlineCallbacks
def test_reloadArgvWithoutShell(tmp_path):
    from twisted.internet import reactor

    out = tmp_path / "argv"
    script = "import sys; open(sys.argv[1], 'w').write(repr(sys.argv[2:]))"
    argv = [sys.executable, "-c", script, str(out), "a b; echo x", "$HOME", "*"]
    sink = AsteriskPJSIPSink("a", str(tmp_path / "p.conf"), argv, "", reactor)
    yield sink.apply([])
    assert out.read_text() == repr(["a b; echo x", "$HOME", "*"])


@pytest_twisted.inlineCallbacks
def test_reloadFailureAndTimeout(tmp_path):
    from twisted.internet import reactor

    failing = AsteriskPJSIPSink("a", str(tmp_path / "p.conf"),
                                [sys.executable, "-c", "import sys; print('no asterisk'); sys.exit(3)"], "", reactor)
    with pytest.raises(ReloadFailed) as e:
        yield failing.apply([])
    assert "no asterisk" in str(e.value)
    slow = AsteriskPJSIPSink("a", str(tmp_path / "p.conf"),
                             [sys.executable, "-c", "import time; time.sleep(30)"], "", reactor, timeout=0.2)
    with pytest.raises(ReloadFailed) as e:
        yield slow.apply([])
    assert "did not end" in str(e.value)


def test_unwritableDirectoryFails(tmp_path):
    sink = AsteriskPJSIPSink("a", str(tmp_path / "missing" / "p.conf"), (), "", task.Clock())
    failure = []
    sink.apply([]).addErrback(failure.append)
    assert failure and failure[0].check(OSError)


def test_providesIAccountSink(tmp_path):
    from zope.interface.verify import verifyObject

    from snomprov.interfaces import IAccountSink

    assert verifyObject(IAccountSink, AsteriskPJSIPSink("a", str(tmp_path / "p.conf"), (), "", task.Clock()))


def test_handEditSeenByApply(tmp_path):
    """
    The file is the state: an account added to it by another writer (C{pbx
    sync}) is kept by the next C{apply}.
    """
    path = tmp_path / "p.conf"
    sink = AsteriskPJSIPSink("a", str(path), (), "", task.Clock())
    other = AsteriskPJSIPSink("a", str(path), (), "", task.Clock())
    other.apply([AccountChange("000413922D24", 1, 1, SIPAccount("000413922D24", 1, "u1", "d", "p", "u1"))])
    sink.apply([AccountChange("000413922D24", 2, 2, SIPAccount("000413922D24", 2, "u2", "d", "p", "u2"))])
    assert sorted(parseAccounts(path.read_text())) == ["u1", "u2"]
