# -*- test-case-name: tests.test_pages_live -*-
"""
Operators' page sessions, in memory: a random id (the cookie) to who
logged in, the session's CSRF token and when it was last used.

A session ends after C{idle} seconds without a request (C{[admin]
session_idle}), at logout, or when more than C{limit} sessions exist (the
one unused longest goes first), so that memory stays bounded however many
logins there are.  Pure, on an injected clock.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field, replace

__all__ = ["Session", "Sessions", "MAX_SESSIONS", "COOKIE", "LOGIN_COOKIE", "checkToken", "liveSession",
           "sessionPrincipal"]

MAX_SESSIONS = 1000
"""
The most sessions kept at once.
"""

COOKIE = b"snomprov_session"
"""
The session cookie's name.
"""

LOGIN_COOKIE = b"snomprov_login"
"""
The cookie the login form's CSRF token is checked against (double
submit): before a login there is no session to keep a token in.
"""


def checkToken(given: str | bytes | None, expected: str) -> bool:
    """
    Whether a form's CSRF token is C{expected}, compared in constant time.
    """
    if not given or not expected:
        return False
    if isinstance(given, bytes):
        given = given.decode("latin-1")
    return hmac.compare_digest(given.encode("latin-1", "replace"), expected.encode("latin-1", "replace"))


@dataclass
class Session:
    """
    @ivar principal: who logged in (L{snomprov.web.api.auth.Principal}).
    @ivar csrf: the token every form of this session carries.
    @ivar flash: notes for the next page shown (what a change did).
    """

    id: str
    principal: object
    csrf: str
    lastUsed: float
    flash: list[str] = field(default_factory=list)


class Sessions:
    """
    @param clock: an L{IReactorTime}.
    @param idle: seconds a session lives unused.
    """

    def __init__(self, clock, idle: float, limit: int = MAX_SESSIONS) -> None:
        self._clock = clock
        self.idle = idle
        self.limit = limit
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def start(self, principal) -> Session:
        """
        A new session of C{principal}.
        """
        self._expire()
        session = Session(secrets.token_urlsafe(32), principal, secrets.token_urlsafe(32),
                          self._clock.seconds())
        self._sessions[session.id] = session
        while len(self._sessions) > self.limit:
            self._sessions.popitem(last=False)
        return session

    def get(self, sessionID: str | bytes | None) -> Session | None:
        """
        The live session of this id, marked used now; C{None} when there is
        none (never was, ended, or idle too long).
        """
        if not sessionID:
            return None
        if isinstance(sessionID, bytes):
            sessionID = sessionID.decode("latin-1")
        self._expire()
        session = self._sessions.get(sessionID)
        if session is None:
            return None
        session.lastUsed = self._clock.seconds()
        self._sessions.move_to_end(sessionID)
        return session

    def end(self, sessionID: str | None) -> None:
        """
        End a session (logout); nothing when there is none.
        """
        if sessionID:
            self._sessions.pop(sessionID, None)

    def endFor(self, name: str) -> None:
        """
        End every session of the operator C{name} (removed).
        """
        for key in [k for k, s in self._sessions.items() if getattr(s.principal, "name", None) == name]:
            del self._sessions[key]

    def _expire(self) -> None:
        deadline = self._clock.seconds() - self.idle
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if oldest.lastUsed > deadline:
                break
            self._sessions.popitem(last=False)


async def liveSession(sessions: Sessions, store, sessionID) -> Session | None:
    """
    The session of C{sessionID} if its operator is still stored, with the
    operator's role as stored now (a removed operator's session ends).
    """
    session = sessions.get(sessionID)
    if session is None:
        return None
    operator = await store.getOperator(session.principal.name)
    if operator is None:
        sessions.end(session.id)
        return None
    if operator.role != session.principal.role:
        session.principal = replace(session.principal, role=operator.role)
    return session


async def sessionPrincipal(sessions: Sessions, store, sessionID):
    """
    Who a page session's cookie is (L{liveSession}), or C{None}.
    """
    session = await liveSession(sessions, store, sessionID)
    return None if session is None else session.principal
