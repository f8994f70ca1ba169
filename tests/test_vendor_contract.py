"""
Tests for L{snomprov.vendorcontract} (L{snomprov.testing.checkVendorContract}):
the built-in vendors pass it, and vendors that return garbage fail it, each
with a L{VendorContractError} naming what is wrong, under C{python -O} too.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from zope.interface import implementer

from snomprov.device import FileRequest, ProfileRequest, RenderedFile, Setting, SettingsLayer, UserAgentInfo
from snomprov.interfaces import IOptionsVendor, ISettingsVendor, ISIPPortsVendor, ISubscribeReadingVendor
from snomprov.testing import FakeVendor, VendorContractError, VendorSamples, checkVendorContract
from snomprov.vendors.generic import GenericUAProfileVendor
from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor

from daemon import ROOT

SNOM_UA = "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 000413922D24)"


def test_snomPasses():
    """
    The built-in snom vendor passes, with its models and User-Agents.
    """
    checkVendorContract(snomVendor)
    checkVendorContract(snomVendor, VendorSamples(
        models=(None, "snomD785", "snom360"), userAgents=(SNOM_UA, "snom360/7.3.14"),
        profileRequests=(ProfileRequest(mac="000413922D24", vendor="OEM", model="OEM"),),
    ))


def test_linksysPasses():
    """
    The built-in Linksys vendor passes, with its models and User-Agents.
    """
    checkVendorContract(linksysVendor)
    checkVendorContract(linksysVendor, VendorSamples(
        models=(None, "SPA942", "SPA504G"),
        userAgents=("Linksys/SPA-942-6.1.5(a) (88019FA42805)", "Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)"),
    ))


def test_fakeAndGenericPass():
    """
    The public fake vendor and a generic (configured) vendor pass.
    """
    checkVendorContract(FakeVendor())
    checkVendorContract(GenericUAProfileVendor("acme", "{base_url}/acme/{mac}.cfg", ["ACACAC"]))


class Garbage(FakeVendor):
    """
    A vendor whose behaviour each test spoils in one way.
    """

    def __init__(self):
        super().__init__("garbage", ouis=("ACACAC",))


def refused(vendor, samples=None) -> str:
    with pytest.raises(VendorContractError) as e:
        checkVendorContract(vendor, samples)
    assert str(e.value).lower().startswith("vendor 'garbage'")
    return str(e.value)


def test_notAVendor():
    """
    An object providing nothing fails.
    """
    with pytest.raises(VendorContractError, match="does not provide IVendor"):
        checkVendorContract(object())


def test_failsVerifyObject():
    """
    A vendor missing a method it declares fails with C{verifyObject}'s reason.
    """
    vendor = Garbage()
    vendor.renderFile = None
    assert "verifyObject(IFileVendor)" in refused(vendor)


@pytest.mark.parametrize("attribute,value,message", [
    ("name", "Garbage", "name 'Garbage'"),
    ("ouis", frozenset({"acacac"}), "OUI 'acacac'"),
    ("ouis", ["ACACAC"], "not a frozenset"),
    ("optionTypes", {"url": str}, "names url"),
    ("optionTypes", {"x": "str"}, "is not a name and a type"),
    ("resyncEvent", "resync\r\nX: y", "one-line"),
    ("defaultURLTemplate", "garbage/{mac}", "neither"),
    ("defaultURLTemplate", "{base_url}/{secret}", "unknown variable {secret}"),
])
def test_badDeclarations(attribute, value, message):
    """
    Names, OUIs, option types, the resync event and the URL template are
    checked.
    """
    vendor = Garbage()
    setattr(vendor, attribute, value)
    assert message in refused(vendor)


def test_claimsEveryUserAgent():
    """
    A vendor reading curl's User-Agent as one of its phones fails.
    """
    vendor = Garbage()
    vendor.parseUserAgent = lambda userAgent: UserAgentInfo(vendor="garbage")
    assert "claims a phone that is not its own" in refused(vendor)


def test_ownUserAgentNotRead():
    """
    A sample User-Agent of the vendor's phones must be read as its own.
    """
    assert "not its own UserAgentInfo" in refused(Garbage(), VendorSamples(userAgents=("Other/X-1",)))


def test_matchesEverything():
    """
    A vendor claiming every Event fails, and so does one answering a
    non-bool.
    """
    vendor = Garbage()
    vendor.matchesProfileEvent = lambda vendor, model: True
    assert "no-such-vendor-anywhere" in refused(vendor)
    vendor.matchesProfileEvent = lambda vendor, model: "yes"
    assert "not a bool" in refused(vendor)


@pytest.mark.parametrize("url,message", [
    ("http://admin:secret@192.0.2.10/x", "user name or password"),
    ("http://192.0.2.10/x?password=1", "query parameter 'password'"),
    ("http://192.0.2.10/x/Contract-S3cret-1", "carrying a line's password"),
    ("/relative/x", "not an absolute URL"),
    ("http://192.0.2.10/a b", "white space"),
    (b"http://192.0.2.10/", "not an absolute URL"),
])
def test_badProfileURL(url, message):
    """
    A PnP URL must be absolute, one word, and carry no secret.
    """
    vendor = Garbage()
    vendor.provisioningURL = lambda request, given: url
    assert message in refused(vendor)


def test_provisioningURLGetsTheServersExpansion():
    """
    C{provisioningURL} is handed the template with the server's variables
    expanded (C{{mac}} left for the phone when there is none), as the
    controller hands it; the sample C{url} option is checked too.
    """
    vendor = Garbage()
    seen = []
    vendor.provisioningURL = lambda request, url: seen.append((request.mac, url)) or url
    checkVendorContract(vendor, VendorSamples(macs=("ACACAC000001",),
                                              options={"url": "{base_url}/{vendor}/{model}/{mac}"}))
    assert seen == [
        ("ACACAC000001", "http://192.0.2.10:8080/garbage/ACACAC000001.cfg"),
        (None, "http://192.0.2.10:8080/garbage/{mac}.cfg"),
        ("ACACAC000001", "http://192.0.2.10:8080/garbage/{model}/ACACAC000001"),
        (None, "http://192.0.2.10:8080/garbage/{model}/{mac}"),
    ]
    assert "the sample url option 'garbage/{mac}'" in refused(Garbage(), VendorSamples(options={"url": "garbage/{mac}"}))


def test_oldProvisioningURLRefused():
    """
    The three-argument C{provisioningURL(request, template, baseURL)} of
    before fails C{verifyObject}, and so does a vendor without
    C{phoneURLVariables}.
    """
    vendor = Garbage()
    vendor.provisioningURL = lambda request, template, baseURL: "http://192.0.2.10/x"
    message = refused(vendor)
    assert "verifyObject(IUAProfileVendor)" in message and "provisioningURL" in message

    class Without(Garbage):
        @property
        def phoneURLVariables(self):
            raise AttributeError("phoneURLVariables")

    message = refused(Without())
    assert "verifyObject(IUAProfileVendor)" in message and "phoneURLVariables" in message


@pytest.mark.parametrize("value,message", [
    (["phone_type"], "not a frozenset"),
    (frozenset({"Phone_Type"}), "not a lower-case variable name"),
    (frozenset({"mac"}), "which the server expands"),
])
def test_badPhoneURLVariables(value, message):
    """
    C{phoneURLVariables} is a set of lower-case names the server does not
    expand; a template may use them.
    """
    vendor = Garbage()
    vendor.phoneURLVariables = value
    assert message in refused(vendor)
    vendor = Garbage()
    vendor.phoneURLVariables = frozenset({"phone_type"})
    vendor.defaultURLTemplate = "{base_url}/garbage/{phone_type}/{mac}.cfg"
    checkVendorContract(vendor)


@implementer(ISubscribeReadingVendor, ISIPPortsVendor, IOptionsVendor)
class Reader(Garbage):
    """
    A garbage vendor with every new capability, behaving well until a
    test spoils it.
    """

    sipPorts = frozenset({5059})
    defaultOptions = {"greeting": "hello"}

    def claimSubscribe(self, request, subscribe):
        return request if (request.vendor or "").lower() == self.name else None

    def checkOptions(self, options):
        return [] if options.get("greeting") else ["greeting: must not be empty"]


def test_newCapabilitiesPass():
    """
    A vendor reading SUBSCRIBEs, asking for SIP ports and checking options
    passes when it behaves, with sample options it accepts.
    """
    checkVendorContract(Reader())
    checkVendorContract(Reader(), VendorSamples(options={"greeting": "hi"}))


def test_claimSubscribeChecked():
    """
    A reader claiming another vendor's SUBSCRIBE, or raising, fails; one
    missing C{claimSubscribe} fails C{verifyObject}.
    """
    vendor = Reader()
    vendor.claimSubscribe = lambda request, subscribe: request
    assert "claims a SUBSCRIBE of vendor 'no-such-vendor-anywhere'" in refused(vendor)
    vendor.claimSubscribe = lambda request, subscribe: subscribe.header("nope").lower()
    assert "claimSubscribe raised AttributeError" in refused(vendor)
    vendor.claimSubscribe = None
    assert "verifyObject(ISubscribeReadingVendor)" in refused(vendor)


@pytest.mark.parametrize("ports,message", [
    ([5059], "not a frozenset"),
    (frozenset({0}), "not a UDP port number"),
    (frozenset({70000}), "not a UDP port number"),
    (frozenset({"5059"}), "not a UDP port number"),
])
def test_badSIPPorts(ports, message):
    """
    C{sipPorts} is a C{frozenset} of port numbers.
    """
    vendor = Reader()
    vendor.sipPorts = ports
    assert message in refused(vendor)


def test_badOptions():
    """
    C{defaultOptions} is a mapping C{checkOptions} accepts, as it does the
    sample options; C{checkOptions} answers a list of sentences.
    """
    vendor = Reader()
    vendor.defaultOptions = [("greeting", "hello")]
    assert "defaultOptions is a list" in refused(vendor)
    vendor = Reader()
    vendor.defaultOptions = {"greeting": ""}
    assert "checkOptions refuses its defaultOptions: greeting: must not be empty" in refused(vendor)
    assert "checkOptions refuses the sample options" in refused(Reader(), VendorSamples(options={"greeting": ""}))
    vendor = Reader()
    vendor.checkOptions = lambda options: "fine"
    assert "not a list of sentences" in refused(vendor)


def test_notPickedForItsRequest():
    """
    A sample request the vendor's phones send must pick the vendor.
    """
    samples = VendorSamples(profileRequests=(ProfileRequest(mac=None, vendor="Other"),))
    assert "is not the vendor picked" in refused(Garbage(), samples)


def test_fileNameDoesNotResolveBack():
    """
    A device file name the vendor does not recognise fails.
    """
    vendor = Garbage()
    vendor.deviceFileName = lambda mac: f"garbage/{mac}.xml"
    assert "does not resolve it" in refused(vendor)


def test_fileNameResolvesToAnotherMAC():
    """
    A name that resolves to another device fails; so does one name for
    every device.
    """
    vendor = Garbage()
    original = vendor.resolveFile
    vendor.resolveFile = lambda name, ua: (replace(original(name, ua), mac="ACACAC000000")
                                           if original(name, ua) else None)
    assert "resolves to MAC 'ACACAC000000'" in refused(vendor)
    vendor = Garbage()
    vendor.deviceFileName = lambda mac: "garbage/ACACAC000000.cfg"
    assert "one name to different MACs" in refused(vendor, VendorSamples(macs=("ACACAC000001", "ACACAC000002")))


def test_hostileNameResolved():
    """
    A vendor that claims C{../../etc/passwd} fails.
    """
    vendor = Garbage()
    original = vendor.resolveFile
    vendor.resolveFile = lambda name, ua: (FileRequest("garbage", "x", name) if "passwd" in name
                                           else original(name, ua))
    assert "hostile name" in refused(vendor)


@pytest.mark.parametrize("rendered,message", [
    ("text", "not a RenderedFile"),
    (None, "does not render the main file"),
    (RenderedFile("text", "text/plain"), "not bytes"),
    (RenderedFile(b"", "text/plain"), "empty"),
    (RenderedFile(b"x", "plain"), "content type"),
    (RenderedFile(b"contract-user-1 contract-user-2 Contract-S3cret-1", "text/plain"), "not marked sensitive"),
    (RenderedFile(b"hello", "text/plain"), "carries line 1's user"),
])
def test_badRender(rendered, message):
    """
    A render must give a L{RenderedFile} of bytes, carrying the lines,
    sensitive when it holds a password.
    """
    vendor = Garbage()
    vendor.renderFile = lambda request, context: rendered
    assert message in refused(vendor)


def test_badDHCPRule():
    """
    A DHCP rule must be a L{DHCPRule} of option numbers to text.
    """
    vendor = Garbage()
    vendor.dhcpRule = lambda tftpServer, baseURL: {66: tftpServer}
    assert "not a DHCPRule" in refused(vendor)
    good = FakeVendor().dhcpRule("x", "y")
    vendor.dhcpRule = lambda tftpServer, baseURL: replace(good, options={300: "x"})
    assert "not a DHCP option number" in refused(vendor)


def test_keptUnderOptimisation():
    """
    Under C{python -O}, which strips C{assert}, a garbage vendor still
    fails.
    """
    code = (
        "from snomprov.testing import FakeVendor, checkVendorContract, VendorContractError\n"
        "v = FakeVendor('garbage')\n"
        "v.provisioningURL = lambda r, u: 'http://a:b@h/'\n"
        "assert False, 'asserts are on'\n"
        "try:\n    checkVendorContract(v)\nexcept VendorContractError as e:\n    print('refused', e)\n"
    )
    result = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused vendor 'garbage'")


class FileError(ValueError):
    def __init__(self, line, reason):
        super().__init__(line, reason)
        self.line = line
        self.reason = reason


@implementer(ISettingsVendor)
class Settings(Garbage):
    """
    A garbage vendor reading settings files, behaving well until a test
    spoils it: it refuses everything but C{ok}.
    """

    settingPerms = frozenset({"ro", "rw"})
    documentNames = frozenset({"keys"})

    def parseSettings(self, data, scope):
        if data != b"ok":
            raise FileError(1 if data else None, "not a garbage settings file")
        return SettingsLayer(scope, (Setting("a", "1", None, "ro"),), {"keys": b"x"})


def test_settingsVendorPasses():
    """
    A vendor reading settings files passes when its perms and documents are
    frozensets of names and it refuses garbage with a line and a reason.
    """
    checkVendorContract(Settings())


@pytest.mark.parametrize("attribute,value,message", [
    ("settingPerms", {"ro"}, "settingPerms is a set, not a frozenset"),
    ("settingPerms", frozenset({1}), "settingPerms holds 1, not a string"),
    ("settingPerms", frozenset({"readwrite"}), "longer than 8 characters"),
    ("documentNames", frozenset({"a/b"}), "not a name"),
    ("documentNames", frozenset({""}), "not a name"),
    ("parseSettings", lambda data, scope: {}[data], "parseSettings raised KeyError"),
    ("parseSettings", lambda data, scope: int("x"), "with a ValueError that has no line and reason"),
    ("parseSettings", lambda data, scope: (_ for _ in ()).throw(FileError(1, " ")), "with reason ' ', not text"),
    ("parseSettings", lambda data, scope: SettingsLayer("device:000413000001"), "not a SettingsLayer of site"),
    ("parseSettings", lambda data, scope: SettingsLayer(scope, (Setting("a", "1", None, "na"),)),
     "read perm 'na'"),
    ("parseSettings", lambda data, scope: SettingsLayer(scope, (), {"tbook": b""}), "read documents ['tbook']"),
])
def test_badSettingsVendor(attribute, value, message):
    """
    Each way a settings vendor can break L{ISettingsVendor}'s promises
    fails, saying which.
    """
    vendor = Settings()
    setattr(vendor, attribute, value)
    assert message in refused(vendor)


def test_badRefusalLine():
    """
    A refusal whose C{line} is not an C{int} or C{None} fails.
    """
    vendor = Settings()

    def parse(data, scope):
        raise FileError("one", "bad")

    vendor.parseSettings = parse
    assert "with line 'one', not an int or None" in refused(vendor)
