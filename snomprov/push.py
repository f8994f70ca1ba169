# -*- test-case-name: tests.test_push -*-
"""
Push: make a phone re-sync by sending it a C{NOTIFY} (DESIGN.md §1.4),
retransmitted with the PnP rules until its final response.

A phone may challenge the NOTIFY (SPA phones do for C{Event: resync}: 401
with C{WWW-Authenticate}, or 407 with C{Proxy-Authenticate}); given the
line's credentials, the NOTIFY is sent once more, with the next CSeq and
the digest answer (L{snomprov.sip.digest}); a second challenge ends the
push as C{refused 401}.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from itertools import count
from typing import Callable

from twisted.internet import defer
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from .sip.digest import DigestCredentials, authorization, parseChallenge
from .sip.message import SIPParseError, SIPResponse, parseMessage
from .eventtext import safeText
from .sip.protocol import LocalAddressBook
from .sip.transaction import NotifyRetransmitter
from .sip.uaprofile import buildResyncNotify, newBranch, newTag, transactionKey

__all__ = ["ResyncProtocol", "pushResync"]

_CHALLENGES = {401: ("WWW-Authenticate", "Authorization"), 407: ("Proxy-Authenticate", "Proxy-Authorization")}


@dataclass
class _Push:
    """
    One push's NOTIFY, as it is built again for the authenticated retry.
    """

    address: tuple[str, int]
    event: str
    targetURI: str
    via: str
    fromTag: str
    callID: str
    contact: str
    credentials: DigestCredentials | None
    cseq: int = 1
    extra: str = ""
    authenticated: bool = False


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
        self._pushes: dict[tuple[str, int], tuple[_Push, Callable[[], None] | None]] = {}

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
        self, address: tuple[str, int], event: str, onSend: Callable[[int], None] | None = None,
        credentials: DigestCredentials | None = None,
    ) -> defer.Deferred:
        """
        NOTIFY the phone at C{address} with C{Event: <event>}.

        @param onSend: called after each send (the first and every
            retransmission, the authenticated retry's too) with how many
            times a NOTIFY of this push has been sent.
        @param credentials: what a digest challenge of the phone is
            answered with; C{None}: a challenge ends the push as refused.
        @return: Deferred firing with C{"acked"} (2xx), C{"refused <code>"}
            (another final response) or C{"timeout"} (none in 32 s).
        """
        host = self._localHostFor(address[0])
        port = self.transport.getHost().port
        push = _Push(address, event, f"sip:{address[0]}:{address[1]}", f"{host}:{port}", newTag(),
                     f"{newTag()}@{host}", f"sip:{host}:{port}", credentials)
        d: defer.Deferred = defer.Deferred()
        sends = count(1) if onSend is not None else None
        self._start(push, d, None if sends is None else (lambda: onSend(next(sends))))
        return d

    def _start(self, push: _Push, d: defer.Deferred, watcher: Callable[[], None] | None) -> None:
        """
        Build C{push}'s NOTIFY at its CSeq and send it until its answer.
        """
        key = (push.callID, push.cseq)
        notify = buildResyncNotify(
            push.targetURI, push.via, newBranch(), push.fromTag, push.callID, push.cseq, push.contact,
            push.event, push.extra,
        )
        self._waiting[key] = d
        self._pushes[key] = (push, watcher)
        if watcher is not None:
            self._watchers[notify] = watcher
            self._datagrams[key] = notify
        self._notifier.start(key, notify, push.address, lambda outcome: self._ended(key, outcome))

    def _challenged(self, key, message: SIPResponse) -> bool:
        """
        Answer a 401/407 of the NOTIFY C{key} with the push's credentials:
        the same NOTIFY with the next CSeq and the digest answer.

        @return: whether it was answered (else the challenge is the
            push's final response).
        """
        push, watcher = self._pushes.get(key, (None, None))
        if push is None or push.credentials is None or push.authenticated:
            return False
        challengeHeader, answerHeader = _CHALLENGES[message.code]
        value = message.headers.get(challengeHeader)
        if value is None:
            return False
        try:
            answer = authorization(parseChallenge(value), "NOTIFY", push.targetURI, push.credentials,
                                   secrets.token_hex(8))
        except SIPParseError as e:
            self._log.info("Cannot answer the challenge of {address}: {reason}",
                           address=push.address, reason=safeText(str(e)))
            return False
        d = self._waiting.pop(key)
        self._pushes.pop(key, None)
        self._watchers.pop(self._datagrams.pop(key, b""), None)
        self._notifier.acknowledge(key)
        push.cseq += 1
        push.authenticated = True
        push.extra = f"{answerHeader}: {answer}\r\n"
        self._start(push, d, watcher)
        return True

    def _ended(self, key, outcome: str) -> None:
        self._pushes.pop(key, None)
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
            if message.code in _CHALLENGES and self._challenged(key, message):
                return
            self._codes[key] = message.code
            self._notifier.acknowledge(key)


@defer.inlineCallbacks
def pushResync(reactor, address: tuple[str, int], event: str, localHostFor=None, onSend=None,
               credentials: DigestCredentials | None = None):
    """
    Send one re-sync NOTIFY from an ephemeral port and wait for its outcome.

    @param onSend: as for L{ResyncProtocol.resync}.
    @param credentials: as for L{ResyncProtocol.resync}.
    """
    protocol = ResyncProtocol(reactor, localHostFor)
    port = reactor.listenUDP(0, protocol)
    try:
        outcome = yield protocol.resync(address, event, onSend, credentials)
    finally:
        yield port.stopListening()
    return outcome
