"""
Tests for L{snomprov.web.provisioning} and L{snomprov.web.root}: the
phone-facing resource over a memory store, the real snom vendor and a
L{Provisioner}, driven through C{StubTreq} (no sockets); and the client
certificate helpers of L{snomprov.web.tls}.
"""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from OpenSSL.crypto import X509
from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.web.server import Site
from zope.interface import implementer
from twisted.internet.interfaces import ISSLTransport

from snomprov.config import parseConfig
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.provisioning import Fetch, Provisioner
from snomprov.recorder import Recorder
from snomprov.registry import VendorRegistry
from snomprov.store.memory import MemoryDeviceStore
from snomprov.vendors.snom import snomVendor
from snomprov.web.provisioning import ProvisioningResource
from snomprov.web.root import SiteRoot
from snomprov.web.tls import clientMACOf, requestClientMAC

from pki import makeCA, makeClient, makeClientWithDNSName

BASE = "http://192.0.2.10:8080"
MAC_A, MAC_B = "000413AA0001", "000413BB0002"
UA = "Mozilla/4.0 (compatible; snom360-SIP 7.3.14 1.1.3-s)"


def uaWithMAC(mac: str) -> str:
    """
    A snom 10.x User-Agent that carries the phone's MAC.
    """
    return f"Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 {mac} SXM:0 UXM:0)"


def lineOf(mac: str, index: int = 1) -> Line:
    """
    A line whose every field is derived from the MAC, so that a leak shows.
    """
    return Line(index, f"u{mac}x{index}", f"pw{mac}x{index}", f"Name {mac} {index}", f"reg{mac}.example")


class Phones:
    """
    A resource tree over a memory store, a real recorder, a clock and an
    in-memory HTTP client.
    """

    def __init__(self, extraConfig: str = "", devices: dict[str, tuple[Line, ...]] | None = None) -> None:
        # Every client is inside [http] allowed_networks (the network
        # proof): these tests are of the resource, tests/test_secrets_walk.py
        # of the proofs.
        http = "" if "[http]" in extraConfig else '[http]\nallowed_networks = ["0.0.0.0/0", "::/0"]\n'
        self.config = parseConfig(
            f'[server]\nbase_url = "{BASE}"\n' + http + extraConfig, "t.toml", baseDir=tempfile.gettempdir()
        )
        self.store = MemoryDeviceStore()
        self.clock = Clock()
        self.recorder = Recorder(lambda: _fired(self.store), self.clock)
        self.provisioner = Provisioner(
            VendorRegistry([snomVendor]), lambda: _fired(self.store), self.config, self.recorder, self.clock
        )
        for mac, lines in (devices or {}).items():
            self.register(mac, *lines)
        self.treq = StubTreq(SiteRoot(ProvisioningResource(self.provisioner)))

    def register(self, mac: str, *lines: Line) -> None:
        self.store.applyImport([DeviceInfo(mac=mac, vendor="snom", state="registered")], {mac: tuple(lines)})

    def request(self, method: str, path: str, userAgent: str | None = UA, headers: dict | None = None):
        """
        @return: C{(response, body)}.
        """
        allHeaders = dict(headers or {})
        if userAgent:
            allHeaders["User-Agent"] = userAgent
        responses = []
        d = self.treq.request(method, "http://192.0.2.10:8080" + path, headers=allHeaders)
        d.addCallback(lambda r: self.treq.content(r).addCallback(lambda body: responses.append((r, body))))
        self.treq.flush()
        assert responses, f"no response to {method} {path}"
        return responses[0]

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def settled(self):
        """
        Flush the recorder and return the store's C{(devices, events)}.
        """
        self.recorder.flush()
        found = []
        self.store.listDevices().addCallback(found.append)
        self.store.listEvents(limit=1000).addCallback(found.append)
        return found[0], found[1]


def _fired(value):
    from twisted.internet import defer

    return defer.succeed(value)


def header(response, name: str) -> str | None:
    values = response.headers.getRawHeaders(name)
    return values[0] if values else None


def settingsOf(body: bytes) -> dict[tuple[str, str | None], str]:
    """
    The C{<phone-settings>} of a C{<settings>} document as
    C{(name, idx) -> value}.
    """
    root = etree.fromstring(body)
    assert root.tag == "settings"
    return {(e.tag, e.get("idx")): e.text or "" for e in root.find("phone-settings")}


def test_containerAndSettings():
    """
    The container and the settings are served 200 as C{application/xml};
    the container lists the settings URL, and the settings carry the line.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    response, body = phones.get(f"/snom/{MAC_A}.xml")
    assert response.code == 200 and header(response, "Content-Type") == "application/xml"
    container = etree.fromstring(body)
    assert container.tag == "setting-files"
    credential = phones.provisioner.proofs.credential(MAC_A, None)
    assert [f.get("url") for f in container.findall("file")] == [f"{BASE}/snom/{MAC_A}-settings.xml?token={credential}"]

    response, body = phones.get(f"/snom/{MAC_A}-settings.xml")
    assert response.code == 200 and header(response, "Content-Type") == "application/xml"
    assert settingsOf(body)[("user_name", "1")] == f"u{MAC_A}x1"
    assert header(response, "Cache-Control") == "private, no-cache"


def test_headHasHeadersAndNoBody():
    """
    HEAD answers the headers a GET would (type, length, ETag) and no body.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    got, body = phones.get(f"/snom/{MAC_A}-settings.xml")
    head, headBody = phones.request("HEAD", f"/snom/{MAC_A}-settings.xml")
    assert head.code == 200 and headBody == b""
    assert header(head, "Content-Type") == "application/xml"
    assert header(head, "Content-Length") == str(len(body))
    assert header(head, "ETag") == header(got, "ETag") is not None


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_otherMethodsNotAllowed(method):
    """
    Anything but GET and HEAD is 405 with an C{Allow} header naming them.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    response, _ = phones.request(method, f"/snom/{MAC_A}-settings.xml")
    assert response.code == 405
    allowed = {m.strip() for m in header(response, "Allow").split(",")}
    assert allowed == {"GET", "HEAD"}
    assert header(response, "Content-Type").startswith("text/plain")


@pytest.mark.parametrize(
    "path",
    [
        "//",
        "/snom",
        "/snom/",
        "/snom//",
        "/nothing.cfg",
        "/snom/nothing",
        f"/snom/../snom/{MAC_A}.xml",
        f"/snom/./{MAC_A}.xml",
        "/snom/%2e%2e/%2e%2e/etc/passwd",
        "/snom/..%2f..%2fetc%2fpasswd",
        f"/snom/{MAC_A}%00.xml",
        f"/snom/{MAC_A}.xml/",
        f"/snom//{MAC_A}.xml",
        "/linksys/",
        "/api/",
    ],
)
def test_notFoundNeverAListing(path):
    """
    Unknown names, dot segments, empty and directory-like paths are 404
    with a short text body: never a listing, never another file.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    response, body = phones.get(path)
    assert response.code == 404
    assert b"href" not in body.lower() and b"index of" not in body.lower() and MAC_A.encode() not in body


def test_rootSaysWhatThisIs():
    """
    C{GET /} is a short plain-text page naming snomprov and where operators
    go, with nothing about any phone; C{//name} is still 404.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    response, body = phones.get("/")
    assert response.code == 200
    assert header(response, "Content-Type").startswith("text/plain")
    assert body.startswith(b"snomprov ") and b"snomprov --help" in body
    assert MAC_A.encode() not in body and b"secret" not in body
    missing, _ = phones.get("//snom")
    assert missing.code == 404


def test_etagAndConditionalGet():
    """
    Every file has an C{ETag}; a GET with a matching C{If-None-Match} is
    304 with no body, a stale one gets the file again.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    response, body = phones.get(f"/snom/{MAC_A}-settings.xml")
    etag = header(response, "ETag")
    assert etag and etag.startswith('"')
    cached, cachedBody = phones.get(f"/snom/{MAC_A}-settings.xml", headers={"If-None-Match": etag})
    assert cached.code == 304 and cachedBody == b""
    stale, staleBody = phones.get(f"/snom/{MAC_A}-settings.xml", headers={"If-None-Match": '"other"'})
    assert stale.code == 200 and staleBody == body


_macs = st.integers(min_value=0, max_value=0xFFFFFF).map(lambda n: f"000413{n:06X}")


@settings(max_examples=25, deadline=None)
@given(st.lists(_macs, min_size=2, max_size=5, unique=True), st.booleans())
def test_neverAnotherDevicesLines(macs, withMACInUserAgent):
    """
    With several devices registered, each MAC's settings (path and
    C{?mac=} forms, with or without the MAC in the User-Agent) hold its own
    lines and nothing of any other device's.
    """
    phones = Phones(devices={mac: (lineOf(mac, 1), lineOf(mac, 2)) for mac in macs})
    for mac in macs:
        userAgent = uaWithMAC(mac) if withMACInUserAgent else UA
        for path in (f"/snom/{mac}-settings.xml", f"/snom/settings.xml?mac={mac}", f"/snom360-{mac}.htm"):
            response, body = phones.get(path, userAgent=userAgent)
            assert response.code == 200, path
            values = settingsOf(body)
            assert values[("user_name", "1")] == f"u{mac}x1" and values[("user_name", "2")] == f"u{mac}x2"
            for other in macs:
                if other != mac:
                    assert other.encode() not in body


def test_userAgentOfAnotherPhoneIsRefused():
    """
    A User-Agent carrying MAC B asking for MAC A's settings gets 404.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),), MAC_B: (lineOf(MAC_B),)})
    response, body = phones.get(f"/snom/{MAC_A}-settings.xml", userAgent=uaWithMAC(MAC_B))
    assert response.code == 404 and MAC_A.encode() not in body


def test_unknownDeviceRejected():
    """
    With C{unknown_devices = "reject"} an unregistered MAC gets 404 and a
    C{rejected} event is recorded for it.
    """
    phones = Phones('[provisioning]\nunknown_devices = "reject"\n', devices={MAC_A: (lineOf(MAC_A),)})
    response, _ = phones.get(f"/snom/{MAC_B}-settings.xml")
    assert response.code == 404
    assert phones.get(f"/snom/{MAC_A}-settings.xml")[0].code == 200
    devices, events = phones.settled()
    assert [(e.mac, e.kind) for e in events if e.kind == "rejected"] == [(MAC_B, "rejected")]
    assert MAC_B not in {d.mac for d in devices}


def test_unknownDeviceGetsDefaults():
    """
    With C{unknown_devices = "defaults"} an unregistered phone gets the
    site defaults (a site layer, no account) and is recorded as fetched.
    """
    phones = Phones()
    phones.store.putLayer(SettingsLayer("site", (Setting("language", "Deutsch", perm="R"),)))
    response, body = phones.get(f"/snom/{MAC_B}-settings.xml")
    assert response.code == 200
    values = settingsOf(body)
    assert values[("language", None)] == "Deutsch"
    assert not any(name.startswith("user_") for name, _ in values)
    devices, events = phones.settled()
    assert [(d.mac, d.state, d.model) for d in devices] == [(MAC_B, "fetched", "snom360")]
    assert [e.kind for e in events] == ["config-fetched"]


def test_cacheDroppedWhenSettingsChange():
    """
    A repeated fetch is answered from the cache; once lines or a layer
    change (the settings version moves) the changed content is served.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    path = f"/snom/{MAC_A}-settings.xml"
    first = phones.get(path)[1]
    assert phones.get(path)[1] == first and phones.provisioner.hits == 1

    phones.store.setLines(MAC_A, (Line(1, "newuser", "pw", "New Name", "pbx.example"),))
    phones.clock.advance(phones.provisioner.versionTTL)
    values = settingsOf(phones.get(path)[1])
    assert values[("user_name", "1")] == "newuser" and values[("user_realname", "1")] == "New Name"

    phones.store.putLayer(SettingsLayer(f"device:{MAC_A}", (Setting("language", "Francais"),)))
    phones.clock.advance(phones.provisioner.versionTTL)
    assert settingsOf(phones.get(path)[1])[("language", None)] == "Francais"


# -- client certificates --------------------------------------------------


def fetchAs(phones: Phones, name: str, clientMAC: str | None):
    """
    Ask the provisioner directly for C{name} as a client whose verified
    certificate names C{clientMAC}.
    """
    results = []
    fetch = Fetch(name=name, clientIP="127.0.0.1", transport="http", userAgent=UA, clientMAC=clientMAC)
    phones.provisioner.fetch(fetch).addCallback(results.append)
    return results[0]


def test_clientCertificateMustNameTheFile():
    """
    A client certificate for MAC A gets A's files; one for MAC B is refused
    A's files with a C{rejected} event; model-wide files need no MAC.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),), MAC_B: (lineOf(MAC_B),)})
    assert fetchAs(phones, f"snom/{MAC_A}-settings.xml", MAC_A) is not None
    assert fetchAs(phones, f"snom/{MAC_A}.xml", MAC_B) is None
    assert fetchAs(phones, f"snom/{MAC_A}-settings.xml", MAC_B) is None
    assert fetchAs(phones, "snom360.htm", MAC_B) is not None
    _, events = phones.settled()
    rejected = [e for e in events if e.kind == "rejected"]
    assert len(rejected) == 2 and {e.mac for e in rejected} == {MAC_A}
    assert all(f"certificate is for {MAC_B}" in e.detail for e in rejected)


def test_clientCARequiresACertificate(tmp_path):
    """
    With C{[http] client_ca} set, a per-device file asked without a client
    certificate (plain HTTP, TFTP) is refused; a model-wide one is not.
    """
    (tmp_path / "ca.pem").write_bytes(makeCA().certPEM)
    phones = Phones(f'[http]\nclient_ca = "{tmp_path / "ca.pem"}"\n', devices={MAC_A: (lineOf(MAC_A),)})
    assert phones.get(f"/snom/{MAC_A}-settings.xml")[0].code == 404
    assert phones.get("/snom360.htm")[0].code == 200
    assert fetchAs(phones, f"snom/{MAC_A}-settings.xml", MAC_A) is not None
    _, events = phones.settled()
    assert [(e.mac, e.kind) for e in events if e.kind == "rejected"] == [(MAC_A, "rejected")]


@pytest.mark.parametrize(
    "subject,expected",
    [
        ({"cn": "000413922D24"}, "000413922D24"),
        ({"cn": "00:04:13:92:2d:24"}, "000413922D24"),
        ({"cn": "snomD785-000413922d24"}, "000413922D24"),
        ({"cn": "phone", "serial": "000413922D24"}, "000413922D24"),
        ({"cn": "just a name"}, None),
    ],
)
def test_clientMACOf(subject, expected):
    """
    The MAC of a client certificate comes from the subject's common name,
    else its serial number, as a bare MAC or a 12-hex-digit token.
    """
    assert clientMACOf(makeClient(makeCA(), **subject).certificate) == expected


def test_clientMACFromSubjectAltName():
    """
    A certificate naming the MAC only as a C{subjectAltName} DNS name is
    read too.
    """
    assert clientMACOf(makeClientWithDNSName(makeCA(), "000413922d24.phones.example").certificate) == "000413922D24"


@implementer(ISSLTransport)
class _TLSTransport:
    """
    Just enough of a TLS transport: the peer certificate, counted.
    """

    def __init__(self, certificate) -> None:
        self.certificate = certificate
        self.asked = 0

    def getPeerCertificate(self):
        self.asked += 1
        return self.certificate


class _Request:
    def __init__(self, transport) -> None:
        self.transport = transport


def test_requestClientMAC():
    """
    The MAC is read from a TLS connection's peer certificate once per
    connection; plain transports and TLS without a certificate give
    C{None}.
    """
    transport = _TLSTransport(X509.from_cryptography(makeClient(makeCA(), cn=MAC_A).certificate))
    assert requestClientMAC(_Request(transport)) == MAC_A
    assert requestClientMAC(_Request(transport)) == MAC_A
    assert transport.asked == 1
    assert requestClientMAC(_Request(_TLSTransport(None))) is None
    assert requestClientMAC(_Request(object())) is None


def test_hotPathLeavesTheStoreAlone():
    """
    Within the version TTL a cached file is answered without asking the
    store anything (not even its change feed); after it, the feed is read
    again.
    """
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    asked = []
    original = phones.store.changesAfter
    phones.store.changesAfter = lambda seq: asked.append(1) or original(seq)
    path = f"/snom/{MAC_A}-settings.xml"
    bodies = {phones.get(path)[1] for _ in range(3)}
    assert len(bodies) == 1 and len(asked) == 1 and phones.provisioner.hits == 2
    phones.clock.advance(phones.provisioner.versionTTL)
    assert phones.get(path)[1] in bodies and len(asked) == 2


def test_percentDecodedOnce():
    """
    A percent-encoded name is decoded once: C{%2541} is the literal name
    C{%41}, not C{A}; C{%2e%2e} is a dot segment and refused.
    """
    phones = Phones(devices={MAC_A: (Line(1, "100", "pw", "Alice", "pbx.example.com"),)})
    assert phones.get(f"/snom/{MAC_A}-settings.xml")[0].code == 200
    assert phones.get(f"/snom/%30{MAC_A[1:]}-settings.xml")[0].code == 200
    assert phones.get(f"/snom/%2530{MAC_A[1:]}-settings.xml")[0].code == 404
    assert phones.get("/snom/%2e%2e/etc/passwd")[0].code == 404
