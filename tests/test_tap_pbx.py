"""
Tests for the C{pbx} child of L{snomprov.tap} (L{snomprov.pbx.sync}
wired by C{[[pbx]]} tables), inspected without binding anything; and a
real daemon applying a command-line import to an C{asterisk-pjsip} file.
"""

import time

import pytest
from twisted.internet.testing import MemoryReactorClock

from snomprov.pbx.asterisk import AsteriskPJSIPSink
from snomprov.pbx.sync import AccountSync
from snomprov.tap import Options, makeService

from daemon import Daemon


def options(tmp_path, text):
    path = tmp_path / "snomprov.toml"
    path.write_text(text)
    o = Options()
    o.parseOptions(["--data-dir", str(tmp_path / "var"), "--config", str(path), "--no-sip", "--no-tftp"])
    return o


def test_noTablesNoChild(tmp_path):
    service = makeService(options(tmp_path, ""), reactor=MemoryReactorClock())
    assert "pbx" not in [child.name for child in service]


def test_pbxChild(tmp_path):
    text = '[[pbx]]\nkind = "asterisk-pjsip"\npath = "a.conf"\n[[pbx]]\nkind = "asterisk-pjsip"\npath = "b.conf"\n'
    service = makeService(options(tmp_path, text), reactor=MemoryReactorClock())
    names = [child.name for child in service]
    assert names[:4] == ["store", "recorder", "retention", "pbx"]
    sync = service.getServiceNamed("pbx")
    assert isinstance(sync, AccountSync)
    assert [(type(s), s.name, s.path) for s in sync.sinks] == [
        (AsteriskPJSIPSink, "asterisk-pjsip", str(tmp_path / "a.conf")),
        (AsteriskPJSIPSink, "asterisk-pjsip-2", str(tmp_path / "b.conf"))]


def test_missingSinkModuleStopsTheStart(tmp_path, capsys, monkeypatch):
    from snomprov.pbx import sync

    monkeypatch.setitem(sync._FACTORIES, "kamailio", ("snomprov.pbx.nosuchmodule", "KamailioSink", lambda c: ()))
    text = '[[pbx]]\nkind = "kamailio"\nurl = "postgresql://k:pw@127.0.0.1/k"\ndomain = "d"\n'
    with pytest.raises(SystemExit) as e:
        makeService(options(tmp_path, text), reactor=MemoryReactorClock())
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "[[pbx]] kamailio" in err and "pw" not in err


def test_unusableSinkURLStopsTheStart(tmp_path, capsys):
    """
    A Kamailio URL the sink cannot use (no database named) stops the start
    with one line naming the table, without the URL's password.
    """
    text = '[[pbx]]\nkind = "kamailio"\nurl = "postgresql://k:hunter2@127.0.0.1"\ndomain = "d"\n'
    with pytest.raises(SystemExit) as e:
        makeService(options(tmp_path, text), reactor=MemoryReactorClock())
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "[[pbx]] kamailio" in err and "hunter2" not in err


def test_daemonAppliesACommandLineImport(tmp_path):
    """
    A line registered by another process (the command line) reaches the
    running daemon's sink on its poll; a password change too.
    """
    conf = tmp_path / "pjsip_snomprov.conf"
    daemon = Daemon(tmp_path, sip=False, tftp=False,
                    extraConfig=f'[[pbx]]\nkind = "asterisk-pjsip"\npath = "{conf}"\n')
    header = "mac,vendor,model,line,user,password,display_name,registrar\n"
    with daemon.start():
        daemon.importCSV(header + "000413922D24,snom,snomD785,1,100,secret1,Alice,pbx.example.com\n")
        _waitFor(lambda: conf.exists() and "password=secret1" in conf.read_text())
        daemon.importCSV(header + "000413922D24,snom,snomD785,1,100,secret2,Alice,pbx.example.com\n")
        _waitFor(lambda: "password=secret2" in conf.read_text())
        assert "secret" not in daemon.log()


def _waitFor(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)
