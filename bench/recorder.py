"""
CPU cost of recording plug-and-play exchanges (the L{Recorder} and its
flush into SQLite), against a minimal SQLite write of the same rows, run in
the same process.

One exchange is what the PnP controller hands the recorder for one phone:
C{subscribed(now, mac, vendor, model, firmware, host, port, url)} (a device
sighting and the C{subscribe} and C{notify-sent} events) then
C{notifyEnded(now, mac, "acked", host, port)} (the C{notify-acked} event).
Exchanges come at C{--rate} per second, and every C{--interval} seconds'
worth the recorder is flushed, as the daemon's C{LoopingCall} does, into
an SQLite store opened the daemon's way (L{snomprov.store.openStore}:
same store class, WAL, C{synchronous=FULL}, the adbapi thread).  The first
pass sees C{--phones} new MACs; each later pass sees the same MACs again.

The baseline does the least work that writes the same rows: a recorder
that only keeps the last device row per MAC and appends the event rows,
and a flush of one transaction with one C{INSERT OR REPLACE} of the
device rows and one multi-row C{INSERT} of the events, straight on an
C{sqlite3} connection with the same pragmas, into a database with the same
schema (tables and indexes), in the calling thread.

CPU time is C{time.process_time}, so the store's thread counts.  The
whole run (baseline, then ours, each into a new database) is repeated
C{--repeat} times and the least time of each figure is kept.  Figures
only: nothing is asserted on time.

Run: C{.venv/bin/python bench/recorder.py [--phones N] [--passes P] [--rate R] [--repeat N]}
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet import defer, task  # noqa: E402

from snomprov.recorder import Recorder  # noqa: E402
from snomprov.store import openStore  # noqa: E402
from snomprov.store.migrations import migrate  # noqa: E402
from snomprov.store.sql import SQLITE  # noqa: E402

_MAX_PARAMETERS = 32766


class MinimalRecorder:
    """
    The least a recorder can do with the controller's calls: the newest
    device row per MAC and the event rows, no merge and no checks.
    """

    def __init__(self) -> None:
        self.devices: dict[str, tuple] = {}
        self.events: list[tuple] = []

    def subscribed(self, now, mac, vendor, model, firmware, host, port, url) -> None:
        self.devices[mac] = (mac, vendor, model, firmware, host, "notified", now, now, None, host, port, None)
        self.events.append((now, mac, "subscribe", f"{host}:{port} {model}"))
        self.events.append((now, mac, "notify-sent", url))

    def notifyEnded(self, now, mac, outcome, host, port) -> None:
        self.events.append((now, mac, "notify-" + outcome, f"{host}:{port}"))

    def take(self) -> tuple[list[tuple], list[tuple]]:
        devices, self.devices = list(self.devices.values()), {}
        events, self.events = self.events, []
        return devices, events


class MinimalWriter:
    """
    One transaction per flush on a plain C{sqlite3} connection: C{INSERT OR
    REPLACE} of the device rows, a multi-row C{INSERT} of the event rows.
    """

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None)
        cursor = self._connection.cursor()
        for statement in SQLITE.openStatements:
            cursor.execute(statement)
        cursor.execute(SQLITE.beginWrite)
        migrate(cursor, SQLITE, time.time())
        cursor.execute("COMMIT")
        self._cursor = cursor

    def write(self, devices: list[tuple], events: list[tuple]) -> None:
        cursor = self._cursor
        cursor.execute("BEGIN IMMEDIATE")
        _insertAll(cursor, "INSERT OR REPLACE INTO devices VALUES", 11, devices)
        _insertAll(cursor, "INSERT INTO events (time, mac, kind, detail) VALUES", 4, events)
        cursor.execute("COMMIT")

    def close(self) -> None:
        self._connection.close()


def _insertAll(cursor, head: str, width: int, rows: list[tuple]) -> None:
    """
    Insert C{rows} with as few statements as SQLite's parameter limit allows.
    """
    most = _MAX_PARAMETERS // width
    mark = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), most):
        chunk = rows[start : start + most]
        cursor.execute(
            f"{head} {', '.join([mark] * len(chunk))}", [value for row in chunk for value in row]
        )


def phones(count: int) -> list[tuple[str, str, int, str]]:
    """
    C{(mac, host, port, url)} of C{count} distinct snom phones.
    """
    return [
        (
            mac,
            f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
            5060 + n % 3,
            f"http://192.0.2.10:8080/snom/{mac}.xml",
        )
        for n in range(count)
        for mac in [f"000413{n:06X}"]
    ]


def handIn(recorder, batch, start: float, step: float) -> float:
    """
    Hand C{batch} to C{recorder} as the controller does.

    @return: the CPU seconds it took.
    """
    subscribed, notifyEnded = recorder.subscribed, recorder.notifyEnded
    began = time.process_time()
    now = start
    for mac, host, port, url in batch:
        subscribed(now, mac, "snom", "snomD785", "10.1.33.33", host, port, url)
        notifyEnded(now, mac, "acked", host, port)
        now += step
    return time.process_time() - began


class Totals:
    """
    CPU seconds spent handing in and flushing, per pass.
    """

    def __init__(self) -> None:
        self.handIn = 0.0
        self.flush = 0.0

    def add(self, other: "Totals") -> None:
        self.handIn += other.handIn
        self.flush += other.flush

    def least(self, other: "Totals") -> "Totals":
        """
        The lesser of each figure of C{self} and C{other}.
        """
        least = Totals()
        least.handIn = min(self.handIn, other.handIn)
        least.flush = min(self.flush, other.flush)
        return least


@defer.inlineCallbacks
def timePasses(recorder, flush, population, args):
    """
    Hand C{population} to C{recorder} C{args.passes} times, calling C{flush}
    (which returns a Deferred) after every interval's worth.

    @return: a Deferred firing with the L{Totals} of each pass.
    """
    passes = []
    for number in range(args.passes):
        totals = Totals()
        for start, batch in _batches(population, number, args):
            totals.handIn += handIn(recorder, batch, start, 1.0 / args.rate)
            began = time.process_time()
            yield flush()
            totals.flush += time.process_time() - began
        passes.append(totals)
    return passes


@defer.inlineCallbacks
def runOurs(reactor, directory: str, population, args):
    """
    The L{Recorder} flushing into an SQLite store opened as the daemon does.

    @return: a Deferred firing with the L{Totals} of each pass and the
        numbers of devices and events stored.
    """
    store = yield openStore("sqlite:ours.sqlite", directory, reactor)
    recorder = Recorder(lambda: defer.succeed(store), reactor, interval=args.interval)
    try:
        passes = yield timePasses(recorder, recorder.flush, population, args)
        devices = yield store.listDevices()
        events = yield store.listEvents(limit=10**9)
    finally:
        yield store.close()
    return passes, (len(devices), len(events))


@defer.inlineCallbacks
def runBaseline(directory: str, population, args):
    """
    L{MinimalRecorder} written by L{MinimalWriter}, in this thread.

    @return: a Deferred firing with the L{Totals} of each pass.
    """
    writer = MinimalWriter(os.path.join(directory, "baseline.sqlite"))
    recorder = MinimalRecorder()
    try:
        return (yield timePasses(
            recorder, lambda: defer.succeed(writer.write(*recorder.take())), population, args
        ))
    finally:
        writer.close()


def _batches(population, number: int, args):
    """
    C{(start time, phones)} of each flush interval of pass C{number}.
    """
    size = max(1, round(args.rate * args.interval))
    passStart = 1_700_000_000.0 + number * (len(population) / args.rate + 60.0)
    for first in range(0, len(population), size):
        yield passStart + first / args.rate, population[first : first + size]


def report(label: str, ours: Totals, baseline: Totals, count: int) -> None:
    """
    One line of figures: ours, the baseline's and their ratios.
    """

    def us(seconds: float) -> float:
        return seconds / count * 1e6

    oursTotal, baseTotal = ours.handIn + ours.flush, baseline.handIn + baseline.flush
    print(
        f"{label:<12} {us(ours.handIn):8.2f} {us(ours.flush):8.2f} {us(oursTotal):8.2f}"
        f"   {us(baseline.handIn):8.2f} {us(baseline.flush):8.2f} {us(baseTotal):8.2f}"
        f"   {ours.handIn / baseline.handIn:6.2f} {ours.flush / baseline.flush:6.2f}"
        f" {oursTotal / baseTotal:6.2f}"
    )


def reportAll(ours: list[Totals], baseline: list[Totals], phoneCount: int) -> None:
    """
    The table: a line per pass, then all passes.
    """
    parts = f"{'hand-in':>8} {'flush':>8} {'total':>8}"
    print("CPU us per exchange:")
    print(f"{'':<12} {'ours':^26}   {'baseline':^26}   {'ours / baseline':^20}")
    print(f"{'':<12} {parts}   {parts}   {'in':>6} {'flush':>6} {'total':>6}")
    everyOurs, everyBase = Totals(), Totals()
    for number, (mine, theirs) in enumerate(zip(ours, baseline)):
        report("new MACs" if number == 0 else f"seen again {number}", mine, theirs, phoneCount)
        everyOurs.add(mine)
        everyBase.add(theirs)
    report("all passes", everyOurs, everyBase, phoneCount * len(ours))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=100_000, help="distinct MACs (default 100,000)")
    parser.add_argument("--passes", type=int, default=2, help="passes over the MACs (default 2)")
    parser.add_argument("--rate", type=float, default=10_000.0, help="exchanges per second (default 10,000)")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between flushes (default 0.25)")
    parser.add_argument("--repeat", type=int, default=3, help="runs, keeping the least of each figure (default 3)")
    args = parser.parse_args(argv)
    population = phones(args.phones)
    print(
        f"{args.phones:,} phones x {args.passes} passes, {args.rate:,.0f}/s, a flush every "
        f"{args.interval} s ({round(args.rate * args.interval):,} exchanges), best of {args.repeat}, "
        f"SQLite {sqlite3.sqlite_version}"
    )

    @defer.inlineCallbacks
    def both(reactor):
        baseline = ours = None
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="snomprov-bench-") as directory:
                gc.collect()
                theirs = yield runBaseline(directory, population, args)
                gc.collect()
                mine, stored = yield runOurs(reactor, directory, population, args)
            baseline = theirs if baseline is None else [a.least(b) for a, b in zip(baseline, theirs)]
            ours = mine if ours is None else [a.least(b) for a, b in zip(ours, mine)]
        print(f"stored by ours: {stored[0]:,} devices, {stored[1]:,} events")
        reportAll(ours, baseline, args.phones)

    task.react(both)


if __name__ == "__main__":
    main()
