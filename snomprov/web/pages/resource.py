# -*- test-case-name: tests.test_pages -*-
"""
The operators' pages as one resource: routes a request to its L{Route},
checks the session (a page without one goes to C{/login}), the CSRF token
of every POST, and the role; runs the handler and writes what it answers
(a L{Page}, a L{Redirect}, a L{Raw} body, or a L{Stream} left open).
No page's logic lives here.

Every answer carries C{Cache-Control: no-store} and a content security
policy that allows only this server's own script and stylesheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from twisted.internet import defer
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.template import Tag, flattenString, tags

from snomprov.accounts import permits
from snomprov.operations.errors import Forbidden, NotFound, Refused

from .layout import page
from snomprov.web.sessions import COOKIE, Session, Sessions, checkToken, liveSession

__all__ = ["Route", "PageCall", "Page", "Redirect", "Raw", "Stream", "PagesResource", "MAX_FORM"]

_log = Logger()

MAX_FORM = 16 * 1024 * 1024
"""
The largest form body read (an upload included).
"""

SECURITY_HEADERS = {
    b"Cache-Control": b"no-store",
    b"Content-Security-Policy": b"default-src 'self'; img-src 'self' data:; form-action 'self'; "
                                b"frame-ancestors 'none'; base-uri 'none'",
    b"X-Content-Type-Options": b"nosniff",
    b"Referrer-Policy": b"same-origin",
}


@dataclass(frozen=True)
class Route:
    """
    @ivar pattern: a path with C{{name}} segments (C{/devices/{mac}}).
    @ivar role: the role that may use it; C{None}: no login needed.
    """

    method: str
    pattern: str
    handler: Callable[["PageCall"], Awaitable[Any]]
    role: str | None = "viewer"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method and not (method == "HEAD" and self.method == "GET"):
            return None
        want = self.pattern.strip("/").split("/")
        got = path.strip("/").split("/")
        if len(want) != len(got):
            return None
        found = {}
        for w, g in zip(want, got):
            if w.startswith("{") and w.endswith("}"):
                if not g:
                    return None
                found[w[1:-1]] = g
            elif w != g:
                return None
        return found


@dataclass
class PageCall:
    """
    What a handler is given.

    @ivar form: the POST form (or the query of a GET): name to values,
        as text (file uploads as C{bytes} in L{files}).
    """

    request: Any
    store: Any
    session: Session | None
    path: dict[str, str]
    form: dict[str, list[str]]
    files: dict[str, bytes]
    app: "PagesResource"
    filenames: dict[str, str] = field(default_factory=dict)

    @property
    def principal(self):
        return None if self.session is None else self.session.principal

    @property
    def csrf(self) -> str:
        return "" if self.session is None else self.session.csrf

    @property
    def now(self) -> float:
        return self.app.reactor.seconds()

    @property
    def registry(self):
        return self.app.registry

    @property
    def config(self):
        return self.app.config

    @property
    def actor(self) -> str:
        return self.principal.actor

    def arg(self, name: str, default: str = "") -> str:
        values = self.form.get(name)
        return values[0].strip() if values else default

    def args(self, name: str) -> list[str]:
        return self.form.get(name, [])

    def permits(self, role: str) -> bool:
        return self.principal is not None and permits(self.principal.role, role)

    def pause(self):
        """
        A turn of the reactor: what long work awaits between chunks
        (C{pause} of the operations), so that other requests are answered.
        """
        return deferLater(self.app.reactor, 0, lambda: None)

    def flash(self, message: str) -> None:
        if self.session is not None:
            self.session.flash.append(message)

    def page(self, title: str, body, current: str | None = None, status: int = 200,
             errors=(), live: bool = False, refresh: tuple[int, str] | None = None) -> "Page":
        messages = []
        if self.session is not None:
            messages, self.session.flash[:] = list(self.session.flash), []
        return Page(page(title, body, principal=self.principal, csrf=self.csrf, current=current,
                         messages=messages, errors=errors, live=live, refresh=refresh), status)


@dataclass(frozen=True)
class Page:
    document: Tag
    status: int = 200
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Redirect:
    location: str
    status: int = 303


@dataclass(frozen=True)
class Raw:
    body: bytes
    contentType: bytes
    status: int = 200
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Stream:
    """
    The handler wrote the headers and keeps the request open itself.
    """


_SAFE_NEXT = re.compile(r"^/[^/\\]")


def safeNext(value: str) -> str:
    """
    A path to go back to after logging in: this server's (C{/…}, never
    C{//host}), else C{/}.
    """
    return value if value == "/" or _SAFE_NEXT.match(value or "") else "/"


class PagesResource(Resource):
    """
    Every page (mounted under each of its first segments).

    @param routes: the L{Route}s.
    @param whenStore: returns a Deferred firing with the store.
    @param authenticator: a L{snomprov.web.api.auth.Authenticator}.
    @param sessions: the L{Sessions}.
    @param reactor: the clock and reactor handlers use.
    @param registry: the vendors; @param config: the configuration.
    @param services: more objects handlers use, by name (the live feed,
        the directory).
    """

    isLeaf = True

    def __init__(self, routes, whenStore, authenticator, sessions: Sessions, reactor,
                 registry=None, config=None, services=None) -> None:
        super().__init__()
        self.routes = tuple(routes)
        self._whenStore = whenStore
        self.authenticator = authenticator
        self.sessions = sessions
        self.reactor = reactor
        self.registry = registry
        self.config = config
        self.services = dict(services or {})

    def render(self, request):
        d = defer.ensureDeferred(self._answer(request))
        d.addErrback(self._unexpected, request)
        d.addCallback(self._write, request)
        return NOT_DONE_YET

    def _route(self, method: str, path: str):
        allowed = False
        for route in self.routes:
            found = route.match(method, path)
            if found is not None:
                return route, found
            if route.match(route.method, path) is not None:
                allowed = True
        return None, allowed

    async def _answer(self, request):
        path = "/" + "/".join(s.decode("utf-8", "replace") for s in request.prepath + request.postpath)
        path = re.sub("/+", "/", path)
        if len(path) > 1:
            path = path.rstrip("/")
        method = request.method.decode("latin-1")
        route, found = self._route(method, path)
        store = await self._whenStore()
        session = await self._session(request, store)
        if route is None:
            status = 405 if found else 404
            return self._error(session, status, "This method is not allowed here." if found
                               else "There is no such page.")
        if route.role is not None:
            if session is None:
                if method in ("GET", "HEAD"):
                    target = request.uri.decode("latin-1")
                    return Redirect("/login?next=" + quote(safeNext(target), safe="/"))
                return self._error(None, 401, "Log in first: your session has ended.")
            if method == "POST" and not checkToken(_formValue(request, b"csrf"), session.csrf):
                return self._error(session, 403, "This form's security token is missing or out of date: "
                                                 "reload the page and send it again.")
            if not permits(session.principal.role, route.role):
                return self._error(session, 403, f"This needs the role {route.role}; you are "
                                                 f"{session.principal.role}.")
        elif method == "POST" and route.pattern != "/login" and session is not None \
                and not checkToken(_formValue(request, b"csrf"), session.csrf):
            return self._error(session, 403, "This form's security token is missing or out of date.")
        if _size(request) > MAX_FORM:
            return self._error(session, 413, f"The form is larger than {MAX_FORM} bytes.")
        form, files = _readForm(request)
        call = PageCall(request, store, session, found, form, files, self, _filenames(request))
        try:
            return await route.handler(call)
        except NotFound as e:
            return self._error(session, 404, str(e))
        except Forbidden as e:
            return self._error(session, 403, str(e))
        except Refused as e:
            return self._error(session, 400, str(e))

    async def _session(self, request, store) -> Session | None:
        return await liveSession(self.sessions, store, request.getCookie(COOKIE))

    def _error(self, session, status: int, message: str) -> Page:
        titles = {400: "Not done", 401: "Log in", 403: "Not allowed", 404: "Not found",
                  405: "Not allowed", 413: "Too large", 429: "Too many attempts"}
        body = [tags.p(message, class_="message bad", role="alert")]
        if session is None:
            body.append(tags.p(tags.a("Log in", href="/login")))
        else:
            body.append(tags.p(tags.a("Back to the dashboard", href="/")))
        return Page(page(titles.get(status, "Error"), body,
                         principal=None if session is None else session.principal,
                         csrf=None if session is None else session.csrf), status)

    def _unexpected(self, failure, request):
        _log.failure("page {method} {uri}: unexpected error", failure,
                     method=request.method.decode("latin-1"),
                     uri=request.uri.split(b"?", 1)[0].decode("latin-1"))
        return Page(page("Error", tags.p("Something went wrong: see the server's log.",
                                         class_="message bad", role="alert")), 500)

    def _write(self, answer, request):
        if isinstance(answer, Stream) or request.finished or getattr(request, "_disconnected", False):
            return None
        for name, value in SECURITY_HEADERS.items():
            request.setHeader(name, value)
        if isinstance(answer, Redirect):
            request.setResponseCode(answer.status)
            request.setHeader(b"Location", answer.location.encode("utf-8"))
            request.setHeader(b"Content-Length", b"0")
            request.finish()
            return None
        if isinstance(answer, Raw):
            request.setResponseCode(answer.status)
            request.setHeader(b"Content-Type", answer.contentType)
            for name, value in answer.headers.items():
                request.setHeader(name, value)
            request.setHeader(b"Content-Length", b"%d" % len(answer.body))
            if request.method != b"HEAD":
                request.write(answer.body)
            request.finish()
            return None
        d = flattenString(None, answer.document)
        d.addCallback(self._writeDocument, request, answer)
        d.addErrback(lambda f: (self._unexpected(f, request), request.setResponseCode(500),
                                request.finish()))
        return d

    def _writeDocument(self, data: bytes, request, answer: Page) -> None:
        data = b"<!DOCTYPE html>\n" + data
        request.setResponseCode(answer.status)
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        for name, value in answer.headers.items():
            request.setHeader(name, value)
        request.setHeader(b"Content-Length", b"%d" % len(data))
        if request.method != b"HEAD":
            request.write(data)
        request.finish()


def _size(request) -> int:
    content = request.content
    if content is None:
        return 0
    content.seek(0, 2)
    size = content.tell()
    content.seek(0)
    return size


def _formValue(request, name: bytes) -> bytes | None:
    values = (request.args or {}).get(name)
    return values[0] if values else None


_FILENAME = re.compile(rb'Content-Disposition:\s*form-data;\s*name="([^"\r\n]{1,100})";\s*'
                       rb'filename="([^"\r\n]{0,255})"', re.IGNORECASE)


def _filenames(request) -> dict[str, str]:
    """
    The file names of a multipart upload's files, by field (Twisted's
    C{request.args} keeps only their contents).
    """
    kind = request.getHeader(b"content-type") or b""
    if not kind.lower().startswith(b"multipart/form-data") or request.content is None:
        return {}
    request.content.seek(0)
    body = request.content.read()
    request.content.seek(0)
    names = {}
    for match in _FILENAME.finditer(body):
        name, filename = (part.decode("utf-8", "replace") for part in match.groups())
        names.setdefault(name, filename.replace("\\", "/").rsplit("/", 1)[-1])
    return names


def _readForm(request) -> tuple[dict[str, list[str]], dict[str, bytes]]:
    """
    The request's arguments (the query and, for a POST, the form or a
    multipart upload) as text; a part that is not UTF-8 text (a file) in
    the second dict as bytes.
    """
    form: dict[str, list[str]] = {}
    files: dict[str, bytes] = {}
    for name, values in (request.args or {}).items():
        key = name.decode("utf-8", "replace")
        for value in values:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                files[key] = value
                continue
            form.setdefault(key, []).append(text)
            files.setdefault(key, value)
    return form, files
