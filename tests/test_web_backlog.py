"""
L{snomprov.web.backlog}: C{[http] backlog} written into the endpoint
descriptions that take one, and the daemon's listeners made with it.
"""

from __future__ import annotations

import pytest
from twisted.internet.endpoints import _parseServer
from twisted.internet.testing import MemoryReactorClock

from snomprov.tap import Options, makeService
from snomprov.web.backlog import withBacklog


@pytest.mark.parametrize(
    "description,expected",
    [
        ("tcp:8080", "tcp:8080:backlog=1024"),
        ("tcp:80:interface=192.0.2.10", "tcp:80:interface=192.0.2.10:backlog=1024"),
        ("tcp6:8080:interface=\\:\\:1", "tcp6:8080:interface=\\:\\:1:backlog=1024"),
        ("ssl:443:privateKey=k.pem:certKey=c.pem", "ssl:443:privateKey=k.pem:certKey=c.pem:backlog=1024"),
        ("unix:/run/snomprov.sock", "unix:/run/snomprov.sock:backlog=1024"),
        ("TCP:8080", "TCP:8080:backlog=1024"),
        # Its own backlog wins; systemd's socket listens already.
        ("tcp:8080:backlog=5", "tcp:8080:backlog=5"),
        ("tcp:port=8080:backlog=5:interface=127.0.0.1", "tcp:port=8080:backlog=5:interface=127.0.0.1"),
        ("systemd:domain=INET:index=0", "systemd:domain=INET:index=0"),
    ],
)
def test_withBacklog(description, expected):
    """
    C{backlog=} is added to the types that take it and set none.
    """
    assert withBacklog(description, 1024) == expected


def test_parsedByTwisted():
    """
    Twisted reads the added C{backlog} (an escaped colon in a value does not
    end it early).
    """
    _, _, kwargs = _parseServer(withBacklog("tcp6:8080:interface=\\:\\:1", 700), None)
    assert kwargs == {"interface": "::1", "backlog": "700"}


def test_daemonListensWithIt(tmp_path):
    """
    The daemon's HTTP and operators' listeners listen with C{[http]
    backlog}, except where a description sets its own.
    """
    o = Options()
    o.parseOptions(["--data-dir", str(tmp_path / "var"), "--http", "tcp:0", "--http", "tcp:0:backlog=7",
                    "--no-sip", "--no-tftp"])
    o.config = o.config.replaceIn("http", backlog=300).replaceIn("admin", listen=("tcp:0:interface=127.0.0.2",))
    reactor = MemoryReactorClock()
    service = makeService(o, reactor=reactor)
    for name in ("http-0", "http-1", "admin-0"):
        service.getServiceNamed(name).privilegedStartService()
    assert [(backlog, interface) for _, _, backlog, interface in reactor.tcpServers] == [
        (300, ""), (7, ""), (300, "127.0.0.2")]
