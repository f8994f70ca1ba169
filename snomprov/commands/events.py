# -*- test-case-name: tests.test_events -*-
"""
C{snomprov events [MAC] [--limit N] [--follow] [--json]}: what happened to
the phones, oldest first; with C{--follow}, then what happens, as the
daemon records it, until interrupted (exit 0 on C{SIGINT} or C{SIGTERM},
or when the reader of its output goes away).
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

from twisted.internet import defer, task

from .base import UsageProblem, command
from ..device import Event
from ..eventtext import HEADER, eventAsJSON, formatEvent
from ._run import macArgument, runWithStore

__all__ = ["followEvents", "POLL_INTERVAL", "BATCH"]

POLL_INTERVAL = 0.25
"""
Seconds between two reads of the store while following: the daemon's
recorder writes every 0.25 s as well.
"""

BATCH = 1000
"""
The most events read at once while following: what is held in memory.
"""


async def followEvents(
    clock,
    store,
    cursor: int,
    write: Callable[[Sequence[Event]], None],
    mac: str | None = None,
    interval: float = POLL_INTERVAL,
    batch: int = BATCH,
) -> None:
    """
    Hand C{write} the events added to C{store} after C{cursor}, as they
    come, until cancelled: read at most C{batch} at a time, reading again
    at once after a full batch and after C{interval} seconds otherwise.

    @param clock: an L{IReactorTime} provider.
    @param cursor: an L{snomprov.device.EventPage.cursor}.
    @param mac: only this device's events.
    """
    while True:
        page = await store.eventsAfter(cursor, mac=mac, limit=batch)
        cursor = page.cursor
        if page.events:
            write(page.events)
        if len(page.events) < batch:
            await task.deferLater(clock, interval)


def arguments(parser) -> None:
    parser.add_argument("mac", nargs="?", help="only this phone's events")
    parser.add_argument("-n", "--limit", type=int, default=20,
                        help="how many of the newest events to print first (default: 20)")
    parser.add_argument("-f", "--follow", action="store_true",
                        help="then print new events as the daemon records them, until Ctrl-C")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")


@command("events", "list what happened to the phones, oldest first; --follow to watch them")
def events(args, config, registry, out) -> int:
    mac = None if args.mac is None else macArgument(args.mac)
    if args.limit < 0:
        raise UsageProblem(f"--limit must be 0 or more, not {args.limit}")
    line = eventAsJSON if args.json else formatEvent

    def write(found: Sequence[Event]) -> None:
        out.write("".join(line(event) + "\n" for event in found))
        out.flush()

    async def work(reactor, store):
        page = await store.eventsAfter(None, mac=mac, limit=args.limit)
        if not args.json:
            out.write(HEADER + "\n")
        write(page.events)
        if not args.follow:
            return
        following = defer.ensureDeferred(followEvents(reactor, store, page.cursor, write, mac))
        reactor.addSystemEventTrigger("before", "shutdown", following.cancel)
        try:
            await following
        except defer.CancelledError:
            pass

    try:
        runWithStore(config, work)
    except BrokenPipeError:
        # The reader went away (| head): done, as for Ctrl-C.
        _silenceStandardOutput(out)
    return 0


def _silenceStandardOutput(out) -> None:
    """
    Point standard output, if C{out} is it, at C{/dev/null}: Python would
    otherwise fail again flushing it at exit.
    """
    if out is sys.stdout:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


events.arguments = arguments
