"""
Tests for L{snomprov.vendors.generic}: ua-profile vendors made from a config
table alone.
"""

from zope.interface.verify import verifyObject

from snomprov.config import parseConfig
from snomprov.device import ProfileRequest
from snomprov.interfaces import IUAProfileVendor
from snomprov.testing import checkVendorContract
from snomprov.urltemplate import expandProfileURL
from snomprov.vendors.generic import GenericUAProfileVendor, genericVendorsFor


def vendorsFrom(tmp_path, text, known=("snom",)):
    config = parseConfig(text, "g.toml", baseDir=str(tmp_path))
    return genericVendorsFor(config, set(known))


def test_contract():
    """
    A generic vendor provides L{IUAProfileVendor} and passes the vendor
    contract checks.
    """
    vendor = GenericUAProfileVendor("yealink", "{base_url}/y/{mac}.cfg", ["001565"])
    verifyObject(IUAProfileVendor, vendor)
    checkVendorContract(vendor)


def test_fromConfig(tmp_path):
    """
    Each table naming no plugin becomes a vendor; plugin vendors' tables
    are left to the plugins.
    """
    vendors, problems = vendorsFrom(tmp_path, '[vendors.snom]\nurl = "{base_url}/s"\n'
                                              '[vendors.yealink]\nurl = "{base_url}/y/{mac}.cfg"\n'
                                              'ouis = ["00:15:65", "805EC0"]\n')
    assert problems == []
    [yealink] = vendors
    assert yealink.name == "yealink" and yealink.ouis == frozenset({"001565", "805EC0"})


def test_problems(tmp_path):
    """
    A table without a url, or with a bad OUI, is reported naming the key.
    """
    vendors, problems = vendorsFrom(tmp_path, '[vendors.nobody]\nx = 1\n'
                                              '[vendors.acme]\nurl = "http://x/"\nouis = ["zz"]\n')
    assert problems == [
        "g.toml: vendors.acme.ouis: 'zz' is not an OUI (like 00:15:65)",
        "g.toml: vendors.nobody: no such vendor plugin (known: snom); "
        "a table for another ua-profile vendor needs a url",
    ]


def test_matchingAndURL():
    """
    The Event's vendor selects it (any case, or the C{match} value); the
    URL expands server-side variables, keeps C{{mac}} for the phone when
    unknown, and ends in C{/} for a folder vendor.
    """
    grandstream = GenericUAProfileVendor("grandstream", "{base_url}/gs/{model}", folder=True)
    assert grandstream.matchesProfileEvent("Grandstream", "GRP2612W")
    assert not grandstream.matchesProfileEvent("Yealink", "T21D") and not grandstream.matchesProfileEvent(None, None)
    request = ProfileRequest(mac=None, vendor="Grandstream", model="GRP2612W", ip="192.0.2.5")
    url = expandProfileURL(grandstream.defaultURLTemplate, request, grandstream.name, "http://p")
    assert grandstream.provisioningURL(request, url) == "http://p/gs/GRP2612W/"
    fanvil = GenericUAProfileVendor("fanvil", "{base_url}/f/{mac}/$mac", match="Fanvil Technology")
    assert fanvil.matchesProfileEvent("fanvil technology", None)
    request = ProfileRequest(mac=None)
    url = expandProfileURL(fanvil.defaultURLTemplate, request, fanvil.name, "http://p")
    assert fanvil.provisioningURL(request, url) == "http://p/f/{mac}/$mac"


def test_userAgentPrefix():
    """
    A vendor whose phones name no vendor in the Event (AudioCodes) is
    recognised by its User-Agent prefix.
    """
    audiocodes = GenericUAProfileVendor("audiocodes", "tftp://x/{model}.cfg", userAgent="AUDC-IPPhone")
    assert audiocodes.parseUserAgent("AUDC-IPPhone/1.2.1_build_6").vendor == "audiocodes"
    assert audiocodes.parseUserAgent("Yealink SIP-T21P") is None
    assert GenericUAProfileVendor("x", "http://x/").parseUserAgent("AUDC-IPPhone/1") is None
