# -*- test-case-name: tests.test_vendor_generic -*-
"""
A ua-profile vendor made from configuration alone: C{[vendors.<name>]} with
a C{url} template and no plugin of that name.  It answers SUBSCRIBEs whose
C{Event} names the vendor (or whose MAC has one of its OUIs) with the
expanded template; the phone fetches its files elsewhere.

Not knowing the phones, it reads their SUBSCRIBEs leniently
(L{GenericUAProfileVendor.claimSubscribe}): the C{Event}'s C{vender} when
there is no C{vendor} (Panasonic), and a MAC written after the C{MAC}
label without separator (Yealink's C{sip:MAC001565AABBCC@...}).
"""

from __future__ import annotations

from dataclasses import replace

from zope.interface import implementer

from ..device import InvalidMAC, ProfileRequest, UserAgentInfo, parseMAC, parseOUI
from ..interfaces import ISubscribeReadingVendor
from ..sip.uaprofile import eventParameter, userPart

__all__ = ["GenericUAProfileVendor", "genericVendorsFor"]


@implementer(ISubscribeReadingVendor)
class GenericUAProfileVendor:
    """
    @ivar match: the C{Event} C{vendor} parameter (case-insensitive) that
        selects this vendor; default its name.
    @ivar folder: the URL must end in C{/} (Grandstream wants a folder).
    """

    optionTypes = {"ouis": list, "folder": bool, "match": str, "user_agent": str}
    phoneURLVariables: frozenset[str] = frozenset()

    def __init__(self, name: str, template: str, ouis=(), folder: bool = False,
                 match: str | None = None, userAgent: str | None = None) -> None:
        self.name = name
        self.defaultURLTemplate = template
        self.ouis = frozenset(ouis)
        self.folder = folder
        self.match = (match or name).lower()
        self.userAgentPrefix = userAgent

    def matchesProfileEvent(self, vendor, model) -> bool:
        return vendor is not None and vendor.strip().lower() == self.match

    def claimSubscribe(self, request: ProfileRequest, subscribe) -> ProfileRequest | None:
        """
        A SUBSCRIBE whose C{Event} C{vendor} (or, without one, C{vender})
        is the C{match} value; its MAC, when the server read none, from a
        Request-URI, From or To user part C{MAC<hex>}.
        """
        vendor = request.vendor
        if vendor is None:
            vendor = eventParameter(subscribe.header("event"), "vender")
        if vendor is None or vendor.strip().lower() != self.match:
            return None
        mac = request.mac
        if mac is None:
            mac = _labelledMAC(subscribe)
        if vendor == request.vendor and mac == request.mac:
            return request
        return replace(request, vendor=vendor, mac=mac)

    def parseUserAgent(self, userAgent):
        """
        Phones whose User-Agent starts with the C{user_agent} option (for
        AudioCodes, whose SUBSCRIBE names no vendor).
        """
        if self.userAgentPrefix and userAgent.startswith(self.userAgentPrefix):
            return UserAgentInfo(vendor=self.name)
        return None

    def provisioningURL(self, request: ProfileRequest, url: str) -> str:
        """
        The server's expansion, ending in C{/} for a folder vendor.
        """
        if self.folder and not url.endswith("/"):
            url += "/"
        return url


def _labelledMAC(subscribe) -> str | None:
    """
    The MAC of the first Request-URI, From or To user part that is C{MAC}
    and a MAC, with or without separator.
    """
    for uri in (subscribe.uri, _uriIn(subscribe.header("from")), _uriIn(subscribe.header("to"))):
        user = userPart(uri) if uri else ""
        if user[:3].upper() == "MAC":
            try:
                return parseMAC(user)
            except InvalidMAC:
                continue
    return None


def _uriIn(nameAddr: str | None) -> str | None:
    """
    The URI in a From/To value, roughly: what is between C{<} and C{>}, or
    the value itself.
    """
    if not nameAddr:
        return None
    start = nameAddr.find("<")
    if start < 0:
        return nameAddr.partition(";")[0].strip()
    return nameAddr[start + 1 : nameAddr.find(">", start)]


def genericVendorsFor(config, knownNames) -> tuple[list[GenericUAProfileVendor], list[str]]:
    """
    The generic vendors the config defines: one per C{[vendors.<name>]}
    table naming no plugin vendor.

    @return: the vendors, and one line per problem.
    """
    vendors, problems = [], []
    for name, vendorConfig in sorted(config.vendors.items()):
        if name in knownNames:
            continue
        where = f"{config.source}: vendors.{name}"
        if vendorConfig.url is None:
            problems.append(f"{where}: no such vendor plugin (known: {', '.join(sorted(knownNames))}); "
                            f"a table for another ua-profile vendor needs a url")
            continue
        options = vendorConfig.options
        ouis = []
        listed = options.get("ouis", [])
        for oui in listed if isinstance(listed, list) else []:
            try:
                ouis.append(parseOUI(oui))
            except InvalidMAC:
                problems.append(f"{where}.ouis: {oui!r} is not an OUI (like 00:15:65)")
        vendors.append(GenericUAProfileVendor(
            name, vendorConfig.url, ouis,
            folder=options.get("folder", False) is True,
            match=_text(options.get("match")),
            userAgent=_text(options.get("user_agent")),
        ))
    return vendors, problems


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None
