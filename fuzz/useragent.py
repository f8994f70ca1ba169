"""
Every installed vendor's User-Agent parser and file-name resolver (the
built-in snom, linksys and generic vendors, and any plugin found): neither
raises on any text; a reading names its own vendor and only a normalised
MAC; a file a vendor resolves is its own, for a normalised MAC, its name
without a C{..} segment; the registry's readings agree with its vendors'.

Input: the User-Agent, a line feed, the requested name.
"""

from __future__ import annotations

import re

from snomprov.interfaces import IFileVendor
from snomprov.registry import discoverVendors

_REGISTRY = discoverVendors()
_MAC = re.compile(r"[0-9A-F]{12}")


def seeds() -> list[bytes]:
    return [
        b"Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 000413A1B2C3)\nsnom/000413A1B2C3-settings.xml",
        b"snom360-SIP 8.7.3.25\nsnom360-000413922D24.htm?mac=000413922d24",
        b"Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)\n/spa0002fdff2103.cfg",
        b"Linksys/SPA-942-6.1.5(a) (88019FA42805)\nlinksys/firmware/spa942-6-1-5a.bin",
        b"Yealink SIP-T21P 34.72.14.6 00:15:65:aa:bb:cc\ny0000000000000.cfg",
        b"Grandstream GRP2612W 1.0.5.67\ncfg000b82aabbcc.xml",
        b"\nsnom/../../etc/passwd",
    ]


def _checkInfo(info, vendor: str | None = None) -> None:
    if info is None:
        return
    if vendor is not None:
        assert info.vendor == vendor, info
    assert info.mac is None or _MAC.fullmatch(info.mac), info


def _checkRequest(request, vendor: str) -> None:
    assert request.vendor == vendor, request
    assert request.mac is None or _MAC.fullmatch(request.mac), request
    assert ".." not in request.name.split("?", 1)[0].split("/"), request


def testOneInput(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    userAgent, _, name = text.partition("\n")
    first = None
    for vendor in _REGISTRY.vendors:
        info = vendor.parseUserAgent(userAgent)
        _checkInfo(info, vendor.name)
        if first is None:
            first = info
        if IFileVendor.providedBy(vendor):
            for seen in (None, info):
                request = vendor.resolveFile(name, seen)
                if request is not None:
                    _checkRequest(request, vendor.name)
    info = _REGISTRY.parseUserAgent(userAgent)
    assert info == (first if userAgent else None), (info, first)
    found = _REGISTRY.resolveFile(name, info)
    if found is not None:
        vendor, request = found
        _checkRequest(request, vendor.name)
