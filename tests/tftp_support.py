"""
Fakes for TFTP tests: a reactor whose C{listenUDP} hands out in-memory ports.

Twisted's C{MemoryReactor} has no UDP, so L{FakeUDPReactor} adds
C{listenUDP} to a L{Clock}: each call returns a L{FakePort}, a datagram
transport that records what is written and calls the protocol's start and
stop hooks like a real port.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.error import CannotListenError
from twisted.internet.task import Clock

from snomprov.tftp.packet import buildPacket, parsePacket


class FakePort:
    """
    A listening UDP port in memory.

    @ivar written: C{(datagram, address)} pairs in the order written.
    @ivar listening: whether L{stopListening} has not been called yet.
    """

    def __init__(self, reactor: "FakeUDPReactor", port: int, protocol, interface: str):
        self.reactor = reactor
        self.port = port
        self.protocol = protocol
        self.interface = interface
        self.written: list[tuple[bytes, tuple[str, int]]] = []
        self.listening = True
        self.failWrites: type[Exception] | None = None

    def write(self, datagram: bytes, addr=None) -> None:
        if self.failWrites is not None:
            raise self.failWrites("fake write failure")
        self.written.append((bytes(datagram), addr))

    def getHost(self) -> IPv4Address:
        return IPv4Address("UDP", self.interface or "0.0.0.0", self.port)

    def stopListening(self) -> None:
        if self.listening:
            self.listening = False
            self.protocol.doStop()

    def receive(self, packet, address) -> None:
        """
        Deliver a packet value (or raw bytes) to the protocol from C{address}.
        """
        data = packet if isinstance(packet, bytes) else buildPacket(packet)
        self.protocol.datagramReceived(data, address)

    def sent(self) -> list[tuple[object, tuple[str, int]]]:
        """
        Everything written so far, parsed, then forgotten.
        """
        out = [(parsePacket(d), a) for d, a in self.written]
        del self.written[:]
        return out


class FakeUDPReactor(Clock):
    """
    A L{Clock} with C{listenUDP}; ephemeral ports are numbered from 50000.

    @ivar ports: every port handed out, in order.
    @ivar refuseListen: when true, C{listenUDP} raises L{CannotListenError}.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ports: list[FakePort] = []
        self._nextPort = 50000
        self.refuseListen = False

    def listenUDP(self, port, protocol, interface="", maxPacketSize=8192) -> FakePort:
        if self.refuseListen:
            raise CannotListenError(interface, port, OSError("no ports left"))
        if port == 0:
            port = self._nextPort
            self._nextPort += 1
        fake = FakePort(self, port, protocol, interface)
        self.ports.append(fake)
        protocol.makeConnection(fake)
        return fake
