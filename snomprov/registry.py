# -*- test-case-name: tests.test_registry -*-
"""
The vendor registry: which vendor answers a request, and the discovery of
vendors.

Selection (L{VendorRegistry}) is pure and works on any list of vendors;
L{discoverVendors} is the one function that finds them, in two places:

    - the distributions' entry points of the group C{snomprov.vendors}
      (L{snomprov.plugin.ENTRY_POINT_GROUP}), read from the installed
      metadata with C{importlib.metadata}: the preferred way, for a
      vendor shipped as its own wheel;
    - C{twisted.plugin} drop-ins in the plugin package L{snomprov.plugins}
      (C{snomprov/plugins/<module>.py} anywhere on C{sys.path}): how the
      built-in vendors ship, and a single file an operator drops in.
"""

from __future__ import annotations

from importlib import metadata
from typing import Callable, Iterable, Iterator

from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyObject

from twisted.logger import Logger
from twisted.plugin import getCache
from twisted.python.modules import getModule

from .device import FileRequest, ProfileRequest, UserAgentInfo, ouiOf
from .interfaces import (
    IDHCPVendor,
    IBuiltinSettingsVendor,
    IFileListingVendor,
    IFileVendor,
    IOptionsVendor,
    IResyncVendor,
    ISettingsVendor,
    ISIPPortsVendor,
    ISubscribeReadingVendor,
    IUAProfileVendor,
    IVendor,
)

__all__ = [
    "VendorRegistry",
    "VendorRegistryError",
    "discoverVendors",
    "vendorEntryPoints",
    "CAPABILITIES",
    "ENTRY_POINT_GROUP",
]

CAPABILITIES = (
    IVendor, IUAProfileVendor, ISubscribeReadingVendor, ISIPPortsVendor, IFileVendor,
    IFileListingVendor, IBuiltinSettingsVendor, IResyncVendor, IDHCPVendor, IOptionsVendor, ISettingsVendor,
)
"""
Every vendor interface: a vendor is checked against each one it claims.
"""

ENTRY_POINT_GROUP = "snomprov.vendors"
"""
The entry-point group vendor distributions name their vendor in (also
L{snomprov.plugin.ENTRY_POINT_GROUP}).
"""

_log = Logger()


class VendorRegistryError(Exception):
    """
    The vendors cannot be used: a duplicate name or a broken implementation.
    """


class VendorRegistry:
    """
    Picks the vendor for a request.

    @ivar vendors: the vendors, in discovery order.
    """

    def __init__(self, vendors: Iterable[object]) -> None:
        self.vendors = tuple(vendors)
        self._byName: dict[str, object] = {}
        self._byOUI: dict[str, object] = {}
        for vendor in self.vendors:
            self._byName[vendor.name] = vendor
            for oui in vendor.ouis:
                self._byOUI.setdefault(oui, vendor)
        self._fileVendors = [v for v in self.vendors if IFileVendor.providedBy(v)]
        # What forProfileRequest asks for every SUBSCRIBE, worked out once.
        self._profileVendors = [v for v in self.vendors if IUAProfileVendor.providedBy(v)]
        self._profileByOUI = {
            oui: vendor for oui, vendor in self._byOUI.items() if IUAProfileVendor.providedBy(vendor)
        }
        self._claimers = [v for v in self.vendors if ISubscribeReadingVendor.providedBy(v)]

    @property
    def sipPorts(self) -> frozenset[int]:
        """
        The UDP ports the vendors' phones send SUBSCRIBEs to besides
        C{[sip] port} (L{ISIPPortsVendor}), for the daemon to listen on.
        """
        return frozenset(
            port for vendor in self.vendors if ISIPPortsVendor.providedBy(vendor) for port in vendor.sipPorts
        )

    @property
    def names(self) -> list[str]:
        return sorted(self._byName)

    def byName(self, name: str | None):
        """
        @return: the vendor called C{name}, or C{None}.
        """
        return self._byName.get(name) if name else None

    def byMAC(self, mac: str | None):
        """
        @return: the vendor owning the MAC's OUI, or C{None}.
        """
        return self._byOUI.get(ouiOf(mac)) if mac else None

    def forProfileRequest(self, request: ProfileRequest, subscribe=None):
        """
        The vendor of L{answerProfileRequest}, or C{None}.
        """
        answer = self.answerProfileRequest(request, subscribe)
        return None if answer is None else answer[0]

    def answerProfileRequest(self, request: ProfileRequest, subscribe=None):
        """
        The vendor to answer a ua-profile SUBSCRIBE: by the MAC's OUI first,
        then the first L{ISubscribeReadingVendor} to claim the SUBSCRIBE,
        then the C{Event}'s C{vendor}/C{model}, then the User-Agent.  Only
        vendors providing L{IUAProfileVendor} answer.

        @param request: the server's reading of the SUBSCRIBE.
        @param subscribe: the L{snomprov.sip.decoded.DecodedMessage} itself,
            shown to the claiming vendors (none are asked without it).
        @return: C{(vendor, request)}, C{request} as the vendor revised it
            (a claiming vendor may fill in the MAC); or C{None}.
        """
        mac = request.mac
        if mac:
            vendor = self._profileByOUI.get(ouiOf(mac))
            if vendor is not None:
                return vendor, request
        if subscribe is not None:
            for vendor in self._claimers:
                claimed = vendor.claimSubscribe(request, subscribe)
                if claimed is not None:
                    return vendor, claimed
        candidates = self._profileVendors
        if request.vendor or request.model:
            for vendor in candidates:
                if vendor.matchesProfileEvent(request.vendor, request.model):
                    return vendor, request
        if request.userAgent:
            for vendor in candidates:
                if vendor.parseUserAgent(request.userAgent) is not None:
                    return vendor, request
        return None

    def parseUserAgent(self, userAgent: str | None) -> UserAgentInfo | None:
        """
        The first vendor's reading of a User-Agent.
        """
        if not userAgent:
            return None
        for vendor in self.vendors:
            info = vendor.parseUserAgent(userAgent)
            if info is not None:
                return info
        return None

    def resolveFile(
        self, name: str, userAgent: UserAgentInfo | None
    ) -> tuple[object, FileRequest] | None:
        """
        Which vendor serves a requested name: C{<vendor>/…} belongs to that
        vendor alone; a root-level name to the first vendor recognising it,
        the User-Agent's vendor asked first.

        @return: C{(vendor, request)} or C{None}.
        """
        head, slash, _ = name.partition("/")
        if slash:
            vendor = self._byName.get(head)
            if not IFileVendor.providedBy(vendor):
                return None
            request = vendor.resolveFile(name, userAgent)
            return (vendor, request) if request is not None else None
        for vendor in self._orderedFor(userAgent):
            request = vendor.resolveFile(name, userAgent)
            if request is not None:
                return vendor, request
        return None

    def _orderedFor(self, userAgent: UserAgentInfo | None) -> Iterator[object]:
        preferred = self._byName.get(userAgent.vendor) if userAgent else None
        if preferred in self._fileVendors:
            yield preferred
        for vendor in self._fileVendors:
            if vendor is not preferred:
                yield vendor


def verifyVendor(vendor: object) -> None:
    """
    Check a vendor against every capability interface it claims.

    @raise zope.interface.Invalid: if it falls short of one.
    """
    for interface in CAPABILITIES:
        if interface.providedBy(vendor):
            verifyObject(interface, vendor)


def vendorEntryPoints() -> list:
    """
    The entry points of the group L{ENTRY_POINT_GROUP} of every installed
    distribution (on C{sys.path} now), in a stable order: by name, then
    value.
    """
    found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    return sorted(found, key=lambda entryPoint: (entryPoint.name, entryPoint.value))


def _entryPointWhere(entryPoint) -> str:
    """
    How a log line or an error names an entry point: its name, what it
    points at and its distribution.
    """
    dist = getattr(entryPoint, "dist", None)
    owner = f" of {dist.name} {dist.version}" if dist is not None else ""
    return f"entry point {entryPoint.name} = {entryPoint.value}{owner}"


def _dropinCandidates(package) -> Iterator[tuple[str, Callable[[], object]]]:
    """
    The vendor drop-ins of a plugin package: C{(where, load)} per plugin
    object that claims L{IVendor}.  A module that fails to import is logged
    by C{twisted.plugin} (its traceback), then here in one line naming it,
    and skipped.
    """
    cache = getCache(package)
    for module in getModule(package.__name__).iterModules():
        if module.name.rpartition(".")[2] not in cache:
            _log.error("Vendor plugin module {where} skipped: it failed to import (traceback above)",
                       where=module.name)
    for moduleName, dropin in sorted(cache.items()):
        for plugin in dropin.plugins:
            if any(provided.isOrExtends(IVendor) for provided in plugin.provided):
                yield f"{dropin.moduleName}.{plugin.name}", plugin.load


def _entryPointCandidates(entryPoints) -> Iterator[tuple[str, Callable[[], object]]]:
    """
    C{(where, load)} per entry point.  An entry point may name the vendor
    object or a class implementing L{IVendor} (then called without
    arguments).
    """
    for entryPoint in entryPoints:
        def load(entryPoint=entryPoint):
            loaded = entryPoint.load()
            if isinstance(loaded, type) and IVendor.implementedBy(loaded):
                loaded = loaded()
            return loaded

        yield _entryPointWhere(entryPoint), load


def discoverVendors(package=None, entryPoints=None) -> VendorRegistry:
    """
    Find the vendors: the drop-ins of the plugin package (default
    L{snomprov.plugins}: the built-in vendors and single-file drop-ins),
    then the entry points of the group L{ENTRY_POINT_GROUP} (vendors
    installed as distributions).  Each vendor is checked with
    C{verifyObject} against every capability it claims.

    A plugin that fails to import or to load, one whose object does not
    provide L{IVendor}, and one that fails verification are logged, naming
    the module or entry point, and skipped: the others are still used.  Two
    vendors of one name stop everything.  The same object found twice (a
    distribution that is also a drop-in) counts once.

    @param entryPoints: the entry points to load (default
        L{vendorEntryPoints}: those installed).
    @raise VendorRegistryError: on a duplicate name, naming both plugins.
    """
    if package is None:
        import snomprov.plugins as package
    if entryPoints is None:
        entryPoints = vendorEntryPoints()
    found: dict[str, tuple[object, str]] = {}
    candidates = [*_dropinCandidates(package), *_entryPointCandidates(entryPoints)]
    for where, load in candidates:
        try:
            vendor = load()
        except Exception:
            _log.failure("Vendor plugin {where} skipped: it failed to load", where=where)
            continue
        try:
            if not IVendor.providedBy(vendor):
                raise Invalid(f"{vendor!r} does not provide IVendor")
            verifyVendor(vendor)
            name = vendor.name
        except Invalid as e:
            _log.error("Vendor plugin {where} skipped: {reason}", where=where, reason=e)
            continue
        except Exception as e:
            _log.error("Vendor plugin {where} skipped: {reason}", where=where, reason=repr(e))
            continue
        if name in found:
            if found[name][0] is vendor:
                continue
            raise VendorRegistryError(
                f"two vendors are called {name!r}: {found[name][1]} and {where}; "
                f"remove one of them"
            )
        found[name] = (vendor, where)
    return VendorRegistry(vendor for vendor, _ in found.values())
