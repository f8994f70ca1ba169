"""
Tests for L{snomprov.plugin}, the plugin kit: its exports are pinned, so
that a change to the public surface is a deliberate one.
"""

from __future__ import annotations

import snomprov.plugin as kit
from snomprov import device, interfaces, urltemplate

EXPORTS = [
    "IVendor", "IUAProfileVendor", "IFileVendor", "IFileListingVendor", "IResyncVendor",
    "IDHCPVendor", "ISubscribeReadingVendor", "ISIPPortsVendor", "IOptionsVendor", "ISettingsVendor", "ISecretSettingsVendor",
    "implementer",
    "ProfileRequest", "UserAgentInfo", "FileRequest", "RenderContext", "RenderedFile", "DHCPRule",
    "DeviceInfo", "Line", "Setting", "SettingsLayer",
    "InvalidMAC", "parseMAC", "formatMAC", "parseOUI", "ouiOf",
    "SERVER_VARIABLES", "TOKEN_MARK", "expandURLTemplate", "checkURLTemplate",
    "DecodedMessage", "userPart", "eventParameter",
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
                 "IDHCPVendor", "ISubscribeReadingVendor", "ISIPPortsVendor", "IOptionsVendor",
                 "ISettingsVendor"]:
        assert getattr(kit, name) is getattr(interfaces, name)
    for name in ["ProfileRequest", "UserAgentInfo", "FileRequest", "RenderContext", "RenderedFile",
                 "DHCPRule", "DeviceInfo", "Line", "Setting", "SettingsLayer", "InvalidMAC",
                 "parseMAC", "formatMAC", "parseOUI", "ouiOf"]:
        assert getattr(kit, name) is getattr(device, name)
    assert kit.expandURLTemplate is urltemplate.expandURLTemplate
    from snomprov.sip import decoded, uaprofile

    assert kit.DecodedMessage is decoded.DecodedMessage
    assert kit.userPart is uaprofile.userPart
    assert kit.eventParameter is uaprofile.eventParameter
    from snomprov.registry import ENTRY_POINT_GROUP

    assert kit.ENTRY_POINT_GROUP == ENTRY_POINT_GROUP == "snomprov.vendors"


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
        phoneURLVariables: frozenset = frozenset()

        def matchesProfileEvent(self, vendor, model):
            return vendor == "Tiny"

        def parseUserAgent(self, userAgent):
            return None

        def provisioningURL(self, request, url):
            return url

    tiny = Tiny()
    registry = VendorRegistry([tiny])
    request = kit.ProfileRequest(mac=kit.parseMAC("12:34:56:ab:cd:ef"))
    assert registry.forProfileRequest(request) is tiny
    from zope.interface.verify import verifyObject

    assert verifyObject(kit.IUAProfileVendor, tiny)
    url = kit.expandURLTemplate(tiny.defaultURLTemplate, {"base_url": "http://h/", "mac": request.mac})
    assert tiny.provisioningURL(request, url) == "http://h/tiny/123456ABCDEF"


def _guideVendor():
    """
    The one-file vendor of the plugin author's guide (docs/plugins.md), its
    first C{python} block, run as printed.
    """
    import os
    import re

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "plugins.md")
    with open(path, encoding="utf-8") as f:
        code = re.search(r"^```python\n(.*?)^```$", f.read(), re.S | re.M).group(1)
    namespace: dict = {}
    exec(compile(code, path, "exec"), namespace)
    return namespace["acmeVendor"]


acmeVendor = _guideVendor()


def test_minimalVendorOfTheGuide():
    """
    The guide's one-file vendor passes the contract, answers its PnP and
    renders its file through the testing helpers.
    """
    from snomprov.testing import checkVendorContract, pnpExchange, renderOne

    checkVendorContract(acmeVendor)
    subscribe = (b"SUBSCRIBE sip:MAC%3aACDE48000001@224.0.1.75 SIP/2.0\r\n"
                 b"Via: SIP/2.0/UDP 192.0.2.67:5060;branch=z9hG4bK1\r\n"
                 b"From: <sip:MAC%3aACDE48000001@224.0.1.75>;tag=1\r\nTo: <sip:MAC%3aACDE48000001@224.0.1.75>\r\n"
                 b"Call-ID: 1@192.0.2.67\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:192.0.2.67:5060>\r\n"
                 b'Event: ua-profile;profile-type="device";vendor="ACME";model="A1";version="1.0"\r\n'
                 b"Expires: 0\r\nAccept: application/url\r\nContent-Length: 0\r\n\r\n")
    assert pnpExchange(acmeVendor, subscribe).url == "http://192.0.2.10:8080/acme/ACDE48000001.cfg"
    rendered = renderOne(acmeVendor, "acme/ACDE48000001.cfg", None, [kit.Line(1, "100", "pw", "", "pbx")])
    assert rendered.content == b"line1 = 100:pw@pbx\n"
