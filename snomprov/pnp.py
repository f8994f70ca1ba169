# -*- test-case-name: tests.test_pnp -*-
"""
The plug-and-play controller: a decoded SIP message
(L{snomprov.sip.decoded.DecodedMessage}) and its source in, datagrams out.
It never sees the bytes that came in.

Policy lives here (allow-list, per-source rate, vendor choice, duplicate
SUBSCRIBEs, NOTIFY retransmission, what is recorded); the protocol only
decodes and writes, the vendors only build URLs.  Nothing here waits for the
store: what is learnt goes to the L{snomprov.recorder.Recorder}.
"""

from __future__ import annotations

from typing import Callable

from twisted.logger import Logger

from .device import Event
from .eventtext import safeText
from .interfaces import IUAProfileVendor
from .networks import NetworkSet
from .ratelimit import TokenBuckets
from .sip.decoded import DecodedMessage
from .sip.message import SIPParseError
from .sip.transaction import NotifyRetransmitter, SubscribeDeduplicator
from .sip.uaprofile import (
    ALLOWED_METHODS,
    UA_PROFILE_EVENT,
    ProfileReader,
    buildNotify,
    buildResponse,
    eventPackage,
    headerLines,
    newBranch,
    newTag,
    subscribeKey,
    subscribeOKHeaders,
    taggedTo,
    viaBranch,
)
from .urltemplate import compileProfileURL

__all__ = ["PnPController", "PnPControllers", "SourcePolicy", "sipPortsFor"]

Address = tuple[str, int]

_NOTIFY_OUTCOMES = {outcome: "notify-" + outcome for outcome in ("acked", "timeout", "dropped")}


class SourcePolicy:
    """
    Which sources are answered: an allow-list of networks and a token bucket
    per source address.  Verdicts on addresses are cached; both tables are
    bounded.
    """

    def __init__(self, networks, rate: float, burst: int, clock, maxSources: int = 100_000) -> None:
        self._networks = NetworkSet(networks, maxSources)
        self._buckets = TokenBuckets(rate, float(burst), clock, maxSources)

    def isAllowed(self, host: str) -> bool:
        """
        Whether C{host} is in the allowed networks (any, when none are set).
        """
        networks = self._networks
        return networks.isEmpty or host in networks

    def take(self, host: str) -> bool:
        """
        Spend one token of C{host}'s bucket.

        @return: C{False} when the source is over its rate.
        """
        return self._buckets.allow(host)


class PnPController:
    """
    Answers ua-profile SUBSCRIBEs (DESIGN.md §1.1).

    @ivar counters: how many datagrams ended how (C{answered},
        C{duplicate}, C{not-allowed}, C{rate-limited}, C{no-vendor},
        C{bad-event}, C{unmatched-response}, C{ack}, C{malformed}, ...).
    """

    _log = Logger()

    def __init__(self, registry, config, recorder, clock, proofs=None) -> None:
        """
        @param proofs: the L{snomprov.proofcheck.ProofChecker} that issues
            the NOTIFYs' tokens and is told of acknowledged NOTIFYs, or
            C{None}: no token (C{{token}} expands to nothing).
        """
        self._registry = registry
        self._proofs = proofs
        self._config = config
        self._recorder = recorder
        self._clock = clock
        self._policy = SourcePolicy(
            config.sip.allowedNetworks, config.sip.ratePerSource, config.sip.rateBurst, clock
        )
        self._dedup = SubscribeDeduplicator(clock, capacity=config.sip.maxTransactions)
        self._notifier: NotifyRetransmitter | None = None
        self._send: Callable[[bytes, Address], None] | None = None
        self._localHostFor: Callable[[str], str] = lambda ip: "127.0.0.1"
        self._localPort = config.sip.port
        self._ourAddresses: dict[str, tuple[str, str, str]] = {}
        self._reader = ProfileReader()
        # Each ua-profile vendor's template, expanded by the server the same
        # way for all (DESIGN.md §1.1 step 5).
        self._urls = {
            vendor.name: compileProfileURL(config.vendor(vendor.name).url or vendor.defaultURLTemplate,
                                           vendor.name, config.server.baseURL)
            for vendor in registry.vendors
            if IUAProfileVendor.providedBy(vendor)
        }
        self.counters: dict[str, int] = {}

    def attach(self, send: Callable[[bytes, Address], None], localHostFor: Callable[[str], str], port: int) -> None:
        """
        The protocol is listening.

        @param send: writes a datagram.
        @param localHostFor: our address as a given source reaches us (for
            Via and Contact).
        @param port: our SIP port.
        """
        self._send = send
        self._localHostFor = localHostFor
        self._localPort = port
        self._ourAddresses = {}
        self._notifier = NotifyRetransmitter(self._clock, send, capacity=self._config.sip.maxTransactions)

    def detach(self) -> None:
        """
        The protocol stopped: cancel every retransmission timer.
        """
        if self._notifier is not None:
            self._notifier.stopAll()
        self._send = None

    @property
    def notifier(self) -> NotifyRetransmitter | None:
        """
        The retransmitter of our NOTIFYs while attached, else C{None}.
        """
        return self._notifier

    def count(self, outcome: str) -> None:
        self.counters[outcome] = self.counters.get(outcome, 0) + 1

    def messageReceived(self, message: DecodedMessage, source: Address) -> None:
        """
        Handle one decoded message.  Never raises for a bad message: it is
        counted and dropped.
        """
        # The allow-list, then (for a request, not a response to our
        # NOTIFY) the source's rate; a refusal is counted.
        host = source[0]
        policy = self._policy
        if not policy.isAllowed(host):
            self.count("not-allowed")
            return
        method = message.method
        if method is None:
            self._responseReceived(message)
            return
        if not policy.take(host):
            self.count("rate-limited")
            return
        try:
            if method == "SUBSCRIBE":
                self._subscribeReceived(message, source)
            else:
                self._otherRequest(method, message, source)
        except SIPParseError as e:
            self.count("malformed")
            self._log.debug("Dropped a request from {source}: {reason}", source=source, reason=safeText(str(e)))

    def acknowledged(self, branch: str, source: Address) -> bool:
        """
        A final response from an allowed C{source} carrying C{branch}: if a
        NOTIFY of ours with that branch is being retransmitted, it is
        acknowledged (our branches are unguessable).

        @return: C{False} when nothing was done: the caller then hands the
            decoded response to L{messageReceived}, which counts it.
        """
        notifier = self._notifier
        return (
            notifier is not None and self._policy.isAllowed(source[0]) and notifier.acknowledge(branch)
        )

    def _responseReceived(self, message: DecodedMessage) -> None:
        """
        A response: a final one carrying the branch of a NOTIFY we are
        retransmitting (its top Via's, RFC 3261 §17.1.3) acknowledges it:
        our branches are unguessable, so nothing else of it needs checking.
        """
        branch = message.branch
        if branch is None:
            vias = message.vias
            branch = viaBranch(vias[0]) if vias else None
            if branch is None:
                self.count("malformed")
                return
        if message.code >= 200:
            notifier = self._notifier
            if notifier is None or not notifier.acknowledge(branch):
                self.count("unmatched-response")
            return
        cseq = message.fields.get("cseq")
        isNotify = cseq is not None and cseq.rstrip().upper().endswith("NOTIFY")
        self.count("provisional" if isNotify else "unmatched-response")

    def _otherRequest(self, method: str, request: DecodedMessage, source: Address) -> None:
        if method == "ACK":
            self.count("ack")
        elif method == "OPTIONS":
            self.count("options")
            self._reply(buildResponse(request, 200, "OK", source, newTag(),
                                      headerLines(("Allow", ALLOWED_METHODS), ("Accept", "application/url"))),
                        source)
        else:
            self.count("not-allowed-method")
            self._reply(buildResponse(request, 405, "Method Not Allowed", source, newTag(),
                                      headerLines(("Allow", ALLOWED_METHODS))), source)

    def _subscribeReceived(self, subscribe: DecodedMessage, source: Address) -> None:
        """
        Answer a SUBSCRIBE: a ua-profile one with a 200 and the NOTIFY of
        its vendor's URL, another with 489.

        @raise SIPParseError: when a header the answer copies is missing.
        """
        event = subscribe.fields.get("event")
        if event is None or eventPackage(event) != UA_PROFILE_EVENT:
            self.count("bad-event")
            self._reply(buildResponse(subscribe, 489, "Bad Event", source, newTag(),
                                      headerLines(("Allow-Events", UA_PROFILE_EVENT))), source)
            return
        key = subscribeKey(subscribe)
        answered = self._dedup.lookup(*key)
        if answered is not None:
            self.count("duplicate")
            self._reply(answered, source)
            return
        profile = self._reader.read(subscribe, source[0])
        answer = self._registry.answerProfileRequest(profile, subscribe)
        now = self._clock.seconds()
        if answer is None:
            # Silence: another server on the segment may know this phone.
            self.count("no-vendor")
            self._recorder.event(Event(now, profile.mac, "rejected",
                                       f"SUBSCRIBE from {source[0]}: no vendor for "
                                       f"{profile.vendor!r}/{profile.model!r}"))
            return
        vendor, profile = answer
        name = vendor.name
        proofs = self._proofs
        token = "" if proofs is None else proofs.issue(profile.mac, source[0])
        url = vendor.provisioningURL(profile, self._urls[name](profile, token))
        toTag = newTag()
        us, ours, okHeaders = self._ourAddress(source[0])
        tagged = taggedTo(subscribe, toTag)
        ok = buildResponse(subscribe, 200, "OK", source, toTag, okHeaders, tagged)
        branch = newBranch()
        notify = buildNotify(subscribe, toTag, branch, 1, ours, us, url, tagged)
        self._dedup.remember(key, ok)
        self._reply(ok, source)
        mac = profile.mac
        self._notifier.start(branch, notify, source, lambda outcome: self._notifyEnded(mac, source, outcome))
        self.count("answered")
        # The token is a proof: the history shows where it went, not what.
        self._recorder.subscribed(now, mac, name, profile.model, profile.version, source[0], source[1],
                                  url.replace(token, "***") if token else url)

    def _ourAddress(self, sourceIP: str) -> tuple[str, str, str]:
        """
        How a phone at C{sourceIP} reaches us: C{host:port} (for Via), our
        SIP URI (Contact) and the header lines our 200 adds
        (L{subscribeOKHeaders}); the same few strings for every phone of a
        network, so kept per host.
        """
        host = self._localHostFor(sourceIP)
        known = self._ourAddresses.get(host)
        if known is None:
            us = f"{host}:{self._localPort}"
            ours = "sip:" + us
            known = self._ourAddresses[host] = (us, ours, subscribeOKHeaders(ours))
        return known

    def _notifyEnded(self, mac: str | None, source: Address, outcome: str) -> None:
        self.count(_NOTIFY_OUTCOMES.get(outcome) or f"notify-{outcome}")
        if outcome == "acked" and self._proofs is not None:
            self._proofs.acknowledged(mac, source[0])
        if outcome in ("acked", "timeout"):
            self._recorder.notifyEnded(self._clock.seconds(), mac, outcome, source[0], source[1])

    def _reply(self, data: bytes, destination: Address) -> None:
        if self._send is not None:
            self._send(data, destination)


def sipPortsFor(config, registry) -> list[int]:
    """
    The UDP ports plug-and-play listens on: C{[sip] port} first, then each
    port an installed vendor asks for (L{snomprov.interfaces.ISIPPortsVendor}:
    Yealink's 5059) that is not C{[sip] port}, in order; only C{[sip] port}
    when C{[sip] vendor_ports} is false.
    """
    main = config.sip.port
    if not config.sip.vendorPorts:
        return [main]
    return [main, *sorted(port for port in registry.sipPorts if port != main)]


class PnPControllers:
    """
    The controllers of several SIP ports (one each: a phone is answered from
    the port it sent to, with that port in our Via and Contact), seen as one
    by C{/metrics}: their C{counters} summed, their retransmitters'
    figures summed.
    """

    def __init__(self, controllers) -> None:
        self.controllers = tuple(controllers)

    @property
    def counters(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for controller in self.controllers:
            for outcome, count in controller.counters.items():
                total[outcome] = total.get(outcome, 0) + count
        return total

    @property
    def notifier(self) -> "_Notifiers | None":
        notifiers = [c.notifier for c in self.controllers if c.notifier is not None]
        return _Notifiers(notifiers) if notifiers else None


class _Notifiers:
    """
    What C{/metrics} reads of several L{NotifyRetransmitter}s.
    """

    def __init__(self, notifiers) -> None:
        self._notifiers = notifiers

    @property
    def retransmitted(self) -> int:
        return sum(n.retransmitted for n in self._notifiers)

    def __len__(self) -> int:
        return sum(len(n) for n in self._notifiers)
