# -*- test-case-name: tests.test_events -*-
"""
Events as the command line shows them: one line of text, or one JSON
object, per event; and L{safeText}, what every log line does to text that
came from traffic (a path, a User-Agent, a file name, an event's detail).
Pure functions; L{snomprov.commands.events} prints them.
"""

from __future__ import annotations

import json
import time

from .device import Event

__all__ = ["HEADER", "FIELD_LENGTH", "formatEvent", "eventAsJSON", "safeText"]

FIELD_LENGTH = 256
"""
The default most characters of one field L{safeText} lets through
(C{[server] log_field_length}).
"""

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(character: str) -> str:
    found = _ESCAPES.get(character)
    if found is not None:
        return found
    if character.isprintable():
        return character
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:
        code -= 0xDC00  # an undecodable byte, kept by surrogateescape
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def safeText(text: str | bytes | None, limit: int = FIELD_LENGTH) -> str:
    """
    C{text} fit for a log line: every character that is not printable
    (control characters, line and paragraph separators, undecodable bytes
    kept as surrogates) written as a backslash escape (C{\\x1b},
    C{\\u2028}), a backslash as two, and at most C{limit} characters of
    the result, a cut marked C{...[+N]} with the number of characters left
    out.  Bytes are read as UTF-8, undecodable ones escaped.  C{None}: C{-}.
    """
    if text is None:
        return "-"
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    if len(text) <= limit and text.isprintable() and "\\" not in text:
        return text
    out: list[str] = []
    used = 0
    for position, character in enumerate(text):
        piece = _escaped(character)
        if used + len(piece) > limit:
            return "".join(out) + f"...[+{len(text) - position}]"
        out.append(piece)
        used += len(piece)
    return "".join(out)

_MAC_WIDTH = 12
_KIND_WIDTH = len("notify-timeout")

HEADER = f"{'TIME':23}  {'MAC':{_MAC_WIDTH}}  {'KIND':{_KIND_WIDTH}}  DETAIL"
"""
The line above L{formatEvent}'s lines, naming their columns.
"""


def formatEvent(event: Event, localtime=time.localtime, limit: int = 4 * FIELD_LENGTH) -> str:
    """
    One line (no newline): local time to the millisecond, MAC (C{-} when
    unknown), kind, detail (through L{safeText} with C{limit}); the first
    three in columns of fixed width, so that followed lines align too.

    @param localtime: L{time.localtime}, or what a test gives instead.
    """
    seconds = int(event.time)
    milliseconds = int(round((event.time - seconds) * 1000))
    if milliseconds == 1000:
        seconds, milliseconds = seconds + 1, 0
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", localtime(seconds)) + f".{milliseconds:03d}"
    detail = safeText(event.detail, limit)
    return f"{stamp}  {event.mac or '-':{_MAC_WIDTH}}  {event.kind:{_KIND_WIDTH}}  {detail}".rstrip()


def eventAsJSON(event: Event) -> str:
    """
    One JSON object on one line (no newline): C{time} (seconds since the
    epoch), C{mac} (C{null} when unknown), C{kind}, C{detail}.
    """
    return json.dumps(
        {"time": event.time, "mac": event.mac, "kind": event.kind, "detail": event.detail},
        ensure_ascii=False,
    )
