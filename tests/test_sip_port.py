"""
Tests for L{snomprov.sip.port}: batched reads and writes and polling under
load, on real UDP sockets on 127.0.0.1 and a fake reactor whose clock and
readers the tests drive (they call C{doRead} where the reactor would).
"""

from __future__ import annotations

import select
import socket
import sys

import pytest

from twisted.internet.protocol import DatagramProtocol
from twisted.logger import LogLevel, capturedLogs

from snomprov.sip.batchio import BatchIO
from snomprov.sip.port import SIPPort, SIPServer, listenSIP
from snomprov.testing import FakeFDReactor, FakeMulticastTransport, FakeUDPReactor

HOST = "127.0.0.1"
INTERVAL = 0.002
linuxOnly = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="recvmmsg is Linux's")


class Echo(DatagramProtocol):
    """
    Answers each datagram with C{b"re:"} and the datagram, to its source,
    and to the extra destinations in C{alsoTo}.

    @ivar received: the datagrams with their sources.
    """

    def __init__(self, alsoTo=()) -> None:
        self.received: list[tuple[bytes, tuple[str, int]]] = []
        self.alsoTo = list(alsoTo)

    def datagramReceived(self, data, address):
        self.received.append((data, address))
        for destination in [address, *self.alsoTo]:
            self.transport.write(b"re:" + data, destination)


class Counting:
    """
    Wraps a callable and counts its calls.
    """

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        return self.wrapped(*args)


@pytest.fixture
def reactor():
    return FakeFDReactor()


@pytest.fixture
def peer():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(2)
    yield s
    s.close()


@pytest.fixture
def listen(reactor):
    """
    Start a L{SIPPort} on 127.0.0.1 with the given protocol and attributes;
    every port started is closed at the end.
    """
    ports = []

    def listen(protocol, **attributes) -> SIPPort:
        port = SIPPort(0, protocol, HOST, reactor=reactor)
        for name, value in attributes.items():
            setattr(port, name, value)
        port.startListening()
        ports.append(port)
        return port

    yield listen
    for port in ports:
        if port.connected:
            port.stopListening()
    reactor.advance(0)


def send(peer, port: SIPPort, *datagrams: bytes) -> None:
    """
    Send C{datagrams} from C{peer} to C{port}, and wait until its socket
    has one to read.
    """
    for data in datagrams:
        peer.sendto(data, (HOST, port.getHost().port))
    assert select.select([port.socket], [], [], 2)[0]


def replies(peer, count: int) -> list[bytes]:
    """
    The next C{count} datagrams C{peer} receives.
    """
    return [peer.recvfrom(100)[0] for _ in range(count)]


def watching(reactor, port) -> bool:
    """
    Whether the reactor watches C{port}'s socket.
    """
    return port in reactor.readers


def polls(reactor) -> list[float]:
    """
    When each pending poll (or other timer) is due.
    """
    return [call.getTime() for call in reactor.getDelayedCalls()]


@linuxOnly
def test_batchReadOneSendPerBatch(reactor, peer, listen):
    """
    One wakeup reads the waiting datagrams in batches of C{batchSize}, one
    C{recvmmsg} a batch, hands each to the protocol in order, and sends the
    replies written while a batch was handled with one C{sendmmsg} at the
    end of that batch; no C{sendto}.
    """
    protocol = Echo()
    port = listen(protocol, batchSize=4, pollInterval=0)
    assert isinstance(port._io, BatchIO) and port._io.count == 4
    port._io._recvmmsg = recvmmsg = Counting(port._io._recvmmsg)
    port._io._sendmmsg = sendmmsg = Counting(port._io._sendmmsg)
    port._sendto = sendto = Counting(port._sendto)
    sent = [b"datagram %d" % i for i in range(6)]
    send(peer, port, *sent)
    port.doRead()
    assert protocol.received == [(data, peer.getsockname()) for data in sent]
    assert (recvmmsg.calls, sendmmsg.calls, sendto.calls) == (2, 2, 0)
    assert replies(peer, 6) == [b"re:" + data for data in sent]


@linuxOnly
def test_fullReadStopsAtBatchesPerRead(reactor, peer, listen):
    """
    One read takes at most C{batchesPerRead} batches; what is left waits for
    the next read.
    """
    protocol = Echo()
    port = listen(protocol, batchSize=2, batchesPerRead=2, pollInterval=0)
    send(peer, port, *[b"%d" % i for i in range(5)])
    port.doRead()
    assert len(protocol.received) == 4
    port.doRead()
    assert len(protocol.received) == 5


@linuxOnly
def test_defaultReadDrainsABurst(reactor, peer, listen):
    """
    With the defaults, one read answers a burst of 1,500 datagrams (what a
    boot storm of 2,000 phones/s sends while the reactor serves HTTP for
    some 0.4 s): none waits for the next reactor iteration.
    """
    protocol = Echo()
    port = listen(protocol)
    burst = [b"%d" % i for i in range(1500)]
    send(peer, port, *burst)
    port.doRead()
    assert [data for data, _ in protocol.received] == burst


def test_writeOutsideBatchSentAtOnce(reactor, peer, listen):
    """
    A write outside a batch (a timer's) goes out at once.
    """
    port = listen(Echo())
    port.write(b"retransmission", peer.getsockname())
    assert replies(peer, 1) == [b"retransmission"]
    assert polls(reactor) == []


def test_pollsWhileBusy(reactor, peer, listen):
    """
    A read that found datagrams stops the reactor watching the socket and
    polls it C{pollInterval} later, and again while polls find datagrams;
    the first poll that finds none has the reactor watch the socket again.
    """
    protocol = Echo()
    port = listen(protocol, pollInterval=INTERVAL)
    assert watching(reactor, port)
    send(peer, port, b"first")
    port.doRead()
    assert protocol.received == [(b"first", peer.getsockname())]
    assert replies(peer, 1) == [b"re:first"]
    assert not watching(reactor, port) and polls(reactor) == [INTERVAL]

    send(peer, port, b"second", b"third")
    reactor.advance(INTERVAL)
    assert [data for data, _ in protocol.received] == [b"first", b"second", b"third"]
    assert not watching(reactor, port) and polls(reactor) == [2 * INTERVAL]

    reactor.advance(INTERVAL)
    assert watching(reactor, port) and polls(reactor) == []
    assert len(protocol.received) == 3
    assert replies(peer, 2) == [b"re:second", b"re:third"]


def test_pollDueIntervalAfterReadBegan(reactor, peer, listen):
    """
    The next poll is due C{pollInterval} after the read began, not after
    it ended; at once when handling took longer than that.
    """

    class Slow(Echo):
        cost = 0.0

        def datagramReceived(self, data, address):
            reactor.rightNow += self.cost
            super().datagramReceived(data, address)

    delays = []
    callLater = reactor.callLater

    def recordingCallLater(delay, f, *args, **kwargs):
        delays.append(delay)
        return callLater(delay, f, *args, **kwargs)

    reactor.callLater = recordingCallLater
    protocol = Slow()
    port = listen(protocol, pollInterval=INTERVAL)
    protocol.cost = 0.0015
    send(peer, port, b"quick")
    port.doRead()
    assert polls(reactor) == [pytest.approx(INTERVAL)]
    protocol.cost = 0.003
    send(peer, port, b"slow")
    reactor.advance(polls(reactor)[0] - reactor.seconds())
    assert delays == [pytest.approx(INTERVAL - 0.0015), 0.0]
    assert [data for data, _ in protocol.received] == [b"quick", b"slow"]
    assert watching(reactor, port) and polls(reactor) == []


def test_fullReadPollsAtOnce(reactor, peer, listen):
    """
    A read that took all a read may (C{batchesPerRead} full batches) is
    followed by a poll at once: the socket may hold more.
    """
    protocol = Echo()
    port = listen(protocol, batchSize=2, batchesPerRead=2, pollInterval=INTERVAL)
    send(peer, port, *[b"%d" % i for i in range(5)])
    port.doRead()
    assert len(protocol.received) == 4 and polls(reactor) == [0.0]
    reactor.advance(0)
    assert len(protocol.received) == 5 and polls(reactor) == [INTERVAL]
    assert not watching(reactor, port)


def test_emptyWakeupKeepsWatching(reactor, listen):
    """
    A wakeup that finds nothing to read leaves the reactor watching, with
    no poll.
    """
    port = listen(Echo(), pollInterval=INTERVAL)
    port.doRead()
    assert watching(reactor, port) and polls(reactor) == []


def test_noPolling(reactor, peer, listen):
    """
    With C{pollInterval} 0 the reactor always watches the socket.
    """
    protocol = Echo()
    port = listen(protocol, pollInterval=0)
    for data in (b"one", b"two"):
        send(peer, port, data)
        port.doRead()
        assert watching(reactor, port) and polls(reactor) == []
    assert len(protocol.received) == 2


def test_stopListeningCancelsPoll(reactor, peer, listen):
    """
    Stopping the port cancels a pending poll and closes the socket.
    """
    port = listen(Echo(), pollInterval=INTERVAL)
    send(peer, port, b"busy")
    port.doRead()
    assert polls(reactor) == [INTERVAL]
    stopped = port.stopListening()
    reactor.advance(0)
    assert polls(reactor) == [] and not watching(reactor, port)
    assert stopped.called and not port.connected


def test_recvfromFallback(reactor, peer, listen, monkeypatch):
    """
    Where L{BatchIO} cannot work, the port reads with C{recvfrom} and sends
    the batch's replies one by one with C{sendto}, and polls all the same.
    """
    monkeypatch.setattr(BatchIO, "create", classmethod(lambda cls, *args: None))
    protocol = Echo()
    port = listen(protocol, batchSize=2, pollInterval=INTERVAL)
    assert not isinstance(port._io, BatchIO)
    port._sendto = sendto = Counting(port._sendto)
    sent = [b"a", b"b", b"c"]
    send(peer, port, *sent)
    port.doRead()
    assert protocol.received == [(data, peer.getsockname()) for data in sent]
    assert sendto.calls == 3
    assert replies(peer, 3) == [b"re:" + data for data in sent]
    assert not watching(reactor, port) and polls(reactor) == [INTERVAL]
    reactor.advance(INTERVAL)
    assert watching(reactor, port)


def test_sendErrorDoesNotRaise(reactor, peer, listen):
    """
    A datagram the kernel refuses (to the broadcast address, without
    C{SO_BROADCAST}), in a batch or outside one, is logged at debug level
    and does not keep the batch's other replies from going out.
    """
    refused = ("255.255.255.255", 9)
    port = listen(Echo(alsoTo=[refused]), pollInterval=0)
    with capturedLogs() as events:
        send(peer, port, b"x")
        port.doRead()
        port.write(b"y", refused)
    assert replies(peer, 1) == [b"re:x"]
    failures = [e for e in events if e.get("address") == refused]
    assert [e["log_level"] for e in failures] == [LogLevel.debug] * 2


@linuxOnly
def test_unsentSentOneByOne(reactor, peer, listen):
    """
    The datagrams C{sendmmsg} did not send (to a name rather than an
    address literal) are sent one by one with C{sendto}.
    """
    peerPort = peer.getsockname()[1]
    port = listen(Echo(alsoTo=[("localhost", peerPort)]), pollInterval=0)
    port._sendto = sendto = Counting(port._sendto)
    send(peer, port, b"x")
    port.doRead()
    assert sendto.calls == 1
    assert sorted(replies(peer, 2)) == [b"re:x", b"re:x"]


def test_protocolErrorLoggedBatchGoesOn(reactor, peer, listen):
    """
    A protocol raising for one datagram is logged; the batch's other
    datagrams are handled and the replies sent.
    """

    class Fragile(Echo):
        def datagramReceived(self, data, address):
            if data == b"bad":
                raise RuntimeError("bug")
            super().datagramReceived(data, address)

    port = listen(Fragile(), pollInterval=0)
    with capturedLogs() as events:
        send(peer, port, b"bad", b"good")
        port.doRead()
    assert replies(peer, 1) == [b"re:good"]
    assert [e["log_level"] for e in events if "log_failure" in e] == [LogLevel.critical]


def test_receiveBufferGrown(reactor, listen):
    """
    The receive buffer is grown to C{receiveBuffer} bytes, or the port says
    how much the kernel granted.
    """
    with capturedLogs() as events:
        port = listen(Echo())
    granted = port.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    logged = [e for e in events if "rmem_max" in e.get("log_format", "")]
    assert granted >= SIPPort.receiveBuffer or [e["granted"] for e in logged] == [granted]


def test_serverListensWithSIPPort(reactor, peer):
    """
    L{SIPServer} listens with a L{SIPPort} on a reactor that watches file
    descriptors: its poll interval given, C{SO_REUSEADDR} and
    C{SO_REUSEPORT} not set (the port is not shared); it stops listening
    when stopped.
    """
    protocol = Echo()
    server = SIPServer(0, protocol, HOST, pollInterval=0.005, reactor=reactor)
    server.startService()
    port = server._port
    assert isinstance(port, SIPPort) and port.pollInterval == 0.005
    assert not port.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    assert not port.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
    assert watching(reactor, port) and protocol.transport is port
    stopped = server.stopService()
    reactor.advance(0)
    assert stopped.called and not port.connected


def test_serverSharesPortWhenAsked(reactor):
    """
    L{SIPServer} with C{sharePort} sets C{SO_REUSEADDR} and
    C{SO_REUSEPORT}, so that another socket may bind its port too.
    """
    server = SIPServer(0, Echo(), HOST, reactor=reactor, sharePort=True)
    server.startService()
    try:
        sock = server._port.socket
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
    finally:
        server.stopService()
        reactor.advance(0)


def test_listenSIPFallsBackToListenMulticast():
    """
    On a reactor without file descriptors, L{listenSIP} listens with the
    reactor's own C{listenMulticast}.
    """
    reactor = FakeUDPReactor()
    protocol = Echo()
    listening = listenSIP(reactor, 5060, protocol)
    assert isinstance(listening, FakeMulticastTransport) and protocol.transport is listening
    assert reactor.ports == [(5060, protocol, listening)]

