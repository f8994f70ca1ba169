"""
kill -9 (issue 15, faults): the real daemon (or the command line) killed
at the worst moments, then started again on the same store.

- during a 5,000-row CSV import (the API's and C{snomprov import}'s): the
  store holds all of it, with its audit event, or none of it;
- during a boot storm: every event the store had committed before the kill
  (seen by a reader of its own, a second SQLite connection, which sees
  only committed transactions) is still there, unchanged;
- during a PBX sink backlog (an C{asterisk-pjsip} sink whose reload hangs,
  so the daemon is killed inside the sink's C{apply}): on restart the
  backlog resumes and every line reaches the sink's file.

The store is SQLite in WAL mode with C{synchronous=FULL} (what makes an
acknowledged write survive); each test kills at several points.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from bench._phones import boot, devicesCSV, macOf
from daemon import ROOT, Daemon, _env

pytestmark = pytest.mark.slow

ADMIN = ("admin", "admin-secret")
ROWS = 5000


def _storePath(daemon: Daemon) -> str:
    return os.path.join(daemon.directory, "var", "snomprov.sqlite")


def _walSize(daemon: Daemon) -> int:
    try:
        return os.path.getsize(_storePath(daemon) + "-wal")
    except FileNotFoundError:
        return 0


def _read(daemon: Daemon, sql: str, args=()) -> list[tuple]:
    """
    Rows of C{sql} on a connection of our own: only what was committed.
    """
    connection = sqlite3.connect(f"file:{_storePath(daemon)}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def _kill(daemon: Daemon) -> None:
    """
    SIGKILL: no shutdown, no flush, no close.
    """
    daemon.process.kill()
    daemon.process.wait()


def _api(daemon: Daemon, method: str, path: str, data: bytes | None = None,
         contentType: str = "application/json", timeout: float = 120) -> tuple[int, dict | None]:
    token = base64.b64encode(":".join(ADMIN).encode()).decode()
    request = urllib.request.Request(daemon.baseURL + path, method=method, data=data,
                                     headers={"Authorization": f"Basic {token}", "Content-Type": contentType})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read()
            return answer.status, json.loads(body) if body else None
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body else None


def _watchWAL(daemon: Daemon, before: int, done: threading.Event, timeout: float = 60) -> bool:
    """
    Wait until the WAL file grows past C{before} (the import's transaction
    is being written) or C{done} is set; whether it grew.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done.is_set():
        if _walSize(daemon) > before:
            return True
        time.sleep(0.0005)
    return False


def _importedCounts(daemon: Daemon, first: int) -> tuple[int, int, int]:
    """
    (devices, lines, audit events) of the import of phones C{first}... .
    """
    low, high = macOf(first), macOf(first + ROWS - 1)
    [(devices,)] = _read(daemon, "SELECT count(*) FROM devices WHERE mac BETWEEN ? AND ?", (low, high))
    [(lines,)] = _read(daemon, "SELECT count(*) FROM lines WHERE mac BETWEEN ? AND ?", (low, high))
    [(audits,)] = _read(daemon, "SELECT count(*) FROM events WHERE kind = 'audit' AND detail LIKE ?",
                        (f"% import:%batch-{first}.csv: %",))
    return devices, lines, audits


@pytest.fixture
def daemon(tmp_path):
    daemon = Daemon(tmp_path, sip=False, tftp=False)
    added = daemon.run("user", "add", ADMIN[0], input=ADMIN[1] + "\n")
    assert added.returncode == 0, added.stderr
    try:
        yield daemon
    finally:
        daemon.stop()


# Where to kill, after the request or command started: when the WAL file
# first grows (the transaction is being written), then at fractions of
# how long a whole import took.
KILL_POINTS = ("wal", 0.25, 0.5, 0.75, 0.9, 1.0)


def _killDuringImport(daemon: Daemon, start, first: int, point, duration: float) -> None:
    """
    Start an import of phones C{first}... with C{start(first)} (which
    returns a function telling whether it ended), kill at C{point}.
    """
    before = _walSize(daemon)
    began = time.monotonic()
    ended = start(first)
    if point == "wal":
        _watchWAL(daemon, before, ended)
    else:
        while time.monotonic() < began + point * duration and not ended.is_set():
            time.sleep(0.001)


def _apiImport(daemon: Daemon):
    def start(first: int) -> threading.Event:
        ended = threading.Event()
        data = devicesCSV(ROWS, first).encode()

        def post():
            try:
                _api(daemon, "POST", f"/api/imports?filename=batch-{first}.csv", data, "text/csv")
            except OSError:
                pass  # killed under it
            finally:
                ended.set()

        threading.Thread(target=post, daemon=True).start()
        return ended

    return start


def test_killDuringAPIImport(daemon):
    """
    kill -9 the daemon while C{POST /api/imports} of 5,000 rows runs, at
    several points; after each restart the store holds the whole import
    (devices, lines, audit event) or nothing of it.
    """
    daemon.start()
    start = _apiImport(daemon)
    began = time.monotonic()
    start(0).wait(120)
    duration = time.monotonic() - began
    assert _importedCounts(daemon, 0) == (ROWS, ROWS, 1)
    outcomes = []
    for trial, point in enumerate(KILL_POINTS, 1):
        first = trial * ROWS
        _killDuringImport(daemon, start, first, point, duration)
        _kill(daemon)
        daemon.start()
        counts = _importedCounts(daemon, first)
        assert counts in ((0, 0, 0), (ROWS, ROWS, 1)), (point, counts)
        outcomes.append(counts[0])
    code, body = _api(daemon, "GET", "/api/devices?limit=1")
    assert code == 200, body
    # The kills fell inside the import, not only after it.
    assert 0 in outcomes, outcomes


def test_killDuringCommandLineImport(daemon):
    """
    The same for C{snomprov import} (the process that writes is the command
    line's): killed at several points, all or nothing.
    """
    processes = []

    def start(first: int) -> threading.Event:
        path = os.path.join(daemon.directory, f"batch-{first}.csv")
        with open(path, "w") as f:
            f.write(devicesCSV(ROWS, first))
        process = subprocess.Popen(daemon.command("import", path), cwd=ROOT, env=_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        ended = threading.Event()
        threading.Thread(target=lambda: (process.wait(), ended.set()), daemon=True).start()
        return ended

    began = time.monotonic()
    start(0).wait(120)
    duration = time.monotonic() - began
    assert processes[-1].returncode == 0
    assert _importedCounts(daemon, 0) == (ROWS, ROWS, 1)
    outcomes = []
    for trial, point in enumerate(KILL_POINTS, 1):
        first = trial * ROWS
        _killDuringImport(daemon, start, first, point, duration)
        processes[-1].kill()
        processes[-1].wait()
        counts = _importedCounts(daemon, first)
        assert counts in ((0, 0, 0), (ROWS, ROWS, 1)), (point, counts)
        outcomes.append(counts[0])
    assert 0 in outcomes, outcomes
    daemon.start()
    code, body = _api(daemon, "GET", "/api/devices?limit=1")
    assert code == 200, body


PHONES = 400


def test_killDuringStorm(tmp_path):
    """
    kill -9 the daemon during a boot storm (PnP and HTTP fetches) while a
    reader of its own copies every event the store has committed; after
    the restart each of those events is there, the same, and the daemon
    answers the next storm.  Three kills, at different points.
    """
    daemon = Daemon(tmp_path, tftp=False)
    daemon.importCSV(devicesCSV(PHONES))
    daemon.start()
    macs = [macOf(n) for n in range(PHONES)]
    try:
        for delay in (0.5, 1.5, 3.0):
            stop = threading.Event()
            storm = threading.Thread(target=boot, args=(daemon.sipPort, macs),
                                     kwargs={"rate": 200.0, "deadline": 3.0, "stop": stop}, daemon=True)
            committed: dict[int, tuple] = {}
            storm.start()
            began = time.monotonic()
            while time.monotonic() < began + delay:
                for row in _read(daemon, "SELECT id, time, mac, kind, detail FROM events WHERE id > ?",
                                 (max(committed, default=0),)):
                    committed[row[0]] = row
                time.sleep(0.05)
            # The last look, then the kill: everything seen was committed.
            for row in _read(daemon, "SELECT id, time, mac, kind, detail FROM events WHERE id > ?",
                             (max(committed, default=0),)):
                committed[row[0]] = row
            _kill(daemon)
            stop.set()
            storm.join(30)
            assert committed, "no event committed before the kill"
            daemon.start()
            after = {row[0]: row for row in _read(daemon, "SELECT id, time, mac, kind, detail FROM events")}
            missing = [row for id_, row in committed.items() if after.get(id_) != row]
            assert not missing, missing[:5]
        result = boot(daemon.sipPort, macs[:50], rate=100.0, deadline=5.0)
        assert (len(result.lost), result.provisioned) == (0, 50), result.lost
    finally:
        daemon.stop()


PBX_PHONES = 40


def test_killDuringPBXBacklog(tmp_path):
    """
    An C{asterisk-pjsip} sink whose reload hangs (a PBX that is slow): 40
    lines imported, the daemon is killed inside the sink's apply (the file
    written, the reload hanging, nothing marked applied); the file is
    removed, and started again with the sink well, the backlog resumes and
    completes: every line is in the sink's file again and the API shows
    every line in sync.
    """
    hold = tmp_path / "hold"
    started = tmp_path / "reload-started"
    hold.write_text("")
    pjsip = tmp_path / "pjsip_snomprov.conf"
    reload = ["sh", "-c", f"touch {started}; while test -e {hold}; do sleep 0.05; done"]
    daemon = Daemon(tmp_path, sip=False, tftp=False, extraConfig=(
        "[[pbx]]\n"
        'kind = "asterisk-pjsip"\nname = "ast"\n'
        f'path = "{pjsip}"\n'
        f"reload = {json.dumps(reload)}\n"))
    assert daemon.run("user", "add", ADMIN[0], input=ADMIN[1] + "\n").returncode == 0
    daemon.importCSV(devicesCSV(PBX_PHONES))
    daemon.start()
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline, daemon.log()[-3000:]
            time.sleep(0.02)
        [(pending,)] = _read(daemon, "SELECT count(*) FROM account_lines")
        assert pending == PBX_PHONES
        code, body = _api(daemon, "GET", f"/api/devices/{macOf(0)}/pbx")
        assert code == 200 and [line["inSync"] for line in body["lines"]] == [False], body
        _kill(daemon)
        # What the killed apply wrote goes too: the backlog is the store's,
        # and the sink's file is written again from it.
        pjsip.unlink(missing_ok=True)
        hold.unlink()
        daemon.start()
        deadline = time.monotonic() + 120
        while True:
            text = pjsip.read_text() if pjsip.exists() else ""
            users = [f"{1000 + n}" for n in range(PBX_PHONES)]
            states = [_api(daemon, "GET", f"/api/devices/{macOf(n)}/pbx")[1] for n in (0, PBX_PHONES - 1)]
            if all(f"[{u}]" in text for u in users) \
                    and all(all(line["inSync"] for line in s["lines"]) for s in states):
                break
            assert time.monotonic() < deadline, (pending, text[:500], states, daemon.log()[-3000:])
            time.sleep(0.2)
        for n in range(PBX_PHONES):
            code, body = _api(daemon, "GET", f"/api/devices/{macOf(n)}/pbx")
            assert code == 200 and [line["inSync"] for line in body["lines"]] == [True], body
        assert "pw-1-secret" not in daemon.log()
    finally:
        daemon.stop()
        hold.unlink(missing_ok=True)
