"""
C{snomprov events}: the lines it prints (L{snomprov.eventtext}), the
follower's loop on a clock, and the command as users run it, following a
real daemon while a phone boots.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
import urllib.request

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from daemon import ROOT, Daemon, userEnv
from snomprov.commands.events import followEvents
from snomprov.configpath import discoverConfig
from snomprov.device import Event
from snomprov.eventtext import HEADER, eventAsJSON, formatEvent
from snomprov.store import openStore
from snomprov.store.memory import MemoryDeviceStore
from test_e2e_snom import CSV, MAC, pnp

OTHER = "000413AB12CE"


def test_formatEvent():
    """
    One line: time to the millisecond, MAC, kind and detail in columns;
    C{-} for an unknown MAC, no trailing blanks without a detail.
    """
    line = formatEvent(Event(86400.25, MAC, "subscribe", "10.0.0.5:5060 snomD785"), time.gmtime)
    assert line == f"1970-01-02 00:00:00.250  {MAC}  subscribe       10.0.0.5:5060 snomD785"
    assert formatEvent(Event(59.9996, None, "rejected"), time.gmtime) == "1970-01-01 00:01:00.000  -             rejected"
    assert len(HEADER.split("DETAIL")[0]) == len(line.split("10.0.0.5")[0])


def test_eventAsJSON():
    """
    One JSON object on one line, with every field.
    """
    text = eventAsJSON(Event(1.5, None, "rejected", "http x.xml: ünknown"))
    assert "\n" not in text
    assert json.loads(text) == {"time": 1.5, "mac": None, "kind": "rejected", "detail": "http x.xml: ünknown"}


class _Writes(list):
    def __call__(self, events):
        self.append([e.detail for e in events])


def _addEvents(store, *details, mac=MAC):
    return store.addEvents([Event(1.0, mac, "subscribe", detail) for detail in details])


def test_followEventsPollsUntilCancelled():
    """
    The follower hands over what was added since its cursor, every
    interval, for one MAC only when asked; cancelled, it stops.
    """
    clock, store, writes = Clock(), MemoryDeviceStore(), _Writes()
    _addEvents(store, "old")
    cursor = store.eventsAfter(limit=0).result.cursor
    following = defer.ensureDeferred(followEvents(clock, store, cursor, writes, mac=MAC, interval=1.0))
    assert writes == []
    _addEvents(store, "a", "b")
    _addEvents(store, "theirs", mac=OTHER)
    clock.advance(0.5)
    assert writes == []
    clock.advance(0.5)
    assert writes == [["a", "b"]]
    clock.advance(1.0)
    assert writes == [["a", "b"]]
    following.cancel()
    _addEvents(store, "late")
    clock.advance(5.0)
    assert writes == [["a", "b"]]
    assert not clock.getDelayedCalls()
    following.addErrback(lambda f: f.trap(defer.CancelledError))


def test_followEventsInBatches():
    """
    A backlog is read a batch at a time, the next batch at once (memory
    stays bounded, and the follower does not fall behind).
    """
    clock, store, writes = Clock(), MemoryDeviceStore(), _Writes()
    _addEvents(store, *"abcde")
    following = defer.ensureDeferred(followEvents(clock, store, 0, writes, batch=2, interval=1.0))
    assert writes == [["a", "b"], ["c", "d"], ["e"]]
    following.cancel()
    following.addErrback(lambda f: f.trap(defer.CancelledError))


@pytest.fixture
def cli(tmp_path):
    """
    A config and its (created) store, no daemon running.
    """
    return Daemon(tmp_path, sip=False, tftp=False)


def _record(configPath, events):
    """
    Add C{events} to the store of the configuration at C{configPath}.

    @return: a Deferred.
    """

    async def record():
        config = discoverConfig(configPath)
        store = await openStore(config.storeURL, config.server.dataDir)
        try:
            await store.addEvents(events)
        finally:
            await store.close()

    return defer.ensureDeferred(record())


@pytest_twisted.inlineCallbacks
def test_eventsListsOldestFirst(cli):
    """
    The newest C{--limit} events, oldest first, after a header; a MAC as
    the user writes it selects that phone's; C{--json} prints objects.
    """
    yield _record(cli.configPath, [Event(float(n), MAC if n % 2 else OTHER, "subscribe", str(n)) for n in range(6)])
    result = cli.run("events")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    assert [line.split()[-1] for line in lines[1:]] == ["0", "1", "2", "3", "4", "5"]

    result = cli.run("events", "00:04:13:ab:12:cd", "--limit", "2")
    assert result.returncode == 0, result.stderr
    assert [(line.split()[2], line.split()[-1]) for line in result.stdout.splitlines()[1:]] == [
        (MAC, "3"), (MAC, "5"),
    ]  # fmt: skip

    result = cli.run("events", "--json", "-n", "1")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"time": 5.0, "mac": MAC, "kind": "subscribe", "detail": "5"},
    ]


def test_eventsRefusesBadInput(cli):
    """
    A bad MAC or limit is one line and exit 2.
    """
    for args, says in ((("nonsense",), "nonsense"), (("--limit", "-1"), "--limit")):
        result = cli.run("events", *args)
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1 and says in result.stderr


class _Follower:
    """
    C{snomprov events --follow} as a child process, its lines read as they
    come.
    """

    def __init__(self, daemon: Daemon, *args: str) -> None:
        self.process = subprocess.Popen(daemon.command("events", "--follow", *args), cwd=ROOT, env=userEnv(),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def waitFor(self, wanted, timeout: float = 15.0) -> list[str]:
        """
        Read lines until C{wanted(lines read so far)}; return them all.
        """
        deadline = time.monotonic() + timeout
        while not wanted(self.seen):
            try:
                self.seen.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"not seen in {timeout} s; got {self.seen}; "
                                     f"exit {self.process.poll()}") from None
        return self.seen

    def stop(self, signalNumber: int) -> int:
        self.process.send_signal(signalNumber)
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def _kinds(lines: list[str]) -> list[tuple[str, str]]:
    return [tuple(line.split()[2:4]) for line in lines if line != HEADER]


def test_followShowsAPhoneBooting(tmp_path):
    """
    Against the running daemon, C{events --follow} prints the phone's
    SUBSCRIBE, the NOTIFY and its answer, then its settings fetch, as they
    happen; SIGTERM ends it with exit 0.
    """
    with Daemon(tmp_path, tftp=False) as daemon:
        daemon.importCSV(CSV)
        follower = _Follower(daemon)
        try:
            assert follower.waitFor(lambda lines: HEADER in lines) == [HEADER]
            pnp(daemon)
            follower.waitFor(lambda lines: (MAC, "notify-acked") in _kinds(lines))
            # The import before is audited (an audit event); the phone's come next.
            phone = [kind for kind in _kinds(follower.seen) if kind[1] != "audit"]
            assert phone[:2] == [(MAC, "subscribe"), (MAC, "notify-sent")]
            with urllib.request.urlopen(f"{daemon.baseURL}/snom/{MAC}-settings.xml", timeout=10) as response:
                assert response.status == 200
            follower.waitFor(lambda lines: (MAC, "config-fetched") in _kinds(lines))
        finally:
            status = follower.stop(signal.SIGTERM)
        assert status == 0, follower.process.stderr.read()


def test_followJSONOfOnePhoneEndsOnCtrlC(tmp_path):
    """
    C{events MAC --follow --json} prints only that phone's new events, as
    JSON lines; Ctrl-C (SIGINT) ends it with exit 0 and nothing on
    standard error.
    """
    with Daemon(tmp_path, tftp=False) as daemon:
        daemon.importCSV(CSV)
        follower = _Follower(daemon, OTHER, "--json")
        mine = _Follower(daemon, MAC.lower(), "--json")
        try:
            pnp(daemon)
            seen = mine.waitFor(lambda lines: any(json.loads(line)["kind"] == "notify-acked" for line in lines))
            assert {json.loads(line)["mac"] for line in seen} == {MAC}
            time.sleep(1.0)  # the other phone's follower had the time to print what it would
            assert follower.lines.empty()
        finally:
            statuses = [follower.stop(signal.SIGINT), mine.stop(signal.SIGINT)]
        assert statuses == [0, 0]
        assert follower.process.stderr.read() == "" and mine.process.stderr.read() == ""


@pytest_twisted.inlineCallbacks
def test_followEndsWhenItsReaderGoesAway(cli):
    """
    C{events --follow | head -1}: when the reader closes the pipe, the next
    line ends the follower with exit 0 and nothing on standard error.
    """
    process = subprocess.Popen(cli.command("events", "--follow"), cwd=ROOT, env=userEnv(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == HEADER + "\n"
        process.stdout.close()
        yield _record(cli.configPath, [Event(1.0, MAC, "subscribe", "after")])
        assert process.wait(timeout=15) == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- safeText: what every log line does to traffic-derived text

from hypothesis import given as _given, strategies as _st  # noqa: E402

from snomprov.eventtext import safeText  # noqa: E402
from snomprov.milestones import milestoneLine  # noqa: E402


@_given(_st.one_of(_st.text(), _st.binary()), _st.integers(16, 300))
def test_safeTextNeverLetsAControlCharacterThrough(text, limit):
    """
    Whatever the text (bytes included), the result is printable (no
    control character, no line separator) and at most C{limit} characters
    plus the cut marker; text that needs nothing is unchanged.
    """
    shown = safeText(text, limit)
    assert shown.isprintable()
    body, marker, rest = shown.partition("...[+")
    if marker and rest.endswith("]") and rest[:-1].isdigit():
        assert len(body) <= limit
    else:
        assert len(shown) <= limit
    if isinstance(text, str) and text.isprintable() and "\\" not in text and len(text) <= limit:
        assert shown == text


def test_safeTextEscapes():
    """
    Escapes are unambiguous: a backslash is doubled, an undecodable byte
    and a control character are written as C{\\xNN}, a line separator as
    C{\\uNNNN}; a cut says how many characters are left out.
    """
    assert safeText("a\\b\x1b[2J\r\n\u2028") == "a\\\\b\\x1b[2J\\r\\n\\u2028"
    assert safeText(b"ok\xff\x00") == "ok\\xff\\x00"
    assert safeText("x" * 30, 20) == "x" * 20 + "...[+10]"
    assert safeText(None) == "-"


def test_eventLinesEscaped():
    """
    An event's detail carrying a terminal escape and a newline reaches
    neither the command line's lines nor the milestone log as such.
    """
    event = Event(0.0, "000413AA0001", "config-fetched", "snom/\x1b]0;owned\x07\nfake line served")
    line = formatEvent(event, localtime=time.gmtime)
    assert "\x1b" not in line and "\n" not in line and "\\x1b]0;owned\\x07\\nfake" in line
    milestone = milestoneLine("000413AA0001", "rejected", "a\x1bb\nc")
    assert milestone == "Phone 000413AA0001: rejected: a\\x1bb\\nc"
