"""
Tests for the plugin authors' helpers of L{snomprov.testing}:
L{pnpExchange} and L{renderOne}, on the built-in vendors and the real
phones' SUBSCRIBEs of C{tests/fixtures/sip}.
"""

from __future__ import annotations

import os

import pytest

from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.testing import FakeVendor, pnpExchange, renderOne, configFor
from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "sip")


def fixture(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def test_pnpExchangeSnom():
    """
    A snom SUBSCRIBE gets the 200 and the NOTIFY with the snom URL; the
    sighting names the vendor.
    """
    exchange = pnpExchange(snomVendor, fixture("snom-OEM-7.1.19-1.sip"))
    assert exchange.response.code == 200
    assert exchange.notify.method == "NOTIFY"
    assert exchange.url == "http://192.0.2.10:8080/snom/00135E874B49.xml"
    assert exchange.notify.headers.get("Content-Type") == "application/url"
    assert [d.vendor for d in exchange.sightings] == ["snom"]
    assert [e.kind for e in exchange.events] == ["subscribe", "notify-sent"]


def test_pnpExchangeTemplateAndBaseURL():
    """
    The configured template and C{base_url} are used.
    """
    exchange = pnpExchange(snomVendor, fixture("snom-OEM-7.1.19-1.sip"), baseURL="https://prov.example.net",
                           url="{base_url}/p/{mac}/{vendor}.xml")
    assert exchange.url == "https://prov.example.net/p/00135E874B49/snom.xml"


def test_pnpExchangeSilence():
    """
    A SUBSCRIBE no vendor claims gets nothing back.
    """
    exchange = pnpExchange(linksysVendor, fixture("Grandstream-GRP2612W-1.0.5.67-1.sip"))
    assert (exchange.response, exchange.notify, exchange.url, exchange.datagrams) == (None, None, None, [])


def test_pnpExchangeRetransmits():
    """
    The exchange's clock drives the NOTIFY's retransmission.
    """
    exchange = pnpExchange(snomVendor, fixture("snom-OEM-7.1.19-1.sip"))
    exchange.clock.advance(0.5)
    assert len(exchange.transport.written) == 3


LINES = (Line(1, "alice", "pw-alice", "Alice", "pbx.example.net"),)


def test_renderOneSnomSettings():
    """
    The snom settings file of a device carries its line and the layers
    that apply to it, not another model's.
    """
    device = DeviceInfo(mac="000413922D24", vendor="snom", model="snomD785")
    layers = [SettingsLayer("site", (Setting("language", "Deutsch"),)),
              SettingsLayer("model:snom360", (Setting("language", "English"),)),
              SettingsLayer("device:000413922D24", (Setting("timezone", "GER+1"),))]
    rendered = renderOne(snomVendor, "snom/000413922D24-settings.xml", device, LINES, layers=layers)
    assert rendered.sensitive
    assert b"alice" in rendered.content and b"pw-alice" in rendered.content
    assert b"Deutsch" in rendered.content and b"English" not in rendered.content
    assert b"GER+1" in rendered.content


def test_renderOneModelWideFileHasNoLines():
    """
    A model-wide file is rendered without the device's lines.
    """
    rendered = renderOne(linksysVendor, "spa942.cfg", None, LINES)
    assert b"alice" not in rendered.content and not rendered.sensitive
    assert b"Profile_Rule" in rendered.content


def test_renderOneOptions():
    """
    The vendor's options reach the render.
    """
    device = DeviceInfo(mac="000E08AABBCC", vendor="linksys")
    rendered = renderOne(linksysVendor, "spa000e08aabbcc.cfg", device, LINES,
                         options={"profile_rule": "http", "resync_periodic": 60})
    assert b"http://192.0.2.10:8080/linksys/spa$MA.cfg" in rendered.content
    assert b">60<" in rendered.content


def test_renderOneUnknownName():
    """
    A name the vendor does not recognise is a C{LookupError}.
    """
    with pytest.raises(LookupError):
        renderOne(FakeVendor(), "nothing.txt")


def test_testConfig():
    """
    L{configFor} writes a vendor's table as the daemon would read it.
    """
    config = configFor(FakeVendor(), url="{base_url}/f/{mac}", options={"greeting": "hi"})
    assert config.vendor("fake").url == "{base_url}/f/{mac}"
    assert config.vendor("fake").options == {"greeting": "hi"}
