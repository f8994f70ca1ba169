"""
Tests for L{snomprov.operations.render} and L{snomprov.rendering}: a
device's files rendered from the store as the phone gets them.
"""

from __future__ import annotations

from dataclasses import replace

import tempfile

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from snomprov.config import parseConfig
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.operations import render
from snomprov.operations.errors import NotFound, Refused
from snomprov.provisioning import Fetch, Provisioner
from snomprov.registry import VendorRegistry
from snomprov.rendering import deviceFileNames
from snomprov.testing import FakeVendor
from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor

from test_store import store  # noqa: F401

REGISTRY = VendorRegistry([snomVendor, linksysVendor])
MAC = "000413922D24"


def config(extra: str = ""):
    return parseConfig('[server]\nbase_url = "http://prov.example"\n' + extra, "t.toml",
                       baseDir=tempfile.gettempdir())


def run(coroutine):
    return defer.ensureDeferred(coroutine)


class _NoRecorder:
    def sighting(self, device):
        pass

    def event(self, event):
        pass


@defer.inlineCallbacks
def setUp(store):
    yield store.applyImport([DeviceInfo(MAC, vendor="snom", model="snomD785", state="registered")],
                            {MAC: (Line(1, "100", "pw-100", "Alice", "pbx.example"),)})
    yield store.putLayer(SettingsLayer("model:snomD785", (Setting("language", "Deutsch"),)))


@pytest_twisted.inlineCallbacks
def test_everyFileAsThePhoneGetsIt(store):
    """
    Each listed file renders exactly as the Provisioner serves it to the
    phone with its proof, but for the phone's credential (a proof itself),
    shown masked.
    """
    yield setUp(store)
    cfg = config()
    names = yield run(render.listFiles(store, REGISTRY, "00:04:13:92:2d:24"))
    assert names == [f"snom/{MAC}-settings.xml", f"snom/{MAC}.xml", f"snom/{MAC}-firmware.xml",
                     f"snomD785-{MAC}.htm"]
    provisioner = Provisioner(REGISTRY, lambda: defer.succeed(store), cfg, _NoRecorder(), Clock())
    for name in names:
        got, rendered = yield run(render.renderFile(store, REGISTRY, cfg, MAC, name))
        served = yield provisioner.fetch(Fetch(name, "127.0.0.1", "http", clientMAC=MAC))
        credential = provisioner.proofs.credential(MAC, None).encode()
        assert got == name and rendered == replace(served, content=served.content.replace(credential, b"***"))
    name, main = yield run(render.renderFile(store, REGISTRY, cfg, MAC))
    assert name == f"snom/{MAC}-settings.xml" and b"<language>Deutsch</language>" in main.content
    assert b"pw-100" in main.content and main.sensitive


@pytest_twisted.inlineCallbacks
def test_refusals(store):
    yield setUp(store)
    cfg = config()
    with pytest.raises(NotFound, match=f"nothing.txt: no such file for {MAC}; its files are snom/{MAC}-settings"):
        yield run(render.renderFile(store, REGISTRY, cfg, MAC, "nothing.txt"))
    with pytest.raises(NotFound, match="no such file"):
        yield run(render.renderFile(store, REGISTRY, cfg, MAC, "snom/000413922D25-settings.xml"))
    with pytest.raises(Refused, match="not a MAC"):
        yield run(render.renderFile(store, REGISTRY, cfg, "zz"))
    with pytest.raises(NotFound, match="no vendor"):
        yield run(render.renderFile(store, REGISTRY, cfg, "AABBCC000001"))
    assert (yield run(render.listFiles(store, REGISTRY, "AABBCC000001"))) == []
    rejecting = config('[provisioning]\nunknown_devices = "reject"\n')
    with pytest.raises(NotFound, match="refused"):
        yield run(render.renderFile(store, REGISTRY, rejecting, "000413000001"))


def test_deviceFileNames():
    assert deviceFileNames(linksysVendor, "000E08AABBCC", "SPA942") == ["spa000e08aabbcc.cfg", "spa942.cfg"]
    assert deviceFileNames(FakeVendor(), "AABBCC000001", None) == ["fake/AABBCC000001.cfg"]
    assert deviceFileNames(object(), "AABBCC000001", None) == []


@pytest_twisted.inlineCallbacks
def test_builtinSettings(store):
    """
    A device's built-in settings are those its main file is rendered with
    below every layer (a wanted firmware adds snom's firmware settings);
    none for a device no vendor with built-ins serves.
    """
    yield setUp(store)
    yield store.mergeDevices([DeviceInfo(MAC, firmware="10.1.33.33", state="seen")])
    wanted = config('[vendors.snom.firmware]\nsnomD785 = { version = "10.1.54.13", '
                    'url = "http://fw.example/d785.bin" }\n')
    builtin = yield run(render.builtinSettings(store, REGISTRY, wanted, MAC))
    assert builtin.layer == "snom built-in"
    values = {s.name: s.value for s in builtin.settings}
    assert set(values) == {"setting_server", "firmware_status", "update_policy"}
    _, rendered = yield run(render.renderFile(store, REGISTRY, wanted, MAC))
    for name, value in values.items():
        assert f"<{name}>{value}</{name}>".encode() in rendered.content.replace(b' perm=""', b""), name
    plain = yield run(render.builtinSettings(store, REGISTRY, config(), MAC))
    assert {s.name for s in plain.settings} == {"setting_server"}
    yield store.mergeDevices([DeviceInfo("00AA00000001", state="seen")])
    assert (yield run(render.builtinSettings(store, REGISTRY, config(), "00AA00000001"))) is None
    with pytest.raises(Refused):
        yield run(render.builtinSettings(store, REGISTRY, config(), "nope"))
