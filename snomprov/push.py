# -*- test-case-name: tests.test_push -*-
"""
Push: make a phone re-sync by sending it a C{NOTIFY} (DESIGN.md §1.4),
retransmitted with the PnP rules until its final response.
"""

from __future__ import annotations

from itertools import count
from typing import Callable

from twisted.internet import defer
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from .sip.message import SIPParseError, SIPResponse, parseMessage
from .sip.protocol import LocalAddressBook
from .sip.transaction import NotifyRetransmitter
from .sip.uaprofile import buildResyncNotify, newBranch, newTag, transactionKey

__all__ = ["ResyncProtocol", "pushResync"]


class ResyncProtocol(DatagramProtocol):
    """
    Sends re-sync NOTIFYs from one UDP port and matches their responses.
    """

    _log = Logger()

    def __init__(self, clock, localHostFor=None) -> None:
        self._clock = clock
        self._localHostFor = localHostFor or LocalAddressBook()
        self._waiting: dict[tuple[str, int], defer.Deferred] = {}
        self._codes: dict[tuple[str, int], int] = {}
        self._notifier: NotifyRetransmitter | None = None
        # NOTIFY datagram -> what to tell when it is sent (resync's onSend).
        self._watchers: dict[bytes, Callable[[], None]] = {}
        self._datagrams: dict[tuple[str, int], bytes] = {}

    def startProtocol(self) -> None:
        self._notifier = NotifyRetransmitter(self._clock, self._send)

    def _send(self, data: bytes, address: tuple[str, int]) -> None:
        self.transport.write(data, address)
        watcher = self._watchers.get(data)
        if watcher is not None:
            watcher()

    def stopProtocol(self) -> None:
        if self._notifier is not None:
            self._notifier.stopAll()

    def resync(
        self, address: tuple[str, int], event: str, onSend: Callable[[int], None] | None = None
    ) -> defer.Deferred:
        """
        NOTIFY the phone at C{address} with C{Event: <event>}.

        @param onSend: called after each send (the first and every
            retransmission) with how many times the NOTIFY has been sent.
        @return: Deferred firing with C{"acked"} (2xx), C{"refused <code>"}
            (another final response) or C{"timeout"} (none in 32 s).
        """
        host = self._localHostFor(address[0])
        port = self.transport.getHost().port
        callID = f"{newTag()}@{host}"
        key = (callID, 1)
        notify = buildResyncNotify(
            f"sip:{address[0]}:{address[1]}", f"{host}:{port}", newBranch(), newTag(),
            callID, 1, f"sip:{host}:{port}", event,
        )
        d: defer.Deferred = defer.Deferred()
        self._waiting[key] = d
        if onSend is not None:
            sends = count(1)
            self._watchers[notify] = lambda: onSend(next(sends))
            self._datagrams[key] = notify
        self._notifier.start(key, notify, address, lambda outcome: self._ended(key, outcome))
        return d

    def _ended(self, key, outcome: str) -> None:
        d = self._waiting.pop(key, None)
        code = self._codes.pop(key, None)
        self._watchers.pop(self._datagrams.pop(key, b""), None)
        if d is not None:
            d.callback(outcome if code is None or 200 <= code < 300 else f"refused {code}")

    def datagramReceived(self, data: bytes, address) -> None:
        try:
            message = parseMessage(data)
            if not isinstance(message, SIPResponse) or message.code < 200:
                return
            key = transactionKey(message)
        except SIPParseError:
            return
        if key in self._waiting:
            self._codes[key] = message.code
            self._notifier.acknowledge(key)


@defer.inlineCallbacks
def pushResync(reactor, address: tuple[str, int], event: str, localHostFor=None, onSend=None):
    """
    Send one re-sync NOTIFY from an ephemeral port and wait for its outcome.

    @param onSend: as for L{ResyncProtocol.resync}.
    """
    protocol = ResyncProtocol(reactor, localHostFor)
    port = reactor.listenUDP(0, protocol)
    try:
        outcome = yield protocol.resync(address, event, onSend)
    finally:
        yield port.stopListening()
    return outcome
