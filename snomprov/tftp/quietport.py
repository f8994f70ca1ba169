# -*- test-case-name: tests.test_tftp_logging -*-
"""
UDP ports for TFTP transfers that do not log their own start and stop.

Twisted's L{twisted.internet.udp.Port} logs C{"<protocol> starting on
<port>"} when it binds and C{"(UDP Port <port> Closed)"} when it closes,
unconditionally: with the protocol's own C{noisy} lines and the transfer's
summary, five lines for every file a phone fetches.  A transfer logs its one
summary line (L{snomprov.tftp.protocol.TFTPServerProtocol}); its port, a
L{QuietPort}, logs nothing.
"""

from __future__ import annotations

from twisted.internet import base, error, udp
from twisted.internet.posixbase import PosixReactorBase

__all__ = ["QuietPort", "listenQuietly"]


class QuietPort(udp.Port):
    """
    A L{udp.Port} without the start and stop lines: the same binding and
    closing as Twisted's, less the two C{log.msg} calls.  It overrides
    private methods: C{tests.test_tftp_logging} runs it on the real reactor
    and counts a real daemon's lines per transfer, so that a Twisted
    release that changes them fails there.
    """

    def _bindSocket(self) -> None:
        try:
            skt = self.createInternetSocket()
            skt.bind((self.interface, self.port))
        except OSError as e:
            raise error.CannotListenError(self.interface, self.port, e)
        self._realPortNumber = skt.getsockname()[1]
        self.connected = 1
        self.socket = skt
        self.fileno = self.socket.fileno

    def connectionLost(self, reason=None) -> None:
        self._realPortNumber = None
        self.maxThroughput = -1
        base.BasePort.connectionLost(self, reason)
        self.protocol.doStop()
        self.socket.close()
        del self.socket
        del self.fileno
        if hasattr(self, "d"):
            self.d.callback(None)
            del self.d


def listenQuietly(reactor, protocol, interface: str = ""):
    """
    C{reactor.listenUDP(0, protocol, interface=interface)} on a
    L{QuietPort} where C{reactor} is one of Twisted's POSIX reactors; on
    any other (a test's fake), its own C{listenUDP}.

    @return: the L{IListeningPort}.
    """
    if not isinstance(reactor, PosixReactorBase):
        return reactor.listenUDP(0, protocol, interface=interface)
    port = QuietPort(0, protocol, interface, reactor=reactor)
    port.startListening()
    return port
