# -*- test-case-name: tests.test_api -*-
"""
The C{/api/} resource: routes a request to its declared L{Endpoint},
authenticates and authorises it, validates its query and body, runs the
handler and writes its answer as JSON, or any error as a problem document.
No endpoint's logic lives here.
"""

from __future__ import annotations

import json

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from snomprov.accounts import permits
from snomprov.operations.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, Refused

from snomprov.web.sessions import COOKIE, sessionPrincipal

from .auth import CHALLENGE, Authenticator, LoginThrottled, parseAuthorization
from .declare import Answer, Call, Endpoint, Router, parseQuery
from .problems import PROBLEM_TYPE, Problem, problemDocument
from .validate import validate

__all__ = ["APIResource"]

_log = Logger()


def _isJSON(contentType: bytes | None) -> bool:
    if not contentType:
        return False
    media = contentType.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def _checkSize(request, endpoint: Endpoint):
    content = request.content
    content.seek(0, 2)
    size = content.tell()
    content.seek(0)
    if size > endpoint.maxBody:
        raise Problem(413, f"the body is larger than {endpoint.maxBody} bytes")
    return content


def _readRaw(request, endpoint: Endpoint) -> tuple[bytes, str]:
    """
    The request's body as bytes, and its media type, one the endpoint
    takes.

    @raise Problem: 413 or 415.
    """
    content = _checkSize(request, endpoint)
    given = request.getHeader(b"content-type") or b""
    media = given.split(b";", 1)[0].strip().lower().decode("latin-1")
    if media not in endpoint.rawBody:
        raise Problem(415, "send the body as " + " or ".join(endpoint.rawBody))
    return content.read(), media


def _readBody(request, endpoint: Endpoint):
    """
    The request's JSON body, checked against the endpoint's schema.

    @raise Problem: 413, 415 or 400.
    """
    content = _checkSize(request, endpoint)
    if not _isJSON(request.getHeader(b"content-type")):
        raise Problem(415, "send the body as application/json")
    try:
        body = json.loads(content.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Problem(400, f"the body is not valid JSON: {e}") from None
    errors = validate(endpoint.body, body)
    if errors:
        raise Problem(400, "the body is not valid", errors)
    return body


_REFUSALS = ((NotFound, 404), (Conflict, 409), (PreconditionFailed, 412), (Forbidden, 403))


def _refusal(e: Refused) -> Problem:
    if isinstance(e, Invalid):
        return Problem(400, str(e), [{"field": field, "message": message} for field, message in e.errors])
    status = next((status for kind, status in _REFUSALS if isinstance(e, kind)), 400)
    errors = None
    if e.problems:
        errors = [{"field": "" if p.field is None else p.field, "message": p.message,
                   **({} if p.line is None else {"line": p.line})} for p in e.problems]
    return Problem(status, str(e), errors)


class APIResource(Resource):
    """
    Everything under C{/api/}.

    @param endpoints: the declared L{Endpoint}s.
    @param whenStore: a function returning a Deferred that fires with the
        store (L{snomprov.store.service.StoreService.whenOpen}).
    @param authenticator: an L{Authenticator}.
    @param clock: an L{IReactorTime} (the time of audit events); also
        the reactor handlers see as L{Call.reactor}.
    @param registry: the vendors, handed to the handlers (L{Call.registry}).
    @param config: the configuration and @param pause: see L{Call};
        handed to the handlers.
    @param sessions: the pages' sessions (L{snomprov.web.sessions}), whose
        cookie logs a request without C{Authorization} in; or C{None}.
    """

    isLeaf = True

    def __init__(self, endpoints, whenStore, authenticator: Authenticator, clock, registry=None,
                 config=None, pause=None, sessions=None) -> None:
        super().__init__()
        self._sessions = sessions
        self.router = Router(endpoints)
        self._whenStore = whenStore
        self._authenticator = authenticator
        self._clock = clock
        self._registry = registry
        self._config = config
        self._pause = pause

    def render(self, request):
        d = defer.ensureDeferred(self._answer(request))
        d.addErrback(self._unexpected, request)
        d.addCallback(self._write, request)
        return NOT_DONE_YET

    async def _answer(self, request) -> Answer:
        try:
            return await self._handle(request)
        except Refused as e:
            problem = _refusal(e)
        except Problem as e:
            problem = e
        return Answer(problem.status, problemDocument(problem), problem.headers)

    async def _handle(self, request) -> Answer:
        segments = [s.decode("latin-1") for s in request.prepath + request.postpath]
        if segments and segments[-1] == "" and len(segments) > 1:
            segments = segments[:-1]
        match = self.router.route(request.method.decode("latin-1"), segments)
        endpoint = match.endpoint
        store = await self._whenStore()
        principal = None
        if endpoint.role is not None:
            credentials = parseAuthorization(request.getHeader(b"authorization"))
            if credentials is None and self._sessions is not None:
                principal = await sessionPrincipal(self._sessions, store, request.getCookie(COOKIE))
            else:
                try:
                    principal = await self._authenticator.authenticate(
                        store, credentials, request.getClientAddress().host)
                except LoginThrottled as e:
                    raise Problem(429, str(e), headers={"Retry-After": str(e.retryAfter)}) from None
            if principal is None:
                raise Problem(401, "log in: HTTP Basic with an operator's name and password, "
                                   "or Authorization: Bearer with an API token",
                              headers={"WWW-Authenticate": CHALLENGE})
            if not permits(principal.role, endpoint.role):
                raise Problem(403, f"this needs the role {endpoint.role}; {principal.actor} is "
                                   f"{principal.role}")
        query = parseQuery(endpoint.query, request.args)
        body = _readBody(request, endpoint) if endpoint.body is not None else None
        raw, media = _readRaw(request, endpoint) if endpoint.rawBody is not None else (None, None)
        headers = {}
        for name in endpoint.requestHeaders:
            value = request.getHeader(name.lower().encode("ascii"))
            headers[name] = None if value is None else value.decode("latin-1")
        call = Call(store=store, principal=principal, path=match.path, query=query, body=body,
                    now=self._clock.seconds(), endpoints=self.router.endpoints, headers=headers,
                    registry=self._registry, reactor=self._clock, raw=raw, mediaType=media,
                    config=self._config, pause=self._pause)
        answer = await endpoint.handler(call)
        return answer if isinstance(answer, Answer) else Answer(200, answer)

    def _unexpected(self, failure, request) -> Answer:
        _log.failure("API {method} {uri}: unexpected error", failure,
                     method=request.method.decode("latin-1"),
                     uri=request.uri.split(b"?", 1)[0].decode("latin-1"))
        return Answer(500, problemDocument(Problem(500, "internal error: see the server's log")))

    def _write(self, answer: Answer, request) -> None:
        if request.finished or getattr(request, "_disconnected", False):
            return
        request.setResponseCode(answer.status)
        request.setHeader(b"Cache-Control", b"no-store")
        for name, value in answer.headers.items():
            request.setHeader(name.encode("latin-1"), value.encode("latin-1"))
        if answer.body is None:
            request.finish()
            return
        if isinstance(answer.body, bytes):
            if "Content-Type" not in answer.headers:
                request.setHeader(b"Content-Type", b"application/octet-stream")
            request.setHeader(b"Content-Length", b"%d" % len(answer.body))
            request.write(answer.body)
            request.finish()
            return
        kind = PROBLEM_TYPE if answer.status >= 400 else "application/json"
        data = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        request.setHeader(b"Content-Type", kind.encode("ascii"))
        request.setHeader(b"Content-Length", b"%d" % len(data))
        request.write(data)
        request.finish()
