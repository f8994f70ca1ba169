# -*- test-case-name: tests.test_web -*-
"""
The phone-facing HTTP resource: C{/<vendor>/…} and root-level names a vendor
recognises.  GET and HEAD only, no listings, 404 for anything unknown,
C{ETag} and conditional GET.
"""

from __future__ import annotations

import hashlib

from twisted.logger import Logger
from twisted.web import http, static
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from ..provisioning import Fetch
from ..eventtext import safeText
from .tls import requestClientMAC

__all__ = ["ProvisioningResource"]

_NOT_FOUND = b"Not Found\n"


class ProvisioningResource(Resource):
    """
    A leaf answering every path below it through a
    L{snomprov.provisioning.Provisioner}.
    """

    isLeaf = True
    allowedMethods = (b"GET", b"HEAD")
    _log = Logger()

    def __init__(self, provisioner) -> None:
        super().__init__()
        self._provisioner = provisioner

    def render(self, request):
        """
        Anything but GET and HEAD is 405 with C{Allow} (Twisted's own
        answer would be 501 for methods it does not know, such as PUT).
        """
        if request.method not in self.allowedMethods:
            request.setResponseCode(http.NOT_ALLOWED)
            request.setHeader(b"allow", b", ".join(self.allowedMethods))
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"Method Not Allowed\n"
        return super().render(request)

    def render_GET(self, request):
        name = _requestedName(request)
        if name is None:
            return self._notFound(request)
        userAgent = request.getHeader(b"user-agent")
        fetch = Fetch(
            name=name,
            clientIP=request.getClientAddress().host,
            transport="http",
            userAgent=userAgent.decode("latin-1") if userAgent else None,
            clientMAC=requestClientMAC(request),
            secure=request.isSecure(),
        )
        d = self._provisioner.fetch(fetch)
        d.addCallback(self._respond, request)
        d.addErrback(self._failed, request, name)
        return NOT_DONE_YET

    render_HEAD = render_GET

    def _respond(self, rendered, request) -> None:
        if request._disconnected:
            return
        if rendered is None:
            request.write(self._notFound(request))
            request.finish()
            return
        if rendered.path:
            self._sendFile(rendered, request)
            return
        etag = _etagOf(rendered.content)
        request.setHeader(b"content-type", rendered.contentType.encode("ascii"))
        request.setHeader(b"cache-control", b"no-cache" if not rendered.sensitive else b"private, no-cache")
        if request.setETag(etag) == http.CACHED:
            request.finish()
            return
        request.setHeader(b"content-length", str(len(rendered.content)).encode("ascii"))
        if request.method != b"HEAD":
            request.write(rendered.content)
        request.finish()

    @staticmethod
    def _sendFile(rendered, request) -> None:
        """
        A configured file (firmware image), streamed by C{static.File}: its
        C{Last-Modified}, conditional GET and ranges.
        """
        body = static.File(rendered.path, defaultType=rendered.contentType).render(request)
        if body is not NOT_DONE_YET:
            request.write(body)
            request.finish()

    def _failed(self, failure, request, name) -> None:
        self._log.failure("Rendering {name} failed", failure, name=safeText(name))
        if request._disconnected:
            return
        request.setResponseCode(http.INTERNAL_SERVER_ERROR)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        request.write(b"Internal Server Error\n")
        request.finish()

    @staticmethod
    def _notFound(request) -> bytes:
        request.setResponseCode(http.NOT_FOUND)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return _NOT_FOUND


_etags: dict[bytes, bytes] = {}
_MAX_ETAGS = 16384


def _etagOf(content: bytes) -> bytes:
    """
    A strong ETag of C{content}, remembered for recent contents (a cached
    rendering is the same bytes object every time, and bytes keep their
    hash).
    """
    etag = _etags.get(content)
    if etag is None:
        etag = b'"' + hashlib.blake2b(content, digest_size=12).hexdigest().encode("ascii") + b'"'
        if len(_etags) >= _MAX_ETAGS:
            _etags.clear()
        _etags[content] = etag
    return etag


def _requestedName(request) -> str | None:
    """
    The name below this resource, with C{?mac=} and C{?token=} folded in
    (C{name?mac=MAC&token=T}, the token last: L{snomprov.proofs.splitToken}
    takes it out); C{None} for empty names, dot segments or undecodable
    paths.
    """
    try:
        # Twisted has already percent-decoded the segments.
        segments = [s.decode("utf-8") for s in request.postpath]
    except UnicodeDecodeError:
        return None
    if not segments or any(s in ("", ".", "..") or "/" in s or "\x00" in s for s in segments):
        return None
    name = "/".join(segments)
    query = []
    for key in (b"mac", b"token"):
        values = request.args.get(key)
        if values:
            try:
                query.append(f"{key.decode()}={values[0].decode('ascii')}")
            except UnicodeDecodeError:
                return None
    return f"{name}?{'&'.join(query)}" if query else name
