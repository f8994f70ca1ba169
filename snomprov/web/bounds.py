# -*- test-case-name: tests.test_httpbounds -*-
"""
The HTTP listeners' bounds: a L{BoundedSite} whose connections must
complete their request headers in time, whose request bodies are refused
(413) before they are stored when larger than the path's limit, and whose
client addresses may each hold only so many connections at once; and its
access log, each field cut and escaped (L{snomprov.eventtext.safeText}).

Twisted's C{Request} reads a body into C{request.content} before any
resource sees it, so the limit is applied by the channel: by
C{Content-Length} as soon as the headers are complete, and while a chunked
body arrives.  The limit is C{[http] max_body} for phone-facing paths and
C{[admin] max_body} for the operators' (the first path segments named by
C{adminNames}, or every path of the operators' own listeners).
"""

from __future__ import annotations

import re

from dataclasses import dataclass

from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.web.http import HTTPChannel
from twisted.web.server import Request, Site

from ..eventtext import FIELD_LENGTH, safeText

__all__ = ["HTTPLimits", "BoundedSite", "BoundedChannel", "BoundedRequest", "accessLogFormatter"]


def _closingResponse(status: bytes, text: bytes) -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\nConnection: close\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: "
            + str(len(text)).encode("ascii") + b"\r\n\r\n" + text)


_TOO_LARGE = _closingResponse(b"413 Content Too Large", b"Request body too large.\n")
_TOO_SLOW = _closingResponse(b"408 Request Timeout", b"Request headers not complete in time.\n")


@dataclass(frozen=True)
class HTTPLimits:
    """
    @ivar maxBody: the largest body (bytes) on a phone-facing path.
    @ivar adminMaxBody: the largest body on an operators' path.
    @ivar headerTimeout: seconds to complete the request headers (and, on
        a phone-facing path, its body), from the connection's opening or
        its previous response; C{None}: no limit.
    @ivar connectionsPerAddress: connections one client address may hold
        open; C{None}: no limit.
    @ivar logFieldLength: the most characters of one access-log field.
    @ivar accessLog: whether each request is a line of the log (Twisted's
        combined log format); each fetch is an event in the store anyway.
    """

    maxBody: int = 16 * 1024
    adminMaxBody: int = 17 * 1024 * 1024
    headerTimeout: float | None = 10.0
    connectionsPerAddress: int | None = 256
    logFieldLength: int = FIELD_LENGTH
    accessLog: bool = False

    @classmethod
    def fromConfig(cls, config, phones: bool = True) -> "HTTPLimits":
        """
        The limits of C{[http] listen} (C{phones}) or of C{[admin] listen}
        (no per-address cap: the operators' listeners are not the phones').
        """
        return cls(
            maxBody=config.http.maxBody if phones else config.admin.maxBody,
            adminMaxBody=config.admin.maxBody,
            headerTimeout=config.http.headerTimeout,
            connectionsPerAddress=config.http.connectionsPerAddress if phones else None,
            logFieldLength=config.server.logFieldLength,
            accessLog=config.http.accessLog,
        )


class BoundedRequest(Request):
    """
    A request whose chunked body is counted as it arrives: past the
    channel's limit, nothing more is stored and the channel answers 413.
    """

    _bodyReceived = 0

    def handleContentChunk(self, data: bytes) -> None:
        channel = self.channel
        limit = getattr(channel, "_bodyLimit", None)
        self._bodyReceived += len(data)
        if limit is not None and self._bodyReceived > limit:
            channel._tooLarge()
            return
        super().handleContentChunk(data)


class BoundedChannel(HTTPChannel):
    """
    An C{HTTPChannel} with the bounds of its L{BoundedSite}.
    """

    _log = Logger()
    _headerCall = None
    _bodyLimit: int | None = None
    _refused = False
    _countedHost: str | None = None

    def connectionMade(self) -> None:
        super().connectionMade()
        self._armHeaderDeadline()

    def _armHeaderDeadline(self) -> None:
        timeout = self.site.limits.headerTimeout
        if timeout is not None and self._headerCall is None:
            self._headerCall = self.callLater(timeout, self._headersLate)

    def _disarmHeaderDeadline(self) -> None:
        if self._headerCall is not None:
            if self._headerCall.active():
                self._headerCall.cancel()
            self._headerCall = None

    def _headersLate(self) -> None:
        self._headerCall = None
        self.site.slowHeaders += 1
        self._log.debug("Closed a connection from {peer}: request not complete in time",
                        peer=safeText(str(self.transport.getPeer())))
        self._refuse(_TOO_SLOW)

    def allHeadersReceived(self) -> None:
        operators = self.site.isOperatorsPath(self._path)
        limits = self.site.limits
        limit = self._bodyLimit = limits.adminMaxBody if operators else limits.maxBody
        if self.length is not None and self.length > limit:
            self._tooLarge()
            return
        if self.length == 0 or operators:
            # A phone-facing body must arrive within the same deadline
            # (phones send none; a slow one holds a connection); an
            # operator's upload may take its time.
            self._disarmHeaderDeadline()
        super().allHeadersReceived()

    def _tooLarge(self) -> None:
        if not self._refused:
            self.site.tooLarge += 1
            self._refuse(_TOO_LARGE)

    def _refuse(self, response: bytes) -> None:
        """
        Answer C{response} and close; nothing more that arrives is read or
        stored.
        """
        self._refused = True
        self._disarmHeaderDeadline()
        self.transport.write(response)
        self.loseConnection()

    def allContentReceived(self) -> None:
        if self._refused:
            return
        self._disarmHeaderDeadline()
        super().allContentReceived()

    def requestDone(self, request) -> None:
        super().requestDone(request)
        if self.persistent and not self._refused:
            self._armHeaderDeadline()

    def connectionLost(self, reason) -> None:
        self._disarmHeaderDeadline()
        super().connectionLost(reason)
        if self._countedHost is not None:
            self.site._closed(self._countedHost)
            self._countedHost = None


class _Refused(Protocol):
    """
    A connection past its address's cap: closed as soon as it is made.
    """

    def connectionMade(self) -> None:
        self.transport.abortConnection()


class BoundedSite(Site):
    """
    A C{Site} with L{HTTPLimits}, showing no traceback to clients.

    @ivar adminNames: first path segments that are operators' paths
        (C{b"api"}); C{None}: every path is (the operators' own listeners).
    @ivar tooLarge: requests refused with 413.
    @ivar slowHeaders: connections closed for incomplete headers.
    @ivar refusedConnections: connections closed past the per-address cap.
    """

    protocol = BoundedChannel
    requestFactory = BoundedRequest
    displayTracebacks = False

    def __init__(self, resource, limits: HTTPLimits = HTTPLimits(), adminNames=frozenset(),
                 reactor=None) -> None:
        super().__init__(resource, logFormatter=accessLogFormatter(limits.logFieldLength), reactor=reactor)
        self.limits = limits
        self.adminNames = None if adminNames is None else frozenset(adminNames)
        self.tooLarge = 0
        self.slowHeaders = 0
        self.refusedConnections = 0
        self._open: dict[str, int] = {}

    def log(self, request) -> None:
        if self.limits.accessLog:
            super().log(request)

    def isOperatorsPath(self, target: bytes) -> bool:
        """
        Whether a request target (C{/api/imports?x=1}) is an operators'
        path.
        """
        if self.adminNames is None:
            return True
        return target.split(b"?", 1)[0].lstrip(b"/").split(b"/", 1)[0] in self.adminNames

    def bodyLimitFor(self, target: bytes) -> int:
        """
        The body limit of a request target.
        """
        return self.limits.adminMaxBody if self.isOperatorsPath(target) else self.limits.maxBody

    def buildProtocol(self, addr):
        host = getattr(addr, "host", None)
        cap = self.limits.connectionsPerAddress
        if cap is not None and host is not None:
            if self._open.get(host, 0) >= cap:
                self.refusedConnections += 1
                return _Refused()
        channel = super().buildProtocol(addr)
        if host is not None:
            self._open[host] = self._open.get(host, 0) + 1
            channel._countedHost = host
        return channel

    def openConnections(self, host: str) -> int:
        """
        How many connections C{host} holds open now.
        """
        return self._open.get(host, 0)

    def _closed(self, host: str) -> None:
        left = self._open.get(host, 0) - 1
        if left > 0:
            self._open[host] = left
        else:
            self._open.pop(host, None)


_TOKEN_VALUE = re.compile(r"([?&]token=)[^&\s#]*")


def accessLogFormatter(limit: int = FIELD_LENGTH):
    """
    Twisted's combined log format, each field from the request through
    L{safeText} with C{limit} (and its double quotes escaped); a C{token}
    parameter's value (a proof, L{snomprov.proofs}) is written C{***}.
    """

    def field(value) -> str:
        return safeText(value, limit).replace('"', '\\"')

    def uri(value) -> str:
        text = field(value)
        return _TOKEN_VALUE.sub(r"\1***", text) if "token=" in text else text

    def formatter(timestamp: str, request) -> str:
        address = request.getClientAddress()
        ip = getattr(address, "host", None) or "-"
        return (
            f'"{field(ip)}" - - {timestamp} "{field(request.method)} {uri(request.uri)} '
            f'{field(request.clientproto)}" {request.code} {request.sentLength or "-"} '
            f'"{field(request.getHeader(b"referer"))}" "{field(request.getHeader(b"user-agent"))}"'
        )

    return formatter
