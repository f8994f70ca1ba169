"""
Tests for L{snomprov.registry}: vendor selection and plugin discovery.
"""

import os
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
    assert ("Vendor plugin module snomprov.plugins.broken_vendor skipped: it failed to import (traceback above)"
            in logLines(events))


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


# -- entry points: vendors installed as distributions ------------------------


def fakeDistribution(site, name: str, entryPoints: dict[str, str], modules: dict[str, str]) -> str:
    """
    Write a tiny installed distribution into the directory C{site}, as a
    wheel install leaves it: C{<name>-0.1.dist-info/} with C{METADATA} and
    C{entry_points.txt} (group C{snomprov.vendors}), and its modules.  No
    network, no pip.

    @return: C{site}, for C{sys.path}.
    """
    site.mkdir(exist_ok=True)
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[snomprov.vendors]\n" + "".join(f"{k} = {v}\n" for k, v in entryPoints.items()))
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    return str(site)


@pytest.fixture
def sitePath(tmp_path, monkeypatch):
    """
    Put a directory of fake distributions on C{sys.path}; their modules
    are forgotten afterwards.
    """
    site = tmp_path / "site"
    added = []

    def add(name, entryPoints, modules):
        path = fakeDistribution(site, name, entryPoints, modules)
        if path not in sys.path:
            monkeypatch.syspath_prepend(path)
        added.extend(modules)

    yield add
    for module in added:
        sys.modules.pop(module, None)


def logLines(events):
    """
    The log events' text, failures included.
    """
    from twisted.logger import formatEvent

    lines = []
    for event in events:
        text = formatEvent(event)
        failure = event.get("log_failure")
        if failure is not None:
            text += " " + str(failure.value) + " " + failure.type.__name__
        lines.append(text)
    return lines


def test_entryPointVendorDiscovered(sitePath):
    """
    A distribution naming a vendor in the C{snomprov.vendors} group is
    found beside the built-in vendors, without any manual step.
    """
    sitePath("acme-phones", {"acme": "acme_vendor_ep:acme"}, {"acme_vendor_ep": _THIRD_PARTY})
    registry = discoverVendors()
    assert {"acme", "snom", "linksys"} <= set(registry.names)
    assert registry.byName("acme").ouis == frozenset({"ACACAC"})


def test_entryPointClassInstantiated(sitePath):
    """
    An entry point may name a class implementing L{IVendor}: its instance
    is the vendor.
    """
    source = """
        from snomprov.testing import FakeVendor
        class Acme(FakeVendor):
            def __init__(self):
                super().__init__("acmeclass", ouis=("ACAC01",))
    """
    sitePath("acme-class", {"acme": "acme_class_ep:Acme"}, {"acme_class_ep": source})
    assert discoverVendors().byName("acmeclass").ouis == frozenset({"ACAC01"})


def test_entryPointImportErrorSkipped(sitePath):
    """
    An entry point whose module fails to import is logged with the entry
    point and its module, and skipped; snom is still there, and so is a
    good plugin installed beside it.
    """
    sitePath("broken-phones", {"broken": "broken_vendor_ep:vendor"},
             {"broken_vendor_ep": "import no_such_module_for_snomprov\n"})
    sitePath("acme-phones", {"acme": "acme_vendor_ep2:acme"}, {"acme_vendor_ep2": _THIRD_PARTY})
    registry, events = discoverLogging()
    assert "snom" in registry.names and "acme" in registry.names and "broken" not in registry.names
    [line] = [l for l in logLines(events) if "broken_vendor_ep" in l]
    assert "entry point broken = broken_vendor_ep:vendor of broken-phones 0.1" in line
    assert "failed to load" in line and "no_such_module_for_snomprov" in line


def test_entryPointFailingVerificationSkipped(sitePath):
    """
    An entry point whose object claims L{IVendor} without its methods fails
    C{verifyObject}: logged with the entry point and the reason, skipped.
    An object that does not provide L{IVendor} at all is skipped likewise.
    """
    half = """
        from zope.interface import implementer
        from snomprov.plugin import IVendor
        @implementer(IVendor)
        class Half:
            name = "half"
            ouis = frozenset()
            optionTypes = {}
        half = Half()
        nothing = object()
    """
    sitePath("half-phones", {"half": "half_vendor_ep:half", "nothing": "half_vendor_ep:nothing"},
             {"half_vendor_ep": half})
    registry, events = discoverLogging()
    assert "half" not in registry.names and "snom" in registry.names
    lines = logLines(events)
    [bad] = [l for l in lines if "half_vendor_ep:half" in l]
    assert "skipped" in bad and "matchesProfileEvent" in bad
    [none] = [l for l in lines if "half_vendor_ep:nothing" in l]
    assert "does not provide IVendor" in none


def test_entryPointDuplicateRefused(sitePath):
    """
    Two distributions claiming one vendor name stop discovery with one
    message naming both entry points.
    """
    sitePath("acme-one", {"acme": "acme_one_ep:acme"}, {"acme_one_ep": _THIRD_PARTY})
    sitePath("acme-two", {"acme": "acme_two_ep:acme"}, {"acme_two_ep": _THIRD_PARTY})
    with pytest.raises(VendorRegistryError) as e:
        discoverVendors()
    assert str(e.value) == (
        "two vendors are called 'acme': entry point acme = acme_one_ep:acme of acme-one 0.1 and "
        "entry point acme = acme_two_ep:acme of acme-two 0.1; remove one of them")


def test_entryPointClaimingBuiltinNameRefused(sitePath):
    """
    A distribution claiming a built-in vendor's name is a duplicate too,
    naming the drop-in and the entry point.
    """
    source = 'from snomprov.testing import FakeVendor\nsnom = FakeVendor("snom", ouis=("ACAC02",))\n'
    sitePath("fake-snom", {"snom": "fake_snom_ep:snom"}, {"fake_snom_ep": source})
    with pytest.raises(VendorRegistryError) as e:
        discoverVendors()
    assert "snomprov.plugins.snomprov_builtin.snomVendor" in str(e.value)
    assert "entry point snom = fake_snom_ep:snom of fake-snom 0.1" in str(e.value)


def test_sameObjectTwiceCountsOnce(tmp_path, sitePath, extraPluginPath):
    """
    A vendor that is both a drop-in and an entry point (one object) is
    not a duplicate.
    """
    extraPluginPath(_pluginDir(tmp_path, {"acme_both": "from acme_both_ep import acme\n"}))
    sitePath("acme-both", {"acme": "acme_both_ep:acme"}, {"acme_both_ep": _THIRD_PARTY})
    assert discoverVendors().names.count("acme") == 1


def test_entryPointDuplicateStopsCheck(tmp_path):
    """
    C{snomprov check} with two installed distributions claiming one name
    exits 2 with one line naming both.
    """
    import subprocess

    from daemon import ROOT

    site = tmp_path / "site"
    fakeDistribution(site, "acme-one", {"acme": "acme_one_ep:acme"}, {"acme_one_ep": _THIRD_PARTY})
    fakeDistribution(site, "acme-two", {"acme": "acme_two_ep:acme"}, {"acme_two_ep": _THIRD_PARTY})
    (tmp_path / "empty.toml").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "snomprov", "--config", str(tmp_path / "empty.toml"), "check"],
        capture_output=True, text=True, cwd=str(tmp_path), timeout=60,
        env={"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    [line] = [l for l in result.stderr.splitlines() if "two vendors" in l]
    assert "entry point acme = acme_one_ep:acme of acme-one 0.1" in line
    assert "entry point acme = acme_two_ep:acme of acme-two 0.1" in line


_HALF = """
    from zope.interface import implementer
    from snomprov.plugin import IUAProfileVendor
    @implementer(IUAProfileVendor)
    class Half:
        name = "half"
        ouis = frozenset()
        optionTypes = {}
    half = Half()
"""


def test_brokenPluginsSkippedByTheDaemon(tmp_path, monkeypatch):
    """
    The real daemon with an installed distribution that fails to import,
    one that fails C{verifyObject}, and a broken drop-in: it starts, logs
    each with its entry point or module name, and still answers a snom
    phone's SUBSCRIBE with the snom URL.
    """
    import socket

    from daemon import Daemon

    site = tmp_path / "site"
    fakeDistribution(site, "broken-phones", {"broken": "broken_daemon_ep:vendor"},
                     {"broken_daemon_ep": "raise ImportError('broken on purpose')\n"})
    fakeDistribution(site, "half-phones", {"half": "half_daemon_ep:half"}, {"half_daemon_ep": _HALF})
    dropins = _pluginDir(tmp_path / "dropins", {"broken_dropin": "raise RuntimeError('dropin on purpose')\n"})
    monkeypatch.setenv("PYTHONPATH", f"{site}:{dropins}")
    (tmp_path / "daemon").mkdir()
    running = Daemon(tmp_path / "daemon", tftp=False)
    with running:
        with open(os.path.join(os.path.dirname(__file__), "fixtures", "sip", "snom-OEM-7.1.19-1.sip"), "rb") as f:
            subscribe = f.read()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(10)
            sock.sendto(subscribe, ("127.0.0.1", running.sipPort))
            bodies = [sock.recvfrom(65535)[0] for _ in range(2)]
        log = running.log()
    assert bodies[0].startswith(b"SIP/2.0 200 OK\r\n")
    assert bodies[1].startswith(b"NOTIFY ") and f"\r\n\r\n{running.baseURL}/snom/00135E874B49.xml?token=t".encode() in bodies[1]
    skipped = [l.partition("] ")[2] for l in log.splitlines() if "Vendor plugin" in l]
    assert len(skipped) == 3, skipped
    assert skipped[0] == ("Vendor plugin module snomprov.plugins.broken_dropin skipped: it failed to import "
                          "(traceback above)")
    assert skipped[1] == ("Vendor plugin entry point broken = broken_daemon_ep:vendor of broken-phones 0.1 "
                          "skipped: it failed to load")
    assert skipped[2].startswith("Vendor plugin entry point half = half_daemon_ep:half of half-phones 0.1 "
                                 "skipped: The object")
    assert "broken on purpose" in log and "dropin on purpose" in log


def test_entryPointDuplicateStopsTwistd(tmp_path):
    """
    Two installed distributions claiming one name stop C{twistd snomprov}:
    exit 2, one line naming both entry points.
    """
    import subprocess

    from daemon import ROOT, twistdCommand

    site = tmp_path / "site"
    fakeDistribution(site, "acme-one", {"acme": "acme_one_ep:acme"}, {"acme_one_ep": _THIRD_PARTY})
    fakeDistribution(site, "acme-two", {"acme": "acme_two_ep:acme"}, {"acme_two_ep": _THIRD_PARTY})
    result = subprocess.run(
        [*twistdCommand(), "-n", "--pidfile=", "snomprov", "--data-dir", str(tmp_path / "var")],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2, result.stderr
    [line] = [l for l in result.stderr.splitlines() if "two vendors" in l]
    assert line == ("vendors: two vendors are called 'acme': entry point acme = acme_one_ep:acme of acme-one 0.1 "
                    "and entry point acme = acme_two_ep:acme of acme-two 0.1; remove one of them")
@pytest.mark.parametrize("interface", ["ISubscribeReadingVendor", "ISIPPortsVendor", "IOptionsVendor",
                                       "IFileListingVendor", "ISettingsVendor"])
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
