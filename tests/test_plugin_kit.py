"""
Tests for L{snomprov.plugin}, the plugin kit: its exports are pinned, so
that a change to the public surface is a deliberate one.
"""

from __future__ import annotations

import snomprov.plugin as kit
from snomprov import device, interfaces, urltemplate

EXPORTS = [
    "IVendor", "IUAProfileVendor", "IFileVendor", "IFileListingVendor", "IResyncVendor",
    "IDHCPVendor", "implementer",
    "ProfileRequest", "UserAgentInfo", "FileRequest", "RenderContext", "RenderedFile", "DHCPRule",
    "DeviceInfo", "Line", "Setting", "SettingsLayer",
    "InvalidMAC", "parseMAC", "formatMAC", "parseOUI", "ouiOf",
    "SERVER_VARIABLES", "expandURLTemplate", "checkURLTemplate",
    "ENTRY_POINT_GROUP",
]


def test_exportsPinned():
    """
    C{__all__} is exactly the kit, each name defined once.
    """
    assert kit.__all__ == EXPORTS
    assert len(set(kit.__all__)) == len(kit.__all__)


def test_exportsAreTheRealObjects():
    """
    Every export is the object snomprov itself uses, not a copy: a vendor
    built on the kit provides the interfaces the registry asks for.
    """
    for name in kit.__all__:
        assert hasattr(kit, name), name
    for name in ["IVendor", "IUAProfileVendor", "IFileVendor", "IFileListingVendor", "IResyncVendor",
                 "IDHCPVendor"]:
        assert getattr(kit, name) is getattr(interfaces, name)
    for name in ["ProfileRequest", "UserAgentInfo", "FileRequest", "RenderContext", "RenderedFile",
                 "DHCPRule", "DeviceInfo", "Line", "Setting", "SettingsLayer", "InvalidMAC",
                 "parseMAC", "formatMAC", "parseOUI", "ouiOf"]:
        assert getattr(kit, name) is getattr(device, name)
    assert kit.expandURLTemplate is urltemplate.expandURLTemplate
    assert kit.ENTRY_POINT_GROUP == "snomprov.vendors"


def test_kitIsEnoughForAVendor():
    """
    A vendor written with the kit alone is one the registry picks.
    """
    from snomprov.registry import VendorRegistry

    @kit.implementer(kit.IUAProfileVendor)
    class Tiny:
        name = "tiny"
        ouis = frozenset({kit.parseOUI("12:34:56")})
        optionTypes: dict = {}
        defaultURLTemplate = "{base_url}/tiny/{mac}"

        def matchesProfileEvent(self, vendor, model):
            return vendor == "Tiny"

        def parseUserAgent(self, userAgent):
            return None

        def provisioningURL(self, request, template, baseURL):
            return kit.expandURLTemplate(template, {"base_url": baseURL, "mac": request.mac})

    tiny = Tiny()
    registry = VendorRegistry([tiny])
    request = kit.ProfileRequest(mac=kit.parseMAC("12:34:56:ab:cd:ef"))
    assert registry.forProfileRequest(request) is tiny
    assert tiny.provisioningURL(request, tiny.defaultURLTemplate, "http://h/") == "http://h/tiny/123456ABCDEF"
