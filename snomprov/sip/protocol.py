# -*- test-case-name: tests.test_sip_protocol -*-
"""
The SIP datagram protocol: joins the plug-and-play group, decodes each
datagram into a L{snomprov.sip.decoded.DecodedMessage} (L{Decoder}: the
quick reader, else the full parser) and hands that to the controller, which
writes with the transport's C{write}.  It decides nothing and nothing that
arrives raises out of it.  How datagrams
are read and written (in batches, polling under load) is the transport's
business: L{snomprov.sip.port}.
"""

from __future__ import annotations

import socket

from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from ..eventtext import safeText
from .decoded import Decoder
from .message import SIPParseError

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
    The responder's datagram protocol, on a multicast transport whose
    C{write} does not raise (L{snomprov.sip.port.SIPPort}'s).

    @ivar malformed: datagrams that did not decode.
    @param decoder: the L{Decoder} (a new one by default).
    @ivar joined: the interfaces the group was joined on.
    """

    _log = Logger()
    _debugEvery = 1000

    def __init__(self, controller, group: str, interfaces=(), reactor=None, localHostFor=None,
                 decoder: Decoder | None = None) -> None:
        self._controller = controller
        self._decoder = decoder or Decoder()
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
        self._controller.attach(transport.write, self._localHostFor, port)
        for interface in self._interfaces:
            d = transport.joinGroup(self._group, interface)
            d.addCallbacks(self._joined, self._joinFailed, callbackArgs=(interface,), errbackArgs=(interface,))
        self._log.info("SIP plug-and-play on udp:{port}, group {group} on {interfaces}",
                       port=port, group=self._group,
                       interfaces=", ".join(i or "the default interface" for i in self._interfaces))

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

    def datagramReceived(self, data: bytes, address) -> None:
        """
        Decode a datagram and hand it to the controller.  Nothing raises
        out of here: an undecodable datagram is counted and dropped, and a
        bug is logged so the responder goes on.
        """
        try:
            if data[:8] == b"SIP/2.0 ":
                # The phone's 200 to our NOTIFY, by its branch alone, with no
                # decoded value built: the NOTIFY's transaction ends there.
                branch = self._decoder.finalResponseBranch(data)
                if branch is not None and self._controller.acknowledged(branch, address):
                    return
            try:
                message = self._decoder.decode(data)
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
                            address=address, count=self.malformed, reason=safeText(str(reason)))
