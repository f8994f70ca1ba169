"""
L{snomprov.milestones}: a line per phone milestone, one summary line a
second during a storm; on a clock, and fed by the recorder.
"""

from __future__ import annotations

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import Logger, formatEvent

from snomprov.milestones import MilestoneLog, milestoneLine, summaryLine
from snomprov.recorder import Recorder
from snomprov.store.memory import MemoryDeviceStore

MAC = "000413AB12CD"


@pytest.mark.parametrize("kind, detail, line", [
    ("subscribe", "10.0.0.5:5060 snomD785", f"Phone {MAC} seen: PnP SUBSCRIBE from 10.0.0.5:5060 snomD785"),
    ("notify-sent", "http://prov/snom/x.xml", f"Phone {MAC}: URL sent: http://prov/snom/x.xml"),
    ("notify-timeout", "10.0.0.5:5060", f"Phone {MAC}: no answer to the NOTIFY sent to 10.0.0.5:5060"),
    ("config-fetched", "snom/a b.xml served", f"Phone {MAC}: fetched snom/a b.xml over HTTP"),
    ("tftp-fetched", "spa942.cfg not found", f"Phone {MAC}: asked for spa942.cfg over TFTP: not found"),
    ("rejected", "http x.cfg: unknown device", f"Phone {MAC}: rejected: http x.cfg: unknown device"),
    ("notify-acked", "10.0.0.5:5060", None),
    ("resync-sent", "x", None),
])
def test_milestoneLine(kind, detail, line):
    """
    Each milestone is one line naming the phone; other events are none.
    """
    assert milestoneLine(MAC, kind, detail) == line


def test_milestoneLineWithoutMAC():
    assert milestoneLine(None, "rejected", "sip: no MAC") == "A phone with no MAC: rejected: sip: no MAC"


def test_summaryLine():
    """
    The summary names the kinds counted, in a fixed order, and the limit.
    """
    assert summaryLine({"rejected": 2, "subscribe": 1500, "notify-sent": 1500, "notify-acked": 9}, 20) == (
        "Busy: 1500 phones seen, 1500 URLs sent, 2 rejected in the last second (beyond 20 lines a second)")


class _Lines(list):
    """
    What a L{Logger} observing into this list logged, as text.
    """

    def __init__(self):
        super().__init__()
        self.logger = Logger(observer=lambda event: self.append(formatEvent(event)))


def _rows(count, kind="subscribe", start=0):
    return [(0.0, f"000413{n:06X}", kind, "10.0.0.5:5060") for n in range(start, start + count)]


def test_quietTrafficLineByLine():
    """
    Below the limit every milestone is logged, and no summary follows.
    """
    clock, lines = Clock(), _Lines()
    milestones = MilestoneLog(clock, perSecond=3, log=lines.logger)
    milestones.report(_rows(2) + [(0.0, MAC, "notify-acked", "x")])
    clock.advance(1.0)
    milestones.report(_rows(3, start=2))
    clock.advance(5.0)
    assert lines == [f"Phone 000413{n:06X} seen: PnP SUBSCRIBE from 10.0.0.5:5060" for n in range(5)]


def test_stormSummarisedOncePerSecond():
    """
    Beyond C{perSecond} lines in a second, the rest are counted and logged
    as one summary when the second is over; the next second starts afresh.
    """
    clock, lines = Clock(), _Lines()
    milestones = MilestoneLog(clock, perSecond=2, log=lines.logger)
    milestones.report(_rows(500) + _rows(500, "notify-sent"))
    clock.advance(0.5)
    milestones.report(_rows(10, "rejected"))
    assert len(lines) == 2
    clock.advance(0.5)
    assert lines[2:] == ["Busy: 498 phones seen, 500 URLs sent, 10 rejected in the last second "
                         "(beyond 2 lines a second)"]
    clock.advance(0.25)
    milestones.report(_rows(1, "rejected"))
    assert len(lines) == 4 and lines[3].endswith("rejected: 10.0.0.5:5060")
    clock.advance(10.0)
    assert len(lines) == 4 and not clock.getDelayedCalls()


def test_stopLogsThePendingSummary():
    clock, lines = Clock(), _Lines()
    milestones = MilestoneLog(clock, perSecond=1, log=lines.logger)
    milestones.report(_rows(3))
    milestones.stop()
    assert lines[1:] == ["Busy: 2 phones seen in the last second (beyond 1 lines a second)"]
    assert not clock.getDelayedCalls()


class _Milestones:
    def __init__(self):
        self.reported = []
        self.stopped = False

    def report(self, rows):
        self.reported.extend(row[3] for row in rows)

    def stop(self):
        self.stopped = True


class _FailingOnce(MemoryDeviceStore):
    def __init__(self):
        super().__init__()
        self.failures = 1

    def recordRows(self, deviceRows, eventRows):
        if self.failures:
            self.failures -= 1
            return defer.fail(RuntimeError("store away"))
        return super().recordRows(deviceRows, eventRows)


def test_recorderReportsEachEventOnce():
    """
    The recorder hands each event to the milestones once, at the flush
    that takes it, even when a failed write keeps it for the next flush;
    stopping it stops them.
    """
    clock, store, milestones = Clock(), _FailingOnce(), _Milestones()
    recorder = Recorder(lambda: defer.succeed(store), clock, milestones=milestones)
    recorder.notifyEnded(1.0, MAC, "timeout", "a", 1)
    recorder.flush()
    assert milestones.reported == ["a:1"] and recorder.pending() == (0, 1)
    recorder.notifyEnded(2.0, MAC, "timeout", "b", 2)
    recorder.flush()
    assert milestones.reported == ["a:1", "b:2"] and recorder.pending() == (0, 0)
    assert [e.detail for e in store.listEvents().result] == ["b:2", "a:1"]
    recorder.startService()
    recorder.stopService()
    assert milestones.stopped


def test_daemonLogsAPhoneBooting(tmp_path):
    """
    The real daemon logs a booting phone's milestones, one line each: seen,
    URL sent, settings fetched; and a request it refuses, with the reason.
    """
    import time
    import urllib.error
    import urllib.request

    from daemon import Daemon
    from test_e2e_snom import CSV, pnp

    with Daemon(tmp_path, tftp=False, extraConfig='[provisioning]\nunknown_devices = "reject"\n') as daemon:
        daemon.importCSV(CSV)
        url = pnp(daemon)
        with urllib.request.urlopen(f"{daemon.baseURL}/snom/{MAC}-settings.xml", timeout=10) as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{daemon.baseURL}/snom/000413000001-settings.xml", timeout=10)
        wanted = [
            f"Phone {MAC} seen: PnP SUBSCRIBE from 127.0.0.1:",
            # the token a NOTIFY carries is a proof: the log shows where it went, not what
            f"Phone {MAC}: URL sent: {url.partition('?token=')[0]}?token=***",
            f"Phone {MAC}: fetched snom/{MAC}-settings.xml over HTTP",
            "Phone 000413000001: rejected: http snom/000413000001-settings.xml: unknown device",
        ]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = [line for line in daemon.log().splitlines() if "[snomprov.milestones.MilestoneLog#info]" in line]
            if len(lines) >= len(wanted):
                break
            time.sleep(0.1)
    assert len(lines) == len(wanted), lines
    for line, text in zip(lines, wanted):
        assert text in line, (line, text)
