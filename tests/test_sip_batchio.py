"""
Tests for L{snomprov.sip.batchio}: many datagrams per system call on Linux.
"""

from __future__ import annotations

import socket
import sys

import pytest

from snomprov.sip.batchio import BatchIO

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="recvmmsg is Linux's")


@pytest.fixture
def sockets():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.setblocking(False)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(2)
    yield server, peer
    server.close()
    peer.close()


def test_receiveInBatches(sockets):
    """
    L{BatchIO.receive} returns up to C{count} waiting datagrams with their
    sources, in order, cut at C{size} bytes like C{recvfrom(size)}; an
    empty list when none is waiting.
    """
    server, peer = sockets
    batchIO = BatchIO.create(server, count=4, size=16)
    assert batchIO.receive() == []
    sent = [b"datagram %d" % i + b"x" * i for i in range(6)]
    for data in sent:
        peer.sendto(data, server.getsockname())
    source = peer.getsockname()
    assert batchIO.receive() == [(data[:16], source) for data in sent[:4]]
    assert batchIO.receive() == [(data[:16], source) for data in sent[4:]]
    assert batchIO.receive() == []


def test_sendInBatches(sockets):
    """
    L{BatchIO.send} sends every datagram, in order, however many there
    are, and hands back those to an address that is not an IPv4 literal.
    """
    server, peer = sockets
    batchIO = BatchIO.create(server, count=3, size=64)
    to = peer.getsockname()
    datagrams = [(b"reply %d" % i, to) for i in range(7)]
    unsent = batchIO.send(datagrams[:2] + [(b"named", ("localhost", to[1]))] + datagrams[2:])
    assert unsent == [(b"named", ("localhost", to[1]))]
    assert [peer.recvfrom(100) for _ in datagrams] == [(d, server.getsockname()) for d, _ in datagrams]


def test_onlyIPv4Datagrams():
    """
    L{BatchIO.create} declines a socket that is not IPv4 UDP.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as stream:
        assert BatchIO.create(stream) is None
    if socket.has_ipv6:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as six:
            assert BatchIO.create(six) is None


def test_refusedHandedBack(sockets):
    """
    A datagram the kernel refuses (to the broadcast address, without
    C{SO_BROADCAST}) is handed back; those after it in the batch are sent.
    """
    server, peer = sockets
    batchIO = BatchIO.create(server, count=8, size=64)
    to = peer.getsockname()
    refused = (b"refused", ("255.255.255.255", to[1]))
    unsent = batchIO.send([(b"before", to), refused, (b"after", to)])
    assert unsent == [refused]
    assert [peer.recvfrom(100)[0] for _ in range(2)] == [b"before", b"after"]
