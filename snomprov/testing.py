"""
Public fakes for tests, ours and plugin authors': a minimal vendor, a
vendor contract check, a fake multicast datagram transport and reactor
(Twisted's C{MemoryReactor} has no UDP and C{FakeDatagramTransport} no
C{joinGroup}), and a reactor that only notes which real sockets it would
watch (for ports whose C{doRead} a test calls itself, on a clock).
"""

from __future__ import annotations

from zope.interface import implementer
from zope.interface.verify import verifyObject

from twisted.internet.interfaces import IReactorFDSet
from twisted.internet.task import Clock

from .device import DHCPRule, FileRequest, RenderedFile, UserAgentInfo
from .interfaces import IDHCPVendor, IFileVendor, IResyncVendor, IUAProfileVendor, IVendor
from .registry import CAPABILITIES

__all__ = [
    "FakeVendor",
    "checkVendorContract",
    "FakeMulticastTransport",
    "FakeUDPReactor",
    "FakeFDReactor",
]


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


def checkVendorContract(vendor) -> None:
    """
    The checks every vendor must pass: C{verifyObject} for each capability
    it claims, a lower-case name, OUIs of six upper-case hex digits, option
    types that are types.

    @raise AssertionError: or C{zope.interface.Invalid}.
    """
    assert IVendor.providedBy(vendor), f"{vendor!r} does not provide IVendor"
    for interface in CAPABILITIES:
        if interface.providedBy(vendor):
            verifyObject(interface, vendor)
    assert vendor.name == vendor.name.lower() and vendor.name.isidentifier(), vendor.name
    for oui in vendor.ouis:
        assert len(oui) == 6 and oui == oui.upper() and int(oui, 16) >= 0, oui
    for key, kind in vendor.optionTypes.items():
        assert isinstance(key, str) and isinstance(kind, type), (key, kind)
    assert vendor.parseUserAgent("") is None or True  # must not raise


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
