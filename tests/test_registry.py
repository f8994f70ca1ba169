"""
Tests for L{snomprov.registry}: vendor selection and plugin discovery.
"""

import sys
import textwrap

import pytest

from twisted.logger import LogLevel, globalLogPublisher

from snomprov.device import ProfileRequest, UserAgentInfo
from snomprov.registry import VendorRegistry, VendorRegistryError, discoverVendors
from snomprov.testing import FakeVendor, checkVendorContract


def test_fakeVendorContract():
    """
    The public fake vendor passes the vendor contract checks.
    """
    checkVendorContract(FakeVendor())


def test_profileRequestByOUIFirst():
    """
    The MAC's OUI decides before the Event parameters.
    """
    a, b = FakeVendor("alpha", ouis=("AAAAAA",)), FakeVendor("beta", ouis=("BBBBBB",))
    registry = VendorRegistry([a, b])
    assert registry.forProfileRequest(ProfileRequest(mac="BBBBBB000001", vendor="alpha")) is b


def test_profileRequestByEventThenUserAgent():
    """
    Without a known OUI, the Event's vendor decides, then the User-Agent;
    nothing matching gives C{None}.
    """
    a, b = FakeVendor("alpha", ouis=("AAAAAA",)), FakeVendor("beta", ouis=("BBBBBB",))
    registry = VendorRegistry([a, b])
    assert registry.forProfileRequest(ProfileRequest(mac=None, vendor="beta")) is b
    assert registry.forProfileRequest(ProfileRequest(mac="CCCCCC000001", userAgent="Alpha/X-1")) is a
    assert registry.forProfileRequest(ProfileRequest(mac=None, vendor="gamma")) is None


def test_resolveFileSubtreeAndRoot():
    """
    C{<vendor>/…} belongs to that vendor alone; unknown subtrees and names
    resolve to nothing.
    """
    a = FakeVendor("alpha")
    registry = VendorRegistry([a, FakeVendor("beta", ouis=("BBBBBB",))])
    vendor, request = registry.resolveFile("alpha/AABBCC000001.cfg", None)
    assert vendor is a and request.mac == "AABBCC000001"
    assert registry.resolveFile("gamma/AABBCC000001.cfg", None) is None
    assert registry.resolveFile("beta/nothing.txt", None) is None


def test_parseUserAgent():
    """
    The registry asks each vendor to read a User-Agent.
    """
    registry = VendorRegistry([FakeVendor("alpha")])
    assert registry.parseUserAgent("Alpha/M1-2.0") == UserAgentInfo("alpha", "M1", "2.0")
    assert registry.parseUserAgent("Other/1") is None
    assert registry.parseUserAgent(None) is None


def _pluginDir(tmp_path, modules):
    """
    A directory for C{sys.path} holding C{snomprov/plugins/<name>.py}, with
    no C{__init__.py} (the third-party drop-in layout).
    """
    plugins = tmp_path / "snomprov" / "plugins"
    plugins.mkdir(parents=True)
    for name, source in modules.items():
        (plugins / f"{name}.py").write_text(textwrap.dedent(source))
    return str(tmp_path)


def discoverLogging():
    """
    Discover the vendors, returning the registry and every log event
    (legacy ones included: Twisted's plugin scan logs with C{log.err}).
    """
    events = []
    globalLogPublisher.addObserver(events.append)
    try:
        return discoverVendors(), events
    finally:
        globalLogPublisher.removeObserver(events.append)


@pytest.fixture
def extraPluginPath(monkeypatch):
    """
    Put a drop-in directory on C{sys.path} and extend the plugin package's
    C{__path__} as a fresh import would.
    """
    import snomprov.plugins

    def add(path):
        monkeypatch.syspath_prepend(path)
        monkeypatch.setattr(snomprov.plugins, "__path__", [*snomprov.plugins.__path__, f"{path}/snomprov/plugins"])

    return add


_THIRD_PARTY = """
    from snomprov.testing import FakeVendor
    acme = FakeVendor("acme", ouis=("ACACAC",))
"""


def test_builtinVendorsDiscovered():
    """
    The built-in vendors are found through the plugin package.
    """
    names = discoverVendors().names
    assert "snom" in names and "linksys" in names


def test_thirdPartyVendorDiscovered(tmp_path, extraPluginPath):
    """
    A vendor module dropped into C{snomprov/plugins/} in another
    C{sys.path} directory is found beside the built-in ones.
    """
    extraPluginPath(_pluginDir(tmp_path, {"acme_vendor": _THIRD_PARTY}))
    registry = discoverVendors()
    assert "acme" in registry.names and "snom" in registry.names


def test_brokenPluginSkipped(tmp_path, extraPluginPath):
    """
    A plugin module that fails to import is logged and skipped; the others
    are still found.
    """
    extraPluginPath(_pluginDir(tmp_path, {"acme_vendor": _THIRD_PARTY, "broken_vendor": "raise ImportError('boom')\n"}))
    registry, events = discoverLogging()
    assert "acme" in registry.names
    failures = [str(e.get("failure") or e.get("log_failure")) for e in events if e.get("log_level") == LogLevel.critical]
    assert any("ImportError" in f and "boom" in f for f in failures)


def test_invalidVendorSkipped(tmp_path, extraPluginPath):
    """
    An object claiming L{IVendor} without the methods fails C{verifyObject}
    and is skipped with a logged reason.
    """
    source = """
        from zope.interface import implementer
        from snomprov.interfaces import IVendor
        @implementer(IVendor)
        class Half:
            name = "half"
            ouis = frozenset()
            optionTypes = {}
        half = Half()
    """
    extraPluginPath(_pluginDir(tmp_path, {"half_vendor": source}))
    registry, events = discoverLogging()
    assert "half" not in registry.names
    assert any("half_vendor" in str(e.get("where", "")) for e in events)


def test_duplicateNameRefused(tmp_path, extraPluginPath):
    """
    Two vendors of one name stop discovery with an error naming both.
    """
    extraPluginPath(_pluginDir(tmp_path, {
        "acme_one": _THIRD_PARTY,
        "acme_two": _THIRD_PARTY.replace("acme = ", "acme2 = "),
    }))
    with pytest.raises(VendorRegistryError) as e:
        discoverVendors()
    assert "acme_one.acme" in str(e.value) and "acme_two.acme2" in str(e.value)


def test_duplicateStopsTwistd(tmp_path):
    """
    Two vendors of one name stop C{twistd snomprov} before anything
    starts: exit 2, one clear line naming both modules.
    """
    import subprocess
    import sys

    from daemon import ROOT, twistdCommand

    path = _pluginDir(tmp_path, {"acme_one": _THIRD_PARTY, "acme_two": _THIRD_PARTY.replace("acme = ", "acme2 = ")})
    result = subprocess.run(
        [*twistdCommand(), "-n", "--pidfile=", "snomprov", "--data-dir", str(tmp_path / "var")],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={"PYTHONPATH": f"{path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2, result.stderr
    [line] = [l for l in result.stderr.splitlines() if "two vendors" in l]
    assert line == ("vendors: two vendors are called 'acme': snomprov.plugins.acme_one.acme and "
                    "snomprov.plugins.acme_two.acme2; remove one of them")


@pytest.mark.parametrize("interface", ["ISubscribeReadingVendor", "ISIPPortsVendor", "IOptionsVendor",
                                       "IFileListingVendor"])
def test_everyCapabilityVerified(interface):
    """
    A vendor claiming a capability it does not implement fails
    L{verifyVendor}, whichever capability it is; the fake vendor claiming
    only what it has passes.
    """
    from zope.interface import directlyProvides
    from zope.interface.exceptions import Invalid

    from snomprov import interfaces
    from snomprov.registry import CAPABILITIES, verifyVendor

    assert getattr(interfaces, interface) in CAPABILITIES
    vendor = FakeVendor()
    verifyVendor(vendor)
    directlyProvides(vendor, getattr(interfaces, interface))
    with pytest.raises(Invalid):
        verifyVendor(vendor)
