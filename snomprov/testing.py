# -*- test-case-name: tests.test_testing -*-
"""
Public helpers for tests, ours and plugin authors':

    - L{checkVendorContract} (from L{snomprov.vendorcontract}): the
      behaviour every vendor must have, checked by calling it;
    - L{pnpExchange}: one SUBSCRIBE through the real SIP protocol and
      plug-and-play controller, on a fake transport and clock, and what
      came back (the 200, the NOTIFY and its URL);
    - L{renderOne}: one file of a device, named as a phone names it,
      rendered as the server renders it;
    - L{configFor}: the configuration both use, with a vendor's table;
    - fakes: a minimal vendor (L{FakeVendor}), a multicast datagram
      transport and a reactor for it (Twisted's C{MemoryReactor} has no UDP
      and C{FakeDatagramTransport} no C{joinGroup}), and a reactor that
      only notes which real sockets it would watch (for ports whose
      C{doRead} a test calls itself, on a clock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from zope.interface import implementer

from twisted.internet.interfaces import IReactorFDSet
from twisted.internet.task import Clock

from .config import parseConfig
from .device import (
    DeviceInfo,
    DHCPRule,
    Event,
    FileRequest,
    Line,
    RenderedFile,
    SettingsLayer,
    UserAgentInfo,
    layerScopesFor,
)
from .interfaces import IDHCPVendor, IFileVendor, IResyncVendor, IUAProfileVendor
from .pnp import PnPController
from .recorder import PnPRecording
from .registry import VendorRegistry
from .rendering import renderDeviceFile
from .sip.message import SIPRequest, SIPResponse, parseMessage
from .sip.protocol import SIPProtocol
from .vendorcontract import VendorContractError, VendorSamples, checkVendorContract

__all__ = [
    "checkVendorContract",
    "VendorContractError",
    "VendorSamples",
    "pnpExchange",
    "PnPExchange",
    "renderOne",
    "configFor",
    "FakeVendor",
    "FakeMulticastTransport",
    "FakeUDPReactor",
    "FakeFDReactor",
]

SERVER = "192.0.2.10"
"""
The server's address in L{pnpExchange} and L{renderOne} (TEST-NET-1).
"""

PHONE = ("192.0.2.67", 5060)
"""
Where L{pnpExchange}'s SUBSCRIBE comes from by default.
"""


def configFor(vendor=None, baseURL: str = f"http://{SERVER}:8080", url: str | None = None,
              options: Mapping[str, object] | None = None, extra: str = ""):
    """
    A L{snomprov.config.Config} as the daemon would read it: C{base_url},
    and for C{vendor} its C{[vendors.<name>]} table (C{url} and
    C{options}, which must be TOML-able: text, numbers, booleans, lists
    and tables of them).

    @param extra: more TOML, after the rest.
    """
    text = f"[server]\nbase_url = {json.dumps(baseURL)}\n"
    if vendor is not None and (url is not None or options):
        text += f"[vendors.{vendor.name}]\n"
        if url is not None:
            text += f"url = {json.dumps(url)}\n"
        for key, value in (options or {}).items():
            text += f"{key} = {_toml(value)}\n"
    return parseConfig(text + extra, "<configFor>")


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


class _Recording(PnPRecording):
    def __init__(self) -> None:
        self.sightings: list[DeviceInfo] = []
        self.events: list[Event] = []

    def sighting(self, device: DeviceInfo) -> None:
        self.sightings.append(device)

    def event(self, event: Event) -> None:
        self.events.append(event)


@dataclass
class PnPExchange:
    """
    What came back from one datagram in L{pnpExchange}.

    @ivar response: the answer to the SUBSCRIBE (the C{200 OK}), or
        C{None} (silence: no vendor claimed it).
    @ivar notify: the C{NOTIFY} that followed, or C{None}.
    @ivar url: the provisioning URL the NOTIFY carries, or C{None}.
    @ivar datagrams: everything written, as C{(bytes, address)}.
    @ivar sightings: the devices the controller recorded (vendor, model,
        firmware as it read them).
    @ivar events: the events it recorded.
    @ivar clock: the clock, to advance for retransmissions.
    @ivar transport: the fake transport, to look at later writes.
    @ivar protocol: the SIP protocol, to feed the phone's answers to.
    """

    response: SIPResponse | None
    notify: SIPRequest | None
    url: str | None
    datagrams: list[tuple[bytes, tuple[str, int]]]
    sightings: list[DeviceInfo] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    clock: Clock | None = None
    transport: "FakeMulticastTransport | None" = None
    protocol: object = None


def pnpExchange(vendor, subscribe: bytes, source: tuple[str, int] = PHONE, config=None,
                vendors: Iterable[object] = (), baseURL: str = f"http://{SERVER}:8080",
                url: str | None = None, options: Mapping[str, object] | None = None) -> PnPExchange:
    """
    Send one datagram (a phone's SUBSCRIBE) through the real SIP protocol
    and plug-and-play controller, with C{vendor} (and C{vendors}) in the
    registry, on a L{FakeMulticastTransport} and a L{Clock}, from
    C{source} to L{SERVER}:5060.

    @param subscribe: the datagram, as the phone sends it.
    @param config: a L{snomprov.config.Config}; default L{configFor} of
        C{vendor}, C{baseURL}, C{url} and C{options}.
    @return: L{PnPExchange}: the 200 and the NOTIFY with its URL, or
        C{None}s for silence.
    """
    if config is None:
        config = configFor(vendor, baseURL, url, options)
    clock = Clock()
    recording = _Recording()
    registry = VendorRegistry([vendor, *vendors])
    controller = PnPController(registry, config, recording, clock)
    protocol = SIPProtocol(controller, "224.0.1.75", (), clock, localHostFor=lambda ip: SERVER)
    transport = FakeMulticastTransport("0.0.0.0", 5060)
    protocol.makeConnection(transport)
    protocol.datagramReceived(subscribe, source)
    written = [(data, address) for data, address, _ in transport.written]
    response = notify = None
    for data, _ in written:
        message = parseMessage(data)
        if isinstance(message, SIPResponse) and response is None:
            response = message
        elif isinstance(message, SIPRequest) and message.method == "NOTIFY" and notify is None:
            notify = message
    return PnPExchange(
        response=response,
        notify=notify,
        url=notify.body.decode("utf-8") if notify is not None else None,
        datagrams=written,
        sightings=recording.sightings,
        events=recording.events,
        clock=clock,
        transport=transport,
        protocol=protocol,
    )


def renderOne(vendor, name: str, device: DeviceInfo | None = None, lines: Iterable[Line] = (),
              layers: Iterable[SettingsLayer] = (), userAgent: str | None = None, config=None,
              options: Mapping[str, object] | None = None, transport: str = "http",
              baseURL: str = f"http://{SERVER}:8080") -> RenderedFile | None:
    """
    Render the file a phone asks for by C{name} (as on the wire, without
    the leading C{/}), as the server does: the name is resolved through a
    registry holding C{vendor}, the layers that apply to the device (by
    scope: C{site}, C{vendor:<name>}, C{model:<model>}, C{device:<MAC>})
    are merged, lines are given only to a file of that device.

    @param device: the stored device (C{None}: unknown).
    @param userAgent: the phone's User-Agent header, read by the vendor.
    @param config: a L{snomprov.config.Config}; default L{configFor} of
        C{vendor}, C{baseURL} and C{options}.
    @raise LookupError: when the vendor does not recognise C{name}.
    @return: the L{RenderedFile}, or C{None} when the vendor has no such
        file (404).
    """
    if config is None:
        config = configFor(vendor, baseURL, options=options)
    registry = VendorRegistry([vendor])
    agent = registry.parseUserAgent(userAgent)
    found = registry.resolveFile(name, agent)
    if found is None:
        raise LookupError(f"{vendor.name} does not recognise {name!r}")
    _, request = found
    mac = request.mac
    model = request.model or (agent.model if agent else None) or (device.model if device else None)
    wanted = set(layerScopesFor(vendor.name, model, mac or ""))
    if not mac:
        wanted.discard("device:")
    present = [layer for layer in layers if layer.scope in wanted]
    ownLines = tuple(lines) if mac and (device is None or device.mac == mac) else ()
    return renderDeviceFile(vendor, request, device if mac else None, ownLines, present, config,
                            userAgent=agent, transport=transport)


@implementer(IUAProfileVendor, IFileVendor, IResyncVendor, IDHCPVendor)
class FakeVendor:
    """
    A vendor for tests: recognises C{<name>/<MAC>.cfg} and a User-Agent
    starting with C{<Name>/}.
    """

    optionTypes = {"greeting": str}
    resyncEvent = "check-sync"
    phoneURLVariables: frozenset[str] = frozenset()

    def __init__(self, name: str = "fake", ouis=("AABBCC",)) -> None:
        self.name = name
        self.ouis = frozenset(ouis)
        self.defaultURLTemplate = "{base_url}/" + name + "/{mac}.cfg"

    def matchesProfileEvent(self, vendor, model):
        return (vendor or "").lower() == self.name

    def parseUserAgent(self, userAgent):
        prefix = self.name.capitalize() + "/"
        if not userAgent.startswith(prefix):
            return None
        model, _, firmware = userAgent[len(prefix):].partition("-")
        return UserAgentInfo(vendor=self.name, model=model or None, firmware=firmware or None)

    def provisioningURL(self, request, url):
        return url

    def resolveFile(self, name, userAgent):
        from .device import InvalidMAC, parseMAC

        prefix = self.name + "/"
        if name.startswith(prefix) and name.endswith(".cfg"):
            try:
                mac = parseMAC(name[len(prefix):-4])
            except InvalidMAC:
                return None
            return FileRequest(vendor=self.name, kind="profile", name=name, mac=mac)
        return None

    def deviceFileName(self, mac):
        return f"{self.name}/{mac}.cfg"

    def renderFile(self, request, context):
        users = ",".join(line.user for line in context.lines)
        settings = ",".join(f"{s.name}={s.value}" for s in context.settings.values())
        body = f"{request.mac} users={users} settings={settings}\n".encode()
        return RenderedFile(body, "text/plain", sensitive=bool(context.lines))

    def dhcpRule(self, tftpServer, baseURL):
        return DHCPRule(self.name, (self.name.capitalize(),), tuple(sorted(self.ouis)), {66: tftpServer})


class FakeMulticastTransport:
    """
    A datagram transport that records writes and group memberships.

    @ivar written: list of C{(data, address, interface)}; C{interface} is
        the outgoing interface set when it was written.
    @ivar groups: list of C{(group, interface)} joined.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 5060, failJoinOn=()) -> None:
        self.written: list[tuple[bytes, tuple[str, int], str]] = []
        self.groups: list[tuple[str, str]] = []
        self.outgoingInterface = ""
        self.loopback = True
        self.ttl = 1
        self._host = (host, port)
        self._failJoinOn = set(failJoinOn)
        self.stopped = False

    def write(self, data: bytes, address) -> None:
        self.written.append((data, address, self.outgoingInterface))

    def joinGroup(self, group: str, interface: str = ""):
        from twisted.internet import defer, error

        if interface in self._failJoinOn:
            return defer.fail(error.MulticastJoinError(group, interface))
        self.groups.append((group, interface))
        return defer.succeed(None)

    def leaveGroup(self, group: str, interface: str = ""):
        from twisted.internet import defer

        self.groups.remove((group, interface))
        return defer.succeed(None)

    def setOutgoingInterface(self, interface: str):
        from twisted.internet import defer

        self.outgoingInterface = interface
        return defer.succeed(None)

    def getOutgoingInterface(self) -> str:
        return self.outgoingInterface

    def setLoopbackMode(self, mode) -> None:
        self.loopback = bool(mode)

    def getLoopbackMode(self) -> bool:
        return self.loopback

    def setTTL(self, ttl: int) -> None:
        self.ttl = ttl

    def getTTL(self) -> int:
        return self.ttl

    def getHost(self):
        from twisted.internet.address import IPv4Address

        return IPv4Address("UDP", *self._host)

    def stopListening(self):
        self.stopped = True


class FakeUDPReactor(Clock):
    """
    A clock that also "listens" on UDP: C{listenUDP} and C{listenMulticast}
    connect the protocol to a L{FakeMulticastTransport} and record it in
    C{ports}.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ports: list[tuple[int, object, FakeMulticastTransport]] = []
        self._nextPort = 40000

    def listenUDP(self, port, protocol, interface="", maxPacketSize=8192):
        if port == 0:
            self._nextPort += 1
            port = self._nextPort
        transport = FakeMulticastTransport(interface or "0.0.0.0", port)
        protocol.makeConnection(transport)
        self.ports.append((port, protocol, transport))
        return transport

    def listenMulticast(self, port, protocol, interface="", maxPacketSize=8192, listenMultiple=False):
        return self.listenUDP(port, protocol, interface, maxPacketSize)


@implementer(IReactorFDSet)
class FakeFDReactor(Clock):
    """
    A clock that keeps the readers and writers it is given and watches
    nothing: a port on a real socket runs on it, and the test calls the
    port's C{doRead} when the reactor would.

    @ivar readers: the readers added and not removed.
    @ivar writers: the writers added and not removed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.readers: set = set()
        self.writers: set = set()

    def addReader(self, reader) -> None:
        self.readers.add(reader)

    def addWriter(self, writer) -> None:
        self.writers.add(writer)

    def removeReader(self, reader) -> None:
        self.readers.discard(reader)

    def removeWriter(self, writer) -> None:
        self.writers.discard(writer)

    def removeAll(self) -> list:
        removed = list(self.readers | self.writers)
        self.readers.clear()
        self.writers.clear()
        return removed

    def getReaders(self) -> list:
        return list(self.readers)

    def getWriters(self) -> list:
        return list(self.writers)
