# -*- test-case-name: tests.test_sip_port -*-
"""
The SIP responder's UDP transport: L{SIPPort}, a multicast port that reads
and writes datagrams in batches (L{BatchIO}: C{recvmmsg} and C{sendmmsg} on
Linux) and, under load, polls its socket on a timer rather than waking once
per datagram; L{SIPServer}, the service that listens with it.
"""

from __future__ import annotations

import socket

from twisted.application.internet import MulticastServer
from twisted.internet.interfaces import IReactorFDSet
from twisted.internet.udp import MulticastPort
from twisted.logger import Logger

from .batchio import BatchIO

__all__ = ["SIPPort", "SIPServer", "listenSIP"]


class _OneByOne:
    """
    The reads and writes of a L{SIPPort} where L{BatchIO} cannot work: one
    C{recvfrom} per datagram, and no sending of its own.

    @ivar count: datagrams read per L{receive} at most.
    """

    def __init__(self, sock: socket.socket, count: int, size: int) -> None:
        self._recvfrom = sock.recvfrom
        self.count = count
        self._size = size

    def receive(self) -> list[tuple[bytes, tuple]]:
        """
        The datagrams waiting, up to C{count}, as L{BatchIO.receive}.

        @raise OSError: for an error other than none waiting, when nothing
            was read before it.
        """
        received: list[tuple[bytes, tuple]] = []
        while len(received) < self.count:
            try:
                data, address = self._recvfrom(self._size)
            except (BlockingIOError, ConnectionRefusedError):
                break
            except OSError:
                if received:
                    break
                raise
            # An IPv6 source comes with its flow and scope: keep host, port.
            received.append((data, address[:2]))
        return received

    @staticmethod
    def send(datagrams: list) -> list:
        """
        Send nothing: every datagram is handed back, for the caller to send
        one by one.
        """
        return datagrams


class SIPPort(MulticastPort):
    """
    An unconnected multicast UDP port for a busy datagram protocol.

    Each read takes up to C{batchesPerRead} batches of up to C{batchSize}
    datagrams (one C{recvmmsg} a batch where L{BatchIO} works, else one
    C{recvfrom} a datagram) and hands each to the protocol's
    C{datagramReceived}.  What the protocol writes while a batch is handled
    is queued and sent at the end of that batch, with one C{sendmmsg}; a
    write outside a batch (a timer's) is sent at once.  Sending never
    raises: an error is logged at debug level.

    Under load the port polls, as Linux NAPI does: a read that found
    datagrams stops the reactor watching the socket, and the port reads
    again C{pollInterval} seconds after that read began, and again while
    reads find datagrams; the first read that finds none has the reactor
    watch the socket again.  A lone datagram is answered at once, and a
    storm costs one wakeup per C{pollInterval} rather than one per
    datagram.  Polls never slow the port below what it can handle: one
    that took longer than C{pollInterval}, or read all a read may
    (C{batchesPerRead} full batches), is followed by the next at once.

    @ivar pollInterval: seconds from one read to the next while datagrams
        keep coming; C{0}: no polling, the reactor watches the socket
        always.
    @ivar batchSize: datagrams per C{recvmmsg} and C{sendmmsg} at most.
    @ivar batchesPerRead: batches per read at most: 32 (2,048 datagrams,
        some 40 ms of answering) lets the SIP port drain in one read what
        arrived while a reactor iteration served HTTP, so that a boot
        storm's SUBSCRIBEs are answered before the phones resend them (4
        batches answered them in 0.2 to 1.6 s, with up to 11,000 resends,
        in C{bench/storm.py}).
    @ivar receiveBuffer: the C{SO_RCVBUF} asked for, in bytes.
    """

    _log = Logger()
    receiveBuffer = 4 * 1024 * 1024
    batchSize = 64
    batchesPerRead = 32
    pollInterval = 0.002

    _io: BatchIO | _OneByOne | None = None
    _sendto = None
    _queued: list | None = None
    _poll = None

    def __init__(self, port: int, proto, interface: str = "", maxPacketSize: int = 8192,
                 reactor=None, listenMultiple: bool = False, pollInterval: float | None = None) -> None:
        super().__init__(port, proto, interface, maxPacketSize, reactor, listenMultiple)
        if pollInterval is not None:
            self.pollInterval = pollInterval

    def _bindSocket(self) -> None:
        """
        Bind as L{MulticastPort} does, then ready the socket for bursts:
        a large receive buffer, and batched reads and writes.
        """
        super()._bindSocket()
        sock = self.socket
        # Straight to the socket: every address written came from
        # recvfrom or from our own code, so Port.write's checks are waste.
        self._sendto = sock.sendto
        self._growReceiveBuffer(sock)
        self._io = (BatchIO.create(sock, self.batchSize, self.maxPacketSize)
                    or _OneByOne(sock, self.batchSize, self.maxPacketSize))

    def _growReceiveBuffer(self, sock: socket.socket) -> None:
        """
        Ask for a receive buffer of C{receiveBuffer} bytes, so that a boot
        storm's bursts wait in the kernel rather than being dropped; say so
        when the kernel grants less (C{net.core.rmem_max}).
        """
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receiveBuffer)
            granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        except OSError as e:
            self._log.info("Could not set the SIP receive buffer: {reason}", reason=e)
            return
        # Linux reports twice what it reserves for payload.
        if granted < self.receiveBuffer:
            self._log.info(
                "SIP receive buffer is {granted} bytes, not the {wanted} asked for "
                "(raise net.core.rmem_max for bursts of SUBSCRIBEs)",
                granted=granted, wanted=self.receiveBuffer,
            )

    def doRead(self) -> None:
        """
        The socket is readable: read, and poll from now on if that found
        datagrams.
        """
        self._readAndPoll(watching=True)

    def _polled(self) -> None:
        """
        A poll is due: read, and poll again if that found datagrams.
        """
        self._poll = None
        self._readAndPoll(watching=False)

    def _readAndPoll(self, watching: bool) -> None:
        """
        Read; then, if that found datagrams and C{pollInterval} is set,
        poll C{pollInterval} after this read began (at once when handling
        took longer, or when the read took all it may and the socket may
        hold more), the reactor not watching the socket meanwhile; else
        have the reactor watch it.

        @param watching: whether the reactor watches the socket now.
        """
        started = self.reactor.seconds()
        read = self._read()
        if not read or self.pollInterval <= 0:
            if not watching:
                self.startReading()
            return
        if watching:
            self.stopReading()
        if read >= self.batchesPerRead * self._io.count:
            delay = 0.0
        else:
            delay = max(0.0, started + self.pollInterval - self.reactor.seconds())
        self._poll = self.reactor.callLater(delay, self._polled)

    def _cancelPoll(self) -> None:
        poll, self._poll = self._poll, None
        if poll is not None and poll.active():
            poll.cancel()

    def _read(self) -> int:
        """
        Read up to C{batchesPerRead} batches and handle them.  A batch
        smaller than C{batchSize} emptied the socket: no further call to
        learn that.

        @return: how many datagrams were read.
        """
        io = self._io
        read = 0
        for _ in range(self.batchesPerRead):
            try:
                received = io.receive()
            except OSError as e:
                self._log.debug("SIP receive failed: {reason}", reason=e)
                break
            if not received:
                break
            read += len(received)
            self._handle(received)
            if len(received) < io.count:
                break
        return read

    def _handle(self, received: list) -> None:
        """
        Hand each datagram of a batch to the protocol, then send what it
        wrote meanwhile: in one go where L{BatchIO} works, the rest one by
        one.
        """
        datagramReceived = self.protocol.datagramReceived
        self._queued = queued = []
        try:
            for data, address in received:
                try:
                    datagramReceived(data, address)
                except Exception:
                    self._log.failure("Unexpected error handling a datagram from {address}",
                                      address=address)
        finally:
            self._queued = None
        if queued:
            for data, address in self._io.send(queued):
                self._sendOne(data, address)

    def write(self, datagram: bytes, addr=None) -> None:
        """
        Queue C{datagram} for the end of the batch being handled, or send it
        now outside a batch.  Never raises.

        @param addr: an IP address literal and a port.
        """
        queued = self._queued
        if queued is None:
            self._sendOne(datagram, addr)
        else:
            queued.append((datagram, addr))

    def _sendOne(self, datagram: bytes, addr) -> None:
        try:
            self._sendto(datagram, addr)
        except OSError as e:
            self._log.debug("Could not send to {address}: {reason}", address=addr, reason=e)

    def stopListening(self):
        """
        Stop listening, and polling.
        """
        self._cancelPoll()
        return super().stopListening()

    def connectionLost(self, reason=None) -> None:
        """
        The socket is closed: no poll may come after.
        """
        self._cancelPoll()
        super().connectionLost(reason)


def listenSIP(reactor, port: int, protocol, interface: str = "", maxPacketSize: int = 8192,
              pollInterval: float = SIPPort.pollInterval, sharePort: bool = False):
    """
    Listen on UDP C{port}: with a L{SIPPort} where C{reactor} watches file
    descriptors, else with C{reactor.listenMulticast} (reactors without
    them: IOCP, test fakes).

    @param sharePort: set C{SO_REUSEADDR} and C{SO_REUSEPORT}
        (C{listenMultiple}), so that other sockets may bind the port too;
        C{False}: a port another socket holds, even one that allows
        sharing, fails to bind, and no other socket can bind it after.
        Multicast reception works either way.
    @raise twisted.internet.error.CannotListenError: when the port cannot
        be bound.
    @return: the listening port.
    """
    if not IReactorFDSet.providedBy(reactor):
        return reactor.listenMulticast(port, protocol, interface, maxPacketSize, listenMultiple=sharePort)
    listening = SIPPort(port, protocol, interface, maxPacketSize, reactor,
                        listenMultiple=sharePort, pollInterval=pollInterval)
    listening.startListening()
    return listening


class SIPServer(MulticastServer):
    """
    A service that listens with L{listenSIP} while running.  As a
    C{MulticastServer} it binds in C{privilegedStartService}, before
    twistd drops privileges.

    @ivar sharePort: as L{listenSIP}'s.
    """

    def __init__(self, port: int, protocol, interface: str = "", pollInterval: float = SIPPort.pollInterval,
                 reactor=None, sharePort: bool = False) -> None:
        super().__init__(port, protocol, interface, listenMultiple=sharePort, reactor=reactor)
        self.pollInterval = pollInterval
        self.sharePort = sharePort

    def _getPort(self):
        reactor = self.reactor
        if reactor is None:
            from twisted.internet import reactor
        port, protocol, interface = self.args
        return listenSIP(reactor, port, protocol, interface, pollInterval=self.pollInterval,
                         sharePort=self.sharePort)
