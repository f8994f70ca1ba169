"""
Tests for C{snomprov pbx sync [--dry-run]} (L{snomprov.pbx.reconcile},
L{snomprov.commands.pbx}): on a fake sink, and as users run it on an
C{asterisk-pjsip} file edited by hand.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from twisted.internet import defer

sys.path.insert(0, str(Path(__file__).parent))

from snomprov.device import DeviceInfo, Line  # noqa: E402
from snomprov.pbx.account import SIPAccount  # noqa: E402
from snomprov.pbx.reconcile import reconcile  # noqa: E402
from snomprov.store.memory import MemoryDeviceStore  # noqa: E402

from daemon import Daemon  # noqa: E402
from test_pbx_sync import FakeSink  # noqa: E402
from test_store import MAC1, MAC2  # noqa: E402


def filled():
    store = MemoryDeviceStore()
    store.writeDevice(DeviceInfo(mac=MAC1, vendor="snom"), (Line(1, "alice", "pa"), Line(2, "bob", "pb")))
    store.writeDevice(DeviceInfo(mac=MAC2, vendor="snom"), (Line(1, "carol", "pc"),))
    return store


def run(store, sinks, dryRun):
    lines = []
    result = defer.ensureDeferred(reconcile(store, sinks, dryRun, lines.append))
    return result.result, lines


def test_reportsEachDifference():
    store = filled()
    sink = FakeSink()
    d = "pbx.example.org"
    sink.held = {"alice": SIPAccount(MAC1, 1, "alice", d, "pa", "alice"),
                 "carol": SIPAccount(MAC2, 1, "carol", d, "changed", "carol"),
                 "mallory": SIPAccount("", 0, "mallory", d, "x", "mallory")}
    (found, failed), lines = run(store, [sink], dryRun=True)
    assert lines == ["fake: bob@pbx.example.org: missing", "fake: carol@pbx.example.org: different",
                     "fake: mallory@pbx.example.org: extra"]
    assert failed == [] and sink.attempts == 0
    (found, failed), lines = run(store, [sink], dryRun=False)
    assert len(found) == 3 and lines[-1] == "fake: applied 3 accounts, removed 1"
    assert sorted(sink.held) == ["alice", "bob", "carol"] and sink.held["carol"].password == "pc"
    assert store.accountBacklog(["fake"]).result == {"fake": 0}
    (found, failed), lines = run(store, [sink], dryRun=True)
    assert found == [] and lines == []


def test_failingSinkReported():
    store = filled()
    up, down = FakeSink("up"), FakeSink("down")
    down.down = True
    (found, failed), lines = run(store, [down, up], dryRun=False)
    assert failed == ["down: cannot apply: ConnectionRefusedError: database s3cret-free error"]
    assert store.accountBacklog(["up", "down"]).result == {"up": 0, "down": 3}


def test_tombstonesMarkedApplied():
    store = filled()
    sink = FakeSink()
    store.deleteDevice(MAC2)
    run(store, [sink], dryRun=False)
    assert store.accountBacklog(["fake"]).result == {"fake": 0}


CSV = (
    "mac,vendor,model,line,user,password,display_name,registrar\n"
    "000413922D24,snom,snomD785,1,100,secret1,Alice,pbx.example.com\n"
    "000413922D24,snom,snomD785,2,101,secret2,Alice 2,pbx.example.com\n"
)


@pytest.fixture
def cli(tmp_path):
    conf = tmp_path / "pjsip_snomprov.conf"
    return Daemon(tmp_path, sip=False, tftp=False,
                  extraConfig=f'[[pbx]]\nkind = "asterisk-pjsip"\npath = "{conf}"\n'), conf


def test_cliOnAsteriskFileEditedByHand(cli):
    daemon, conf = cli
    daemon.importCSV(CSV)
    result = daemon.run("pbx", "sync", "--dry-run")
    assert (result.returncode, result.stdout) == (1, "asterisk-pjsip: 100@pbx.example.com: missing\n"
                                                     "asterisk-pjsip: 101@pbx.example.com: missing\n")
    assert not conf.exists()
    result = daemon.run("pbx", "sync")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "asterisk-pjsip: applied 2 accounts, removed 0"
    result = daemon.run("pbx", "sync", "--dry-run")
    assert (result.returncode, result.stdout) == (0, "every sink is in sync\n")
    # By hand: a password changed, line 2's sections gone, one added.
    text = conf.read_text().replace("password=secret1", "password=guess")
    text = re.sub(r"; Alice 2, line 2.*?max_contacts=1\n", "", text, flags=re.S)
    text += ("[snomprov-0004139999AA-1]\ntype=auth\nauth_type=userpass\nusername=999\npassword=x\n"
             "realm=pbx.example.com\n")
    conf.write_text(text)
    result = daemon.run("pbx", "sync", "--dry-run")
    assert (result.returncode, result.stdout) == (1, "asterisk-pjsip: 100@pbx.example.com: different\n"
                                                     "asterisk-pjsip: 101@pbx.example.com: missing\n"
                                                     "asterisk-pjsip: 999@pbx.example.com: extra\n")
    assert "secret" not in result.stdout + result.stderr
    result = daemon.run("pbx", "sync")
    assert result.returncode == 0, result.stderr
    assert "applied 2 accounts, removed 1" in result.stdout
    assert "password=secret1" in conf.read_text() and "999" not in conf.read_text()
    assert daemon.run("pbx", "sync", "--dry-run").stdout == "every sink is in sync\n"


def test_cliNoTables(tmp_path):
    result = Daemon(tmp_path, sip=False, tftp=False).run("pbx", "sync", "--dry-run")
    assert (result.returncode, result.stdout) == (0, "no [[pbx]] tables: nothing to sync\n")
