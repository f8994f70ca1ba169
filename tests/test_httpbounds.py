"""
Tests for L{snomprov.web.bounds}: a L{BoundedSite} driven through
C{StringTransport}s with a C{Clock}: request headers not complete in time
close the connection, bodies larger than their path's limit are answered
413 before they are stored, one address holds at most so many
connections, and the access log's fields are cut and escaped.
"""

from __future__ import annotations

import io

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web.resource import Resource

from snomprov.config import parseConfig
from snomprov.web.bounds import BoundedSite, HTTPLimits, _Refused
from snomprov.web.sites import makeSite


class Echo(Resource):
    """
    Answers every request with the size of the body it was given, and
    remembers the requests.
    """

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.seen = []

    def render(self, request):
        body = request.content.read()
        self.seen.append((request.path, len(body)))
        return b"got %d\n" % len(body)


def _site(clock, **limits):
    root = Echo()
    site = BoundedSite(root, HTTPLimits(**limits), adminNames={b"api"}, reactor=clock)
    return root, site


def _connect(site, host="192.0.2.7", port=40000):
    address = IPv4Address("TCP", host, port)
    protocol = site.buildProtocol(address)
    transport = StringTransport(peerAddress=address)
    protocol.makeConnection(transport)
    return protocol, transport


def test_slowHeadersClosed():
    """
    A connection whose request headers are not complete C{headerTimeout}
    seconds after it opened gets 408 and is closed.
    """
    clock = Clock()
    root, site = _site(clock, headerTimeout=10)
    channel, transport = _connect(site)
    channel.dataReceived(b"GET /snom/x HTTP/1.1\r\nHost: a\r\n")
    clock.advance(9.5)
    assert not transport.disconnecting
    channel.dataReceived(b"User-Agent: slow\r\n")
    clock.advance(0.5)
    assert transport.value().startswith(b"HTTP/1.1 408 ")
    assert transport.disconnecting
    assert site.slowHeaders == 1 and root.seen == []


def test_headersInTimeServed():
    """
    Headers complete within the deadline: the request is served and the
    connection stays; the deadline starts again for the next request.
    """
    clock = Clock()
    root, site = _site(clock, headerTimeout=10)
    channel, transport = _connect(site)
    channel.dataReceived(b"GET /snom/x HTTP/1.1\r\nHost: a\r\n")
    clock.advance(9)
    channel.dataReceived(b"\r\n")
    assert root.seen == [(b"/snom/x", 0)]
    clock.advance(9)
    assert not transport.disconnecting
    clock.advance(1)
    assert transport.disconnecting and site.slowHeaders == 1


def test_slowPhoneBodyClosed():
    """
    On a phone-facing path the body too must arrive within the deadline;
    an operators' upload may take longer.
    """
    clock = Clock()
    root, site = _site(clock, headerTimeout=10)
    channel, transport = _connect(site)
    channel.dataReceived(b"POST /snom/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345")
    clock.advance(10)
    assert transport.value().startswith(b"HTTP/1.1 408 ") and transport.disconnecting
    admin, adminTransport = _connect(site, port=2)
    admin.dataReceived(b"POST /api/imports HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345")
    clock.advance(30)
    admin.dataReceived(b"67890")
    assert not adminTransport.disconnecting and root.seen == [(b"/api/imports", 10)]


def test_oversizedBodyRefusedByLength():
    """
    A phone-facing request announcing a body larger than C{maxBody} gets
    413 and the connection is closed, before any of the body is stored or
    a resource sees it.
    """
    clock = Clock()
    root, site = _site(clock, maxBody=100)
    channel, transport = _connect(site)
    channel.dataReceived(b"POST /snom/x HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n" + b"x" * 101)
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    assert transport.disconnecting
    assert root.seen == [] and site.tooLarge == 1
    assert channel.requests[-1].content is None


def test_limitPerPath():
    """
    The same body passes on an operators' path (C{adminMaxBody}) and at
    the limit on a phone-facing one.
    """
    clock = Clock()
    root, site = _site(clock, maxBody=100, adminMaxBody=1000)
    channel, transport = _connect(site)
    channel.dataReceived(b"POST /api/imports HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\n\r\n" + b"x" * 500)
    channel.dataReceived(b"POST /snom/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + b"x" * 100)
    assert root.seen == [(b"/api/imports", 500), (b"/snom/x", 100)]
    assert b" 413 " not in transport.value()


def test_oversizedChunkedBodyRefused():
    """
    A chunked body is counted as it arrives: past the limit the rest is
    not stored, 413 is answered and no resource sees the request.
    """
    clock = Clock()
    root, site = _site(clock, maxBody=100)
    channel, transport = _connect(site)
    channel.dataReceived(b"POST /snom/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
    channel.dataReceived(b"50\r\n" + b"x" * 80 + b"\r\n")
    assert not transport.disconnecting
    channel.dataReceived(b"50\r\n" + b"y" * 80 + b"\r\n0\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    assert transport.disconnecting and root.seen == []
    content = channel.requests[-1].content
    content.seek(0, 2)
    assert content.tell() <= 100


def test_connectionsPerAddress():
    """
    Past C{connectionsPerAddress} open connections from one address, the
    next one is closed at once; other addresses are not affected, and a
    closed connection frees its place.
    """
    clock = Clock()
    root, site = _site(clock, connectionsPerAddress=2)
    first, _ = _connect(site, port=1)
    _connect(site, port=2)
    third, transport = _connect(site, port=3)
    assert isinstance(third, _Refused) and transport.disconnected
    other, otherTransport = _connect(site, host="192.0.2.8")
    assert not isinstance(other, _Refused) and not otherTransport.disconnecting
    assert site.refusedConnections == 1 and site.openConnections("192.0.2.7") == 2
    first.connectionLost(None)
    fourth, _ = _connect(site, port=4)
    assert not isinstance(fourth, _Refused)
    assert site.openConnections("192.0.2.7") == 2


def test_accessLogBoundedAndEscaped():
    """
    The access log line of a request with control characters and a long
    User-Agent carries neither: each field is escaped and cut at
    C{logFieldLength}.
    """
    clock = Clock()
    root, site = _site(clock, logFieldLength=40, accessLog=True)
    site.startFactory()
    site.logFile = io.StringIO()
    try:
        channel, transport = _connect(site)
        agent = b"e\x1b[2J\x07\xff\xc2\x85\xe2\x80\xa8f" + b"A" * 500
        channel.dataReceived(b"GET /snom/" + b"P" * 300 + b" HTTP/1.1\r\nHost: a\r\nUser-Agent: " + agent
                             + b"\r\n\r\n")
        line = site.logFile.getvalue()
    finally:
        site.stopFactory()
    assert root.seen
    assert line.count("\n") == 1 and line.endswith("\n")
    assert not any(ord(c) < 0x20 for c in line[:-1])
    assert '"e\\x1b[2J\\x07\\xff\\x85\\u2028f' in line
    assert "A" * 41 not in line and "P" * 41 not in line and line.count("...[+") == 2


def test_limitsFromConfig():
    """
    The phones' listeners get C{[http]}'s limits and the per-address cap;
    the operators' listeners C{[admin] max_body} for every path, no cap.
    """
    config = parseConfig("[http]\nmax_body = 10\nheader_timeout = 3\nconnections_per_address = 5\n"
                         "[admin]\nmax_body = 99\n[server]\nlog_field_length = 50\n")
    phones, operators = HTTPLimits.fromConfig(config), HTTPLimits.fromConfig(config, phones=False)
    assert phones == HTTPLimits(10, 99, 3, 5, 50)
    assert operators == HTTPLimits(99, 99, 3, None, 50)
    site = makeSite(Echo(), operators, adminNames=None)
    assert site.bodyLimitFor(b"/snom/x") == 99 and site.displayTracebacks is False
