# -*- test-case-name: tests.test_milestones -*-
"""
The phones' milestones in the log: one concise line each (seen, URL sent,
settings fetched, rejected with the reason), and during a storm one summary
line a second instead of a line per phone.

L{MilestoneLog.report} takes the event rows the L{snomprov.recorder.Recorder}
writes, C{(time, mac, kind, detail)}, a batch at a time, off the reply
paths: the plug-and-play hot path does no logging work at all.  L{milestoneLine}
and L{summaryLine} are the pure text.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping

from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from .eventtext import FIELD_LENGTH, safeText

__all__ = ["MilestoneLog", "milestoneLine", "summaryLine", "SUMMARISED"]

SUMMARISED = {
    "subscribe": "phones seen",
    "notify-sent": "URLs sent",
    "notify-timeout": "NOTIFYs unanswered",
    "config-fetched": "files fetched over HTTP",
    "tftp-fetched": "files fetched over TFTP",
    "rejected": "rejected",
}
"""
The event kinds that are milestones, and what the summary calls them, in
the summary's order.
"""


def milestoneLine(mac: str | None, kind: str, detail: str, limit: int = FIELD_LENGTH) -> str | None:
    """
    The log line of one event, or C{None} for an event that is not a
    milestone (C{notify-acked}: the fetch that follows tells more); the
    detail through L{safeText} with C{limit}.
    """
    phone = f"Phone {mac}" if mac else "A phone with no MAC"
    detail = safeText(detail, limit)
    if kind == "subscribe":
        return f"{phone} seen: PnP SUBSCRIBE from {detail}"
    if kind == "notify-sent":
        return f"{phone}: URL sent: {detail}"
    if kind == "notify-timeout":
        return f"{phone}: no answer to the NOTIFY sent to {detail}"
    if kind in ("config-fetched", "tftp-fetched"):
        transport = "HTTP" if kind == "config-fetched" else "TFTP"
        if detail.endswith(" served"):
            return f"{phone}: fetched {detail.removesuffix(' served')} over {transport}"
        return f"{phone}: asked for {detail.removesuffix(' not found')} over {transport}: not found"
    if kind == "rejected":
        return f"{phone}: rejected: {detail}"
    return None


def summaryLine(counts: Mapping[str, int], perSecond: int) -> str:
    """
    The line standing for the milestones not logged in one second.
    """
    parts = [f"{counts[kind]} {name}" for kind, name in SUMMARISED.items() if counts.get(kind)]
    return f"Busy: {', '.join(parts)} in the last second (beyond {perSecond} lines a second)"


class MilestoneLog:
    """
    Logs milestones, at most C{perSecond} lines in a second; the rest of
    that second's are counted by kind and logged as one L{summaryLine} when
    the second is over.

    @ivar perSecond: the lines a second before summarising.
    """

    _log = Logger()

    def __init__(self, clock, perSecond: int = 20, log: Logger | None = None,
                 fieldLength: int = FIELD_LENGTH) -> None:
        """
        @param clock: an L{IReactorTime} provider: seconds start at the
            first milestone after a quiet one.
        @param log: where the lines go (a test's own L{Logger}).
        @param fieldLength: see L{milestoneLine}'s C{limit}.
        """
        self.fieldLength = fieldLength
        self._clock = clock
        self.perSecond = perSecond
        if log is not None:
            self._log = log
        self._secondEnds = float("-inf")
        self._lines = 0
        self._counts: Counter[str] = Counter()
        self._summary: IDelayedCall | None = None

    def report(self, rows: Iterable[tuple]) -> None:
        """
        Log the milestones among event rows C{(time, mac, kind, detail)}.
        """
        now = self._clock.seconds()
        if now >= self._secondEnds:
            self._endSecond()
            self._secondEnds = now + 1.0
        rows = list(rows)
        for index, (_, mac, kind, detail) in enumerate(rows):
            if self._lines >= self.perSecond:
                self._count(rows[index:])
                return
            line = milestoneLine(mac, kind, detail, self.fieldLength)
            if line is not None:
                self._lines += 1
                self._log.info("{line}", line=line)

    def _count(self, rows: list[tuple]) -> None:
        counts = self._counts
        counts.update(row[2] for row in rows)
        if self._summary is None and any(counts[kind] for kind in SUMMARISED):
            delay = max(0.0, self._secondEnds - self._clock.seconds())
            self._summary = self._clock.callLater(delay, self._endSecond)

    def _endSecond(self) -> None:
        """
        Log the summary of the second ending, if any, and start afresh.
        """
        if self._summary is not None and self._summary.active():
            self._summary.cancel()
        self._summary = None
        counts, self._counts = self._counts, Counter()
        self._lines = 0
        self._secondEnds = float("-inf")
        if any(counts[kind] for kind in SUMMARISED):
            self._log.info("{line}", line=summaryLine(counts, self.perSecond))

    def stop(self) -> None:
        """
        Log the summary pending now (at shutdown).
        """
        self._endSecond()
