# -*- test-case-name: tests.test_api -*-
"""
Who a request comes from: HTTP Basic with an operator's name and password,
or C{Authorization: Bearer snp_…} with an API token.

scrypt takes tens of milliseconds, so a password is verified in a thread,
and a small bounded cache remembers recent successes: a keyed hash of the
attempt (never the password) -> the stored hash it verified against, for
L{CACHE_SECONDS}.  A hit still reads the operator from the store and
counts only while the stored hash is the same, so a removed operator or a
changed password is refused at once.  Passwords are never logged.

Failed attempts are limited per client address and per name
(L{snomprov.loginthrottle}); past the limit an attempt is refused with
L{LoginThrottled}, unchecked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from twisted.internet import defer
from twisted.internet.threads import deferToThreadPool

from snomprov.accounts import InvalidAccount, checkName, hashPassword, verifyPassword
from snomprov.audit import operatorActor, tokenActor
from snomprov.loginthrottle import LoginThrottle
from snomprov.operations.accounts import tokenFor

__all__ = ["Principal", "Basic", "Bearer", "parseAuthorization", "Authenticator", "LoginThrottled",
           "CHALLENGE", "CACHE_SECONDS", "CACHE_SIZE"]

CHALLENGE = 'Basic realm="snomprov", Bearer'
"""
The C{WWW-Authenticate} value of a 401.
"""

CACHE_SECONDS = 60.0
CACHE_SIZE = 256


class LoginThrottled(Exception):
    """
    Too many failed attempts from this address or for this name.

    @ivar retryAfter: whole seconds to wait.
    """

    def __init__(self, retryAfter: int) -> None:
        super().__init__(f"too many failed logins: try again in {retryAfter} s")
        self.retryAfter = retryAfter


@dataclass(frozen=True)
class Principal:
    """
    Who is asking.

    @ivar kind: C{operator} or C{token}.
    """

    kind: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        return operatorActor(self.name) if self.kind == "operator" else tokenActor(self.name)


@dataclass(frozen=True)
class Basic:
    name: str
    password: str

    def __repr__(self) -> str:
        return f"Basic(name={self.name!r})"


@dataclass(frozen=True)
class Bearer:
    token: str

    def __repr__(self) -> str:
        return "Bearer(...)"


def parseAuthorization(header: bytes | None) -> Basic | Bearer | None:
    """
    The credentials of an C{Authorization} header; C{None} when there is
    none or it is not one we read.  Pure.
    """
    if not header:
        return None
    scheme, _, rest = header.strip().partition(b" ")
    rest = rest.strip()
    scheme = scheme.lower()
    if scheme == b"bearer" and rest:
        try:
            return Bearer(rest.decode("ascii"))
        except UnicodeDecodeError:
            return None
    if scheme == b"basic" and rest:
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        name, colon, password = decoded.partition(":")
        if not colon or not name or not password:
            return None
        return Basic(name, password)
    return None


_dummy: list[str] = []


def _dummyHash() -> str:
    """
    A hash verified when the name is unknown, so that an unknown name and a
    wrong password take as long; made on first use.
    """
    if not _dummy:
        _dummy.append(hashPassword(secrets.token_urlsafe(16)))
    return _dummy[0]


class Authenticator:
    """
    Tells the L{Principal} of a request's credentials.

    @param clock: an L{IReactorTime} (for the cache's expiry).
    @param verify: a function of (password, stored hash) returning a
        Deferred firing with whether they match; by default
        L{verifyPassword} in the reactor's thread pool.
    """

    def __init__(self, clock, verify=None, reactor=None) -> None:
        self._clock = clock
        if verify is None:
            if reactor is None:
                from twisted.internet import reactor
            verify = lambda password, stored: deferToThreadPool(  # noqa: E731
                reactor, reactor.getThreadPool(), verifyPassword, password, stored)
        self._verify = verify
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self.throttle = LoginThrottle(clock)

    def _attempt(self, basic: Basic) -> bytes:
        return hmac.new(self._key, f"{basic.name}\0{basic.password}".encode("utf-8", "replace"),
                        hashlib.sha256).digest()

    async def authenticate(self, store, credentials: Basic | Bearer | None,
                           address: str | None = None) -> Principal | None:
        """
        @param address: the client's address, for the limit on failures.
        @return: who C{credentials} are, or C{None} (missing, unknown or
            wrong).
        @raise LoginThrottled: too many failures from C{address} or for the
            name; the credentials were not checked.
        """
        if credentials is None:
            return None
        name = credentials.name if isinstance(credentials, Basic) else None
        wait = self.throttle.retryAfter(address, name)
        if wait is not None:
            raise LoginThrottled(wait)
        principal = await self._check(store, credentials)
        if principal is None:
            self.throttle.failed(address, name)
        return principal

    async def _check(self, store, credentials: Basic | Bearer) -> Principal | None:
        if isinstance(credentials, Bearer):
            token = await tokenFor(store, credentials.token)
            return None if token is None else Principal("token", token.name, token.role)
        if not isinstance(credentials, Basic):
            return None
        try:
            checkName(credentials.name)
        except InvalidAccount:
            return None
        operator = await store.getOperator(credentials.name)
        attempt = self._attempt(credentials)
        now = self._clock.seconds()
        cached = self._cache.get(attempt)
        if cached is not None and cached[1] > now and operator is not None \
                and hmac.compare_digest(cached[0], operator.passwordHash):
            return Principal("operator", operator.name, operator.role)
        stored = operator.passwordHash if operator is not None else _dummyHash()
        ok = await defer.maybeDeferred(self._verify, credentials.password, stored)
        if not ok or operator is None:
            return None
        self._cache[attempt] = (stored, now + CACHE_SECONDS)
        self._cache.move_to_end(attempt)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return Principal("operator", operator.name, operator.role)
