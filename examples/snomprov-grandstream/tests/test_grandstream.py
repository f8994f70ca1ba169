"""
Tests for snomprov-grandstream, written as any plugin author's would be:
only L{snomprov.plugin} and L{snomprov.testing}, against the installed
package.
"""

from __future__ import annotations

import os

from snomprov.plugin import (DeviceInfo, IOptionsVendor, ISIPPortsVendor, ISubscribeReadingVendor, Line,
                             ProfileRequest, Setting, SettingsLayer)
from snomprov.testing import VendorSamples, checkVendorContract, pnpExchange, renderOne

from snomprov_grandstream import grandstreamVendor

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "sip")
MAC = "C074AD112233"
UA = "Grandstream Model HW GRP2612W SW 1.0.5.67 DevId c074ad112233"
LINES = (Line(1, "3001", "s3cret-3001", "Sales", "pbx.example.net", "auth3001", "proxy.example.net"),
         Line(2, "3002", "s3cret-3002", "", "pbx.example.net"))


def subscribe() -> bytes:
    with open(os.path.join(FIXTURES, "Grandstream-GRP2612W-1.0.5.67-1.sip"), "rb") as f:
        return f.read()


def test_contract():
    """
    The vendor passes snomprov's vendor contract, with its phones'
    User-Agents and PnP request.
    """
    checkVendorContract(grandstreamVendor, VendorSamples(
        models=(None, "GRP2612W", "GXP2170"),
        userAgents=(UA, "Grandstream GRP2612W 1.0.5.67", "Grandstream Model HW GXP2170 SW 1.0.9.135"),
        profileRequests=(ProfileRequest(mac=None, vendor="Grandstream", model="GRP2612W"),),
        options={"firmware": {"GRP2612W": {"version": "1.0.5.68", "url": "http://fw.example.net/grp/"}}},
    ))


def test_pnpWithTheFixture():
    """
    The real GRP2612W SUBSCRIBE gets the 200 and a NOTIFY with a folder URL
    ending in C{/}, even when the template has none.
    """
    exchange = pnpExchange(grandstreamVendor, subscribe())
    assert exchange.response.code == 200
    assert exchange.url == "http://192.0.2.10:8080/grandstream/"
    [device] = exchange.sightings
    assert (device.mac, device.vendor, device.model) == (MAC, "grandstream", "GRP2612W")
    again = pnpExchange(grandstreamVendor, subscribe(), url="{base_url}/gs")
    assert again.url == "http://192.0.2.10:8080/gs/"


def test_capabilities():
    """
    The vendor checks its options; its phones expand no variable of their
    own; it reads no SUBSCRIBE its own way and asks for no other SIP port.
    """
    assert IOptionsVendor.providedBy(grandstreamVendor)
    assert grandstreamVendor.phoneURLVariables == frozenset()
    assert not ISubscribeReadingVendor.providedBy(grandstreamVendor)
    assert not ISIPPortsVendor.providedBy(grandstreamVendor)


def test_userAgent():
    """
    The HTTP User-Agent gives the model, the firmware and the MAC; the SIP
    one the model and the firmware.
    """
    info = grandstreamVendor.parseUserAgent(UA)
    assert (info.vendor, info.model, info.firmware, info.mac) == ("grandstream", "GRP2612W", "1.0.5.67", MAC)
    assert grandstreamVendor.parseUserAgent("Grandstream GRP2612W 1.0.5.67").mac is None
    assert grandstreamVendor.parseUserAgent("Yealink SIP-T21P 34.72.14.6") is None


def test_renderAccount():
    """
    C{cfg<mac>.xml} is a C{<gs_provision>} with the config server and the
    P-values of each line; it is sensitive.
    """
    device = DeviceInfo(mac=MAC, vendor="grandstream", model="GRP2612W")
    rendered = renderOne(grandstreamVendor, f"grandstream/cfg{MAC.lower()}.xml", device, LINES, userAgent=UA)
    assert rendered.sensitive and rendered.contentType == "application/xml"
    assert rendered.content.decode().splitlines() == [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gs_provision version="1">',
        "  <mac>c074ad112233</mac>",
        '  <config version="1">',
        "    <P212>1</P212>",
        "    <P237>192.0.2.10:8080/grandstream</P237>",
        "    <P271>1</P271>",
        "    <P270>Sales</P270>",
        "    <P47>pbx.example.net</P47>",
        "    <P48>proxy.example.net</P48>",
        "    <P35>3001</P35>",
        "    <P36>auth3001</P36>",
        "    <P34>s3cret-3001</P34>",
        "    <P3>Sales</P3>",
        "    <P401>1</P401>",
        "    <P417>3002</P417>",
        "    <P402>pbx.example.net</P402>",
        "    <P404>3002</P404>",
        "    <P405>3002</P405>",
        "    <P406>s3cret-3002</P406>",
        "  </config>",
        "</gs_provision>",
    ]


def test_layersAndEscaping():
    """
    Layered P-values are written (escaped), other names left out; a line's
    field wins over a layer's P-value; lines beyond 4 are not written.
    """
    layers = [SettingsLayer("site", (Setting("P64", "CET-1CEST"), Setting("language", "Deutsch"),
                                     Setting("P1362", "a<b&c"))),
              SettingsLayer(f"device:{MAC}", (Setting("P35", "layer"),))]
    device = DeviceInfo(mac=MAC, vendor="grandstream")
    lines = (*LINES[:1], Line(5, "3005", "s3cret-3005"))
    text = renderOne(grandstreamVendor, f"cfg{MAC.lower()}.xml", device, lines, layers=layers).content.decode()
    assert "<P64>CET-1CEST</P64>" in text and "<P1362>a&lt;b&amp;c</P1362>" in text
    assert "Deutsch" not in text and "<P35>3001</P35>" in text and "layer" not in text
    assert "3005" not in text


def test_commonFile():
    """
    C{cfg.xml} holds the model-wide layers and the config server, no MAC
    and no line.
    """
    layers = [SettingsLayer("site", (Setting("P64", "CET-1CEST"),))]
    rendered = renderOne(grandstreamVendor, "grandstream/cfg.xml", None, LINES, layers=layers,
                         baseURL="https://prov.example.net")
    assert not rendered.sensitive
    text = rendered.content.decode()
    assert "<mac>" not in text and "3001" not in text
    assert "<P212>2</P212>" in text and "<P237>prov.example.net/grandstream</P237>" in text
    assert "<P64>CET-1CEST</P64>" in text


def test_firmwareByModel():
    """
    The model's firmware folder is named only while the phone runs another
    version.
    """
    options = {"firmware": {"grp2612w": {"version": "1.0.5.68", "url": "https://fw.example.net/grp/"}}}
    device = DeviceInfo(mac=MAC, vendor="grandstream", model="GRP2612W")
    old = renderOne(grandstreamVendor, f"cfg{MAC.lower()}.xml", device, LINES, userAgent=UA, options=options)
    assert b"<P192>fw.example.net/grp</P192>" in old.content and b"<P212>2</P212>" in old.content
    new = renderOne(grandstreamVendor, f"cfg{MAC.lower()}.xml", device, LINES,
                    userAgent=UA.replace("1.0.5.67", "1.0.5.68"), options=options)
    assert b"P192" not in new.content


def test_checkOptions():
    """
    C{folder = false} and a bad firmware entry are problems.
    """
    assert grandstreamVendor.checkOptions({"folder": True}) == []
    assert grandstreamVendor.checkOptions({"folder": False, "firmware": {"X": {"url": "x"}}}) == [
        "folder: Grandstream phones need a folder URL; leave it out or set it to true",
        'firmware.X: must be { version = "1.0.5.67", url = "http://…/grp2612w/" }',
    ]
