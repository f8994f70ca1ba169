# -*- test-case-name: tests.test_accounts -*-
"""
Audit events (DESIGN §2): every change an operator makes is an event of
kind C{audit} whose detail names the actor, the object and a summary, as
C{"<actor> <object>: <summary>"} (C{"cli user:alice: added as admin"}).
An actor is C{cli}, C{operator:<name>} or C{token:<name>}; an object is
C{<kind>:<name>}.  Neither holds a space, so L{parseAudit} reads the three
back.  A summary never holds a secret: callers pass none.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from .device import Event

__all__ = ["AUDIT", "CLI", "operatorActor", "tokenActor", "auditEvent", "Audit", "parseAudit"]

AUDIT = "audit"
"""
The events' kind.
"""

CLI = "cli"
"""
The actor of whatever the command line does.
"""


def operatorActor(name: str) -> str:
    """
    The actor of an operator logged in as C{name}.
    """
    return f"operator:{name}"


def tokenActor(name: str) -> str:
    """
    The actor of a request authorised by the API token C{name}.
    """
    return f"token:{name}"


def _checkWord(text: str, what: str) -> str:
    if not isinstance(text, str) or not text or any(c.isspace() for c in text) or text.endswith(":"):
        raise ValueError(f"bad audit {what} {text!r}: a word without spaces")
    return text


def auditEvent(time: float, actor: str, object: str, summary: str, mac: str | None = None) -> Event:
    """
    The event recording that C{actor} did C{summary} to C{object}.

    @param mac: the device concerned, if any (so that it shows in its
        history).
    @raise ValueError: for an actor or object with a space in it.
    """
    detail = f"{_checkWord(actor, 'actor')} {_checkWord(object, 'object')}: {summary}"
    return Event(time=time, mac=mac, kind=AUDIT, detail=detail)


@dataclass(frozen=True)
class Audit:
    """
    An audit event's detail, read back.
    """

    actor: str
    object: str
    summary: str


def parseAudit(event: Event) -> Audit | None:
    """
    The actor, object and summary of an audit event, or C{None} for an
    event that is not one.
    """
    if event.kind != AUDIT:
        return None
    actor, space, rest = event.detail.partition(" ")
    object, colon, summary = rest.partition(": ")
    if not (space and colon and actor and object):
        return None
    return Audit(actor, object, summary)
