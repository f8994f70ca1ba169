"""
Tests for L{snomprov.vendors.generic}: ua-profile vendors made from a config
table alone.
"""

from zope.interface.verify import verifyObject

from snomprov.config import parseConfig
from snomprov.device import ProfileRequest
from snomprov.interfaces import ISubscribeReadingVendor, IUAProfileVendor
from snomprov.registry import VendorRegistry
from snomprov.sip.decoded import DecodedMessage
from snomprov.sip.uaprofile import readProfileRequest
from snomprov.testing import checkVendorContract
from snomprov.urltemplate import expandProfileURL
from snomprov.vendors.generic import GenericUAProfileVendor, genericVendorsFor
from snomprov.vendors.snom import snomVendor


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


def subscribeWith(uri="sip:224.0.1.75", event='ua-profile;vendor="Yealink"', from_="<sip:a@b>;tag=1",
                  to="<sip:a@b>"):
    """
    A decoded SUBSCRIBE with the given Request-URI and headers.
    """
    return DecodedMessage("SUBSCRIBE", uri, None, ["SIP/2.0/UDP 10.0.0.9:5059;branch=z9hG4bKx"],
                          {"from": from_, "to": to, "call-id": "c", "cseq": "1 SUBSCRIBE", "event": event})


def test_readsItsOwnSubscribes():
    """
    A generic vendor provides L{ISubscribeReadingVendor}: it claims the
    SUBSCRIBEs whose Event names it, filling in the MAC of a C{MAC<hex>}
    user part (Yealink) of the Request-URI, From or To, which the server
    does not read.
    """
    yealink = GenericUAProfileVendor("yealink", "{base_url}/y/{mac}.cfg")
    verifyObject(ISubscribeReadingVendor, yealink)
    for subscribe in (subscribeWith(uri="sip:MAC001565aabbcc@224.0.1.75"),
                      subscribeWith(from_="<sip:MAC001565AABBCC@224.0.1.75>;tag=1"),
                      subscribeWith(to="sip:MAC001565AABBCC@224.0.1.75")):
        server = readProfileRequest(subscribe, "10.0.0.9")
        assert server.mac is None
        assert yealink.claimSubscribe(server, subscribe) == ProfileRequest(
            mac="001565AABBCC", vendor="Yealink", ip="10.0.0.9")
    found = ProfileRequest(mac="001565000001", vendor="Yealink")
    assert yealink.claimSubscribe(found, subscribeWith(uri="sip:MAC001565AABBCC@h")) is found
    other = subscribeWith(uri="sip:MAC001565AABBCC@h", event='ua-profile;vendor="snom"')
    assert yealink.claimSubscribe(readProfileRequest(other, "ip"), other) is None
    bad = subscribeWith(uri="sip:MACnothex@h")
    assert yealink.claimSubscribe(readProfileRequest(bad, "ip"), bad).mac is None


def test_venderClaimed():
    """
    Panasonic's C{vender=} stands for C{vendor=} for the vendor matching
    it; C{vendor=} wins when both are there.
    """
    panasonic = GenericUAProfileVendor("panasonic", "{base_url}/p/{MAC}.cfg")
    subscribe = subscribeWith(event='ua-profile;vender="Panasonic";model="KX-UT123"')
    claimed = panasonic.claimSubscribe(readProfileRequest(subscribe, "ip"), subscribe)
    assert (claimed.vendor, claimed.model) == ("Panasonic", "KX-UT123")
    both = subscribeWith(event="ua-profile;vender=panasonic;vendor=b")
    assert panasonic.claimSubscribe(readProfileRequest(both, "ip"), both) is None


def test_claimedThroughRegistry():
    """
    The registry asks the claiming vendors after the OUI and before the
    Event match: the claimed request, MAC filled in, is what is answered.
    """
    yealink = GenericUAProfileVendor("yealink", "{base_url}/y/{mac}.cfg")
    registry = VendorRegistry([snomVendor, yealink])
    subscribe = subscribeWith(uri="sip:MAC001565AABBCC@224.0.1.75")
    vendor, request = registry.answerProfileRequest(readProfileRequest(subscribe, "ip"), subscribe)
    assert vendor is yealink and request.mac == "001565AABBCC"
    assert registry.forProfileRequest(readProfileRequest(subscribe, "ip"), subscribe) is yealink
    snom = subscribeWith(uri="sip:MAC%3a000413922D24@h", event='ua-profile;vendor="Yealink"')
    assert registry.answerProfileRequest(readProfileRequest(snom, "ip"), snom)[0] is snomVendor
