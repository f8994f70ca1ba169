"""
Tests for snomprov-yealink, written as any plugin author's would be: only
L{snomprov.plugin} and L{snomprov.testing}, against the installed package.
"""

from __future__ import annotations

import os

from snomprov.plugin import (DecodedMessage, DeviceInfo, IOptionsVendor, ISIPPortsVendor,
                             ISubscribeReadingVendor, Line, ProfileRequest, Setting, SettingsLayer)
from snomprov.testing import VendorSamples, checkVendorContract, pnpExchange, renderOne

from snomprov_yealink import yealinkVendor

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "sip")
MAC = "001565AABBCC"
UA = "Yealink SIP-T21P 34.72.14.6"
LINES = (Line(1, "2001", "s3cret-2001", "Reception", "pbx.example.net", "auth2001"),
         Line(2, "2002", "s3cret-2002", "", "pbx.example.net", "", "proxy.example.net"))


def subscribe(mac: str = MAC) -> bytes:
    """
    The Yealink T21P SUBSCRIBE, its placeholders filled in.
    """
    with open(os.path.join(FIXTURES, "Yealink-T21P-34.72.14.6-1.sip"), "rb") as f:
        data = f.read()
    return data.replace(b"$mac", mac.encode()).replace(b"$ip", b"192.0.2.67").replace(b"$port", b"5060")


def test_contract():
    """
    The vendor passes snomprov's vendor contract, with its phones'
    User-Agents and PnP request.
    """
    checkVendorContract(yealinkVendor, VendorSamples(
        models=(None, "T21P", "T46S"),
        userAgents=(UA, "Yealink SIP-T46S 66.86.0.15 80:5e:c0:aa:bb:cc"),
        profileRequests=(ProfileRequest(mac=None, vendor="Yealink", model="T21D"),),
        options={"firmware": {"T21P": {"version": "34.72.14.7", "url": "http://fw.example.net/t21p.rom"}}},
    ))


def test_pnpWithTheFixture():
    """
    The real SUBSCRIBE (C{MAC<hex>} Request-URI) gets the 200 and a NOTIFY
    with the Yealink folder; the MAC is read from the Request-URI.
    """
    exchange = pnpExchange(yealinkVendor, subscribe())
    assert exchange.response.code == 200
    assert exchange.url == "http://192.0.2.10:8080/yealink/"
    [device] = exchange.sightings
    assert (device.mac, device.vendor, device.firmware) == (MAC, "yealink", "34.72.14.6")


def test_pnpMACFromFromOrTo():
    """
    A SUBSCRIBE whose Request-URI carries no MAC has it read from the From,
    else the To user part; one with none anywhere is still answered (its
    Event names Yealink), with no MAC.
    """
    fromOnly = subscribe().replace(f"SUBSCRIBE sip:MAC{MAC}@".encode(), b"SUBSCRIBE sip:224.0.1.75@", 1)
    exchange = pnpExchange(yealinkVendor, fromOnly)
    assert exchange.url == "http://192.0.2.10:8080/yealink/"
    assert [d.mac for d in exchange.sightings] == [MAC]
    toOnly = fromOnly.replace(f"From: <sip:MAC{MAC}@".encode(), b"From: <sip:2001@", 1)
    assert [d.mac for d in pnpExchange(yealinkVendor, toOnly).sightings] == [MAC]
    none = toOnly.replace(f"To: <sip:MAC{MAC}@".encode(), b"To: <sip:2001@", 1)
    exchange = pnpExchange(yealinkVendor, none)
    assert exchange.response.code == 200 and exchange.url == "http://192.0.2.10:8080/yealink/"


def test_claimSubscribe():
    """
    C{claimSubscribe} claims a SUBSCRIBE whose Event names Yealink (the MAC
    filled in from the Request-URI when the server read none, a MAC read
    already kept), and leaves another vendor's alone.
    """
    decoded = DecodedMessage("SUBSCRIBE", f"sip:MAC{MAC}@224.0.1.75", None, [],
                             {"from": f'"T21P" <sip:MAC{MAC}@224.0.1.75>;tag=1', "event": "ua-profile"})
    request = ProfileRequest(mac=None, vendor="Yealink", model="T21D", ip="192.0.2.67")
    claimed = yealinkVendor.claimSubscribe(request, decoded)
    assert (claimed.mac, claimed.vendor, claimed.model, claimed.ip) == (MAC, "Yealink", "T21D", "192.0.2.67")
    known = ProfileRequest(mac="805EC0000001", vendor="yealink")
    assert yealinkVendor.claimSubscribe(known, decoded) is known
    assert yealinkVendor.claimSubscribe(ProfileRequest(mac=None, vendor="snom"), decoded) is None
    assert yealinkVendor.claimSubscribe(ProfileRequest(mac=None), decoded) is None


def test_capabilities():
    """
    The vendor reads its SUBSCRIBEs, asks for Yealink's second PnP port and
    checks its options.
    """
    assert ISubscribeReadingVendor.providedBy(yealinkVendor)
    assert ISIPPortsVendor.providedBy(yealinkVendor) and yealinkVendor.sipPorts == frozenset({5059})
    assert IOptionsVendor.providedBy(yealinkVendor)
    assert yealinkVendor.phoneURLVariables == frozenset()


def test_pnpOtherVendorsSilent():
    """
    Another vendor's SUBSCRIBE (its OUI, Event and User-Agent) is not
    claimed by the Yealink vendor: silence.
    """
    snom = (subscribe().replace(b'vendor="Yealink"', b'vendor="snom"').replace(MAC.encode(), b"000413AABBCC")
            .replace(UA.encode(), b"snom360/7.3.14"))
    assert pnpExchange(yealinkVendor, snom).datagrams == []


def test_userAgent():
    """
    SIP and HTTP User-Agents give the model, the firmware and (HTTP) the MAC.
    """
    info = yealinkVendor.parseUserAgent("Yealink SIP-T46S 66.86.0.15 80:5e:c0:aa:bb:cc")
    assert (info.vendor, info.model, info.firmware, info.mac) == ("yealink", "T46S", "66.86.0.15", "805EC0AABBCC")
    assert yealinkVendor.parseUserAgent(UA).model == "T21P"
    assert yealinkVendor.parseUserAgent("snom360/7.3.14") is None


def test_renderAccount():
    """
    The MAC file carries one C{account.N.*} block per line, after the
    layers; it is sensitive.
    """
    device = DeviceInfo(mac=MAC, vendor="yealink", model="T21P")
    rendered = renderOne(yealinkVendor, f"yealink/{MAC.lower()}.cfg", device, LINES, userAgent=UA)
    assert rendered.sensitive and rendered.contentType == "text/plain"
    text = rendered.content.decode()
    assert text.splitlines() == [
        "#!version:1.0.0.1",
        "account.1.enable = 1",
        "account.1.label = Reception",
        "account.1.display_name = Reception",
        "account.1.auth_name = auth2001",
        "account.1.user_name = 2001",
        "account.1.password = s3cret-2001",
        "account.1.sip_server.1.address = pbx.example.net",
        "account.2.enable = 1",
        "account.2.label = 2002",
        "account.2.auth_name = 2002",
        "account.2.user_name = 2002",
        "account.2.password = s3cret-2002",
        "account.2.sip_server.1.address = pbx.example.net",
        "account.2.outbound_proxy_enable = 1",
        "account.2.outbound_proxy.1.address = proxy.example.net",
    ]


def test_layersAsYealinkKeys():
    """
    Layered settings are written as Yealink keys, an index filling C{N};
    names of another vendor's shape and multi-line values are left out; a
    line's field wins over a layer's key.
    """
    layers = [
        SettingsLayer("site", (Setting("local_time.time_zone", "+1"), Setting("language", "Deutsch"),
                               Setting("Dial_Plan", "(x.)"), Setting("features.x", "a\nb=c"))),
        SettingsLayer("model:T21P", (Setting("linekey.N.type", "15", idx=2),
                                     Setting("account.1.user_name", "layer"))),
    ]
    device = DeviceInfo(mac=MAC, vendor="yealink", model="T21P")
    text = renderOne(yealinkVendor, f"{MAC.lower()}.cfg", device, LINES[:1], layers=layers).content.decode()
    assert "local_time.time_zone = +1" in text and "linekey.2.type = 15" in text
    assert "Deutsch" not in text and "Dial_Plan" not in text and "features.x" not in text
    assert "account.1.user_name = 2001" in text and "layer" not in text


def test_commonFile():
    """
    C{y000000000000.cfg} holds the model-wide layers and the provisioning
    server, and no line.
    """
    layers = [SettingsLayer("site", (Setting("local_time.time_zone", "+1"),)),
              SettingsLayer(f"device:{MAC}", (Setting("features.dnd.enable", "1"),))]
    rendered = renderOne(yealinkVendor, "yealink/y000000000000.cfg", None, LINES, layers=layers)
    assert not rendered.sensitive
    assert rendered.content.decode().splitlines() == [
        "#!version:1.0.0.1",
        "static.auto_provision.server.url = http://192.0.2.10:8080/yealink/",
        "local_time.time_zone = +1",
    ]


def test_firmwareByModel():
    """
    The model's image is named only while the phone runs another version.
    """
    options = {"firmware": {"t21p": {"version": "34.72.14.7", "url": "http://fw.example.net/t21p.rom"}}}
    device = DeviceInfo(mac=MAC, vendor="yealink", model="T21P")
    old = renderOne(yealinkVendor, f"{MAC.lower()}.cfg", device, LINES, userAgent=UA, options=options)
    assert b"static.firmware.url = http://fw.example.net/t21p.rom" in old.content
    new = renderOne(yealinkVendor, f"{MAC.lower()}.cfg", device, LINES,
                    userAgent="Yealink SIP-T21P 34.72.14.7", options=options)
    assert b"static.firmware.url" not in new.content
    other = renderOne(yealinkVendor, f"{MAC.lower()}.cfg", DeviceInfo(mac=MAC, model="T46S"), LINES,
                      userAgent="Yealink SIP-T46S 66.86.0.15", options=options)
    assert b"static.firmware.url" not in other.content


def test_checkOptions():
    """
    A firmware entry that is not C{{ version, url }} is a problem.
    """
    assert yealinkVendor.checkOptions({"firmware": {"T21P": {"version": "1"}}}) == [
        'firmware.T21P: must be { version = "66.86.0.15", url = "http://…/T46S-66.86.0.15.rom" }']
    assert yealinkVendor.checkOptions({"firmware": {"T21P": {"version": "1", "url": "http://x/y.rom"}}}) == []
