# -*- test-case-name: tests.test_sip_protocol -*-
"""
The SIP datagram protocol: joins the plug-and-play group, decodes, hands
messages to the controller, writes.  It decides nothing and nothing that
arrives raises out of it.
"""

from __future__ import annotations

import socket

from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from .batchio import BatchIO
from .message import SIPParseError, parseMessage

__all__ = ["SIPProtocol", "LocalAddressBook"]


class LocalAddressBook:
    """
    Our own address as seen from a source: the kernel's choice of source
    address for a route to it (a connected UDP socket sends nothing).
    Cached per source, bounded.
    """

    def __init__(self, fixed: str | None = None, maxEntries: int = 4096) -> None:
        self._fixed = fixed
        self._cache: dict[str, str] = {}
        self._maxEntries = maxEntries

    def __call__(self, sourceIP: str) -> str:
        if self._fixed:
            return self._fixed
        host = self._cache.get(sourceIP)
        if host is None:
            host = self._lookup(sourceIP)
            if len(self._cache) >= self._maxEntries:
                self._cache.clear()
            self._cache[sourceIP] = host
        return host

    @staticmethod
    def _lookup(sourceIP: str) -> str:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect((sourceIP, 9))
                return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


class SIPProtocol(DatagramProtocol):
    """
    @ivar malformed: datagrams that did not decode.
    """

    _log = Logger()
    _debugEvery = 1000
    _sendto = None
    _batchIO: BatchIO | None = None
    _queued: list | None = None
    receiveBuffer = 4 * 1024 * 1024
    batchSize = 64
    batchesPerRead = 4

    def __init__(self, controller, group: str, interfaces=(), reactor=None, localHostFor=None) -> None:
        self._controller = controller
        self._group = group
        self._interfaces = tuple(interfaces) or ("",)
        self._reactor = reactor
        self._localHostFor = localHostFor or LocalAddressBook(
            interfaces[0] if len(tuple(interfaces)) == 1 else None
        )
        self.malformed = 0
        self.joined: list[str] = []

    def startProtocol(self) -> None:
        transport = self.transport
        port = transport.getHost().port
        sock = getattr(transport, "socket", None)
        if isinstance(sock, socket.socket):
            # Straight to the socket: Port.write would check each address,
            # which came from recvfrom.
            self._sendto = sock.sendto
            self._growReceiveBuffer(sock)
            self._batchIO = BatchIO.create(sock, self.batchSize, transport.maxPacketSize)
            if self._batchIO is not None:
                # The port's own doRead reads one datagram per recvfrom.
                transport.doRead = self._readBatches
        self._controller.attach(self._write, self._localHostFor, port)
        for interface in self._interfaces:
            d = transport.joinGroup(self._group, interface)
            d.addCallbacks(self._joined, self._joinFailed, callbackArgs=(interface,), errbackArgs=(interface,))
        self._log.info("SIP plug-and-play on udp:{port}, group {group} on {interfaces}",
                       port=port, group=self._group,
                       interfaces=", ".join(i or "the default interface" for i in self._interfaces))

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

    def _joined(self, _, interface: str) -> None:
        self.joined.append(interface)

    def _joinFailed(self, failure, interface: str) -> None:
        self._log.error(
            "Could not join {group} on {interface}: {reason}; unicast SUBSCRIBEs are still answered",
            group=self._group, interface=interface or "the default interface",
            reason=failure.getErrorMessage(),
        )

    def stopProtocol(self) -> None:
        self._controller.detach()

    def _readBatches(self) -> None:
        """
        The port's C{doRead} where L{BatchIO} works: up to C{batchesPerRead}
        batches of up to C{batchSize} datagrams, each read with one
        C{recvmmsg}; the replies written while a batch is handled are sent
        together with one C{sendmmsg} at the end of that batch.  A batch
        smaller than C{batchSize} emptied the socket: no further call to
        learn that.
        """
        batchIO = self._batchIO
        for _ in range(self.batchesPerRead):
            try:
                received = batchIO.receive()
            except OSError as e:
                self._log.debug("SIP receive failed: {reason}", reason=e)
                return
            if not received:
                return
            self._queued = queued = []
            try:
                # datagramReceived lets nothing out: see there.
                for data, address in received:
                    self.datagramReceived(data, address)
            finally:
                self._queued = None
                if queued:
                    for data, address in batchIO.send(queued):
                        self._write(data, address)
            if len(received) < batchIO.count:
                return

    def datagramReceived(self, data: bytes, address) -> None:
        """
        Hand a datagram to the controller: its quick path first, else parsed
        in full.  Nothing raises out of here: an undecodable datagram is
        counted and dropped, and a bug is logged so the responder goes on.
        """
        try:
            if self._controller.quickReceived(data, address):
                return
            try:
                message = parseMessage(data)
            except SIPParseError as e:
                self._dropped(address, e)
                return
            self._controller.messageReceived(message, address)
        except Exception:
            self._log.failure("Unexpected error handling a datagram from {address}", address=address)

    def _dropped(self, address, reason) -> None:
        self.malformed += 1
        self._controller.count("malformed")
        if self.malformed % self._debugEvery == 1:
            self._log.debug("Dropped undecodable datagram from {address} ({count} so far): {reason}",
                            address=address, count=self.malformed, reason=reason)

    def _write(self, data: bytes, address) -> None:
        queued = self._queued
        if queued is not None:
            queued.append((data, address))
            return
        try:
            if self._sendto is not None:
                self._sendto(data, address)
            else:
                self.transport.write(data, address)
        except OSError as e:
            self._log.debug("Could not send to {address}: {reason}", address=address, reason=e)
