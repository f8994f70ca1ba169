"""
C{snomprov resync --stale | --all [--rate N]} run as users run it (a child
process), against phones played by UDP sockets.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import threading

import pytest
import pytest_twisted

from snomprov.sip.message import parseMessage

from daemon import ROOT, Daemon, userEnv
from test_push import _sender, _storePhone, answer


@pytest.fixture
def cli(tmp_path):
    return Daemon(tmp_path, sip=False, tftp=False)


class AnsweringPhone:
    """
    A UDP socket that answers every NOTIFY with 200, in a thread.
    """

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.notifies = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.socket.recvfrom(65535)[0]
            except (socket.timeout, OSError):
                continue
            notify = parseMessage(data)
            self.notifies.append(notify)
            self.socket.sendto(answer(notify), _sender(notify))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.mark.parametrize("args", [[], ["000413ABCDEF", "--all"], ["--stale", "--all"], ["--all", "--rate", "0"]])
def test_badArguments(cli, args):
    """
    A push names exactly one of a MAC, C{--stale} and C{--all}, and a rate
    above 0: else one line and exit 2.
    """
    result = cli.run("import", "/dev/null")
    result = cli.run("resync", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1


@pytest_twisted.inlineCallbacks
def test_staleNoneToPush(cli):
    """
    C{--stale} with no stale phone says so and exits 0.
    """
    yield _storePhone(cli.configPath, "000413ABCDE0", ("127.0.0.1", 9))
    result = cli.run("resync", "--stale")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no phones to push\n"


@pytest_twisted.inlineCallbacks
def test_allPushesEveryPhone(cli, tmp_path):
    """
    C{--all} NOTIFYs every phone, one line per send and per outcome; the
    outcomes are events, with one audit event of the actor C{cli}.
    """
    phone = AnsweringPhone()
    macs = ["000413ABCDE1", "000413ABCDE2"]
    try:
        for mac in macs:
            yield _storePhone(cli.configPath, mac, ("127.0.0.1", phone.port))
        result = subprocess.run(cli.command("resync", "--all", "--rate", "50"), cwd=ROOT, env=userEnv(),
                                capture_output=True, text=True, timeout=60)
    finally:
        phone.close()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for mac in macs:
        assert f"{mac}: NOTIFY to 127.0.0.1:{phone.port} sent (Event: check-sync;reboot=false); " \
               "waiting up to 32 s for an answer" in lines
        assert f"{mac}: NOTIFY to 127.0.0.1:{phone.port}: acked" in lines
    assert len(phone.notifies) == 2
    with sqlite3.connect(tmp_path / "var" / "snomprov.sqlite") as db:
        rows = db.execute("SELECT mac, kind, detail FROM events ORDER BY id").fetchall()
    assert [kind for _, kind, _ in rows].count("resync-sent") == 2
    audits = [detail for _, kind, detail in rows if kind == "audit"]
    assert audits == ["cli resync:all: 2 queued at 50/s, 0 skipped"]
