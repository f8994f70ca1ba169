# -*- test-case-name: tests.test_events -*-
"""
Events as the command line shows them: one line of text, or one JSON
object, per event.  Pure functions; L{snomprov.commands.events} prints them.
"""

from __future__ import annotations

import json
import time

from .device import Event

__all__ = ["HEADER", "formatEvent", "eventAsJSON"]

_MAC_WIDTH = 12
_KIND_WIDTH = len("notify-timeout")

HEADER = f"{'TIME':23}  {'MAC':{_MAC_WIDTH}}  {'KIND':{_KIND_WIDTH}}  DETAIL"
"""
The line above L{formatEvent}'s lines, naming their columns.
"""


def formatEvent(event: Event, localtime=time.localtime) -> str:
    """
    One line (no newline): local time to the millisecond, MAC (C{-} when
    unknown), kind, detail; the first three in columns of fixed width, so
    that followed lines align too.

    @param localtime: L{time.localtime}, or what a test gives instead.
    """
    seconds = int(event.time)
    milliseconds = int(round((event.time - seconds) * 1000))
    if milliseconds == 1000:
        seconds, milliseconds = seconds + 1, 0
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", localtime(seconds)) + f".{milliseconds:03d}"
    return f"{stamp}  {event.mac or '-':{_MAC_WIDTH}}  {event.kind:{_KIND_WIDTH}}  {event.detail}".rstrip()


def eventAsJSON(event: Event) -> str:
    """
    One JSON object on one line (no newline): C{time} (seconds since the
    epoch), C{mac} (C{null} when unknown), C{kind}, C{detail}.
    """
    return json.dumps(
        {"time": event.time, "mac": event.mac, "kind": event.kind, "detail": event.detail},
        ensure_ascii=False,
    )
