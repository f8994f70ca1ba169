"""
The walk of issue 15 (DESIGN §5): every phone-facing name form of every
installed vendor (HTTP and TFTP, the MAC spelt every way, with and
without a query, under the vendor's subtree and at the root) asked with
every User-Agent we parse, with and without each proof, through the real
L{Provisioner} over a store: a device's secrets (its lines' passwords, the
layers' declared and marked secret settings) appear only in that device's
own file asked with a proof for that device; the device with its proof
gets them all; model-wide and unknown-device files never carry one.
"""

from __future__ import annotations

import itertools
import tempfile

import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from snomprov.config import parseConfig
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer, formatMAC
from snomprov.proofcheck import ProofChecker
from snomprov.provisioning import Fetch, Provisioner
from snomprov.recorder import Recorder
from snomprov.registry import discoverVendors
from snomprov.store.memory import MemoryDeviceStore

KEY = bytes(range(32))
PHONE, PHONE_B, OUTSIDER, INSIDE = "192.0.2.21", "192.0.2.22", "192.0.2.99", "10.20.0.7"

# name: (vendor, model, MAC); each line's password names its phone.
DEVICES = {
    "A": ("snom", "snomD785", "000413A1A1A1"),
    "B": ("snom", "snom360", "000413B2B2B2"),
    "S": ("linksys", "SPA942", "000E08C3C3C3"),
    "Y": ("yealink", "T21P", "001565D4D4D4"),
    "G": ("grandstream", "GRP2612W", "000B82E5E5E5"),
}
UNKNOWN = {"snom": "000413F6F6F6", "linksys": "000E08F6F6F6", "yealink": "001565F6F6F6",
           "grandstream": "000B82F6F6F6"}
LAYER_SECRETS = {
    # declared by snom, by linksys, marked by an operator, in the site layer
    "site": [Setting("http_pass", "siteHttpSecret91"), Setting("Admin_Passwd", "siteAdminSecret44"),
             Setting("ntp_server", "markedSiteSecret12", secret=True)],
    "model:snomD785": [Setting("admin_mode_password", "modelAdminSecret67")],
    "vendor:linksys": [Setting("User_Password", "vendorUserSecret38")],
}
DEVICE_SECRETS = {"A": "deviceHttpSecretA5", "S": "deviceAdminSecretS8"}


def _password(name: str) -> str:
    return f"linePassword{name}x7"


USER_AGENTS = [
    None,
    "curl/8.5.0",
    "Mozilla/4.0 (compatible; snom360-SIP 7.3.14 1.1.3-s)",
    "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-gd311851 000413A1A1A1 SIP/2.0)",
    "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-gd311851 000413B2B2B2 SIP/2.0)",
    "Linksys/SPA942-6.1.5a",
    "Cisco/SPA525G-7.4.7 (CBT1234567)",
    "Yealink SIP-T21P_E2 52.84.0.15 00:15:65:d4:d4:d4",
    "Grandstream GRP2612W 1.0.5.67",
]


def _spellings(mac: str) -> set[str]:
    return {mac, mac.lower(), formatMAC(mac, ":"), formatMAC(mac, "-").lower(),
            f"{mac[:4]}.{mac[4:8]}.{mac[8:]}".lower()}


def _names(registry) -> list[str]:
    """
    Every name a vendor lists for any device, with its MAC spelt every
    way, under the vendor's subtree and at the root, with the MAC in a
    query too; the model-wide names with C{?mac=}.
    """
    macs = [mac for _, _, mac in DEVICES.values()] + list(UNKNOWN.values())
    bases: set[str] = set()
    for vendor in registry.vendors:
        for (_, model, _), mac in itertools.product(DEVICES.values(), macs):
            for name in vendor.deviceFileNames(mac, model):
                for spelt in _spellings(mac):
                    for text in {name, name.replace(mac.lower(), mac)}:
                        variant = text.replace(mac, spelt).replace(mac.lower(), spelt)
                        bases.add(variant)
                        bases.add(variant.partition("/")[2] or variant)
                        bases.add(f"{vendor.name}/{variant.rpartition('/')[2]}")
    wide = ["snom360.htm", "snomD785.htm", "snom/snomD785.htm", "snom/settings.xml", "snom/firmware.xml",
            "spa942.cfg", "linksys/spa942.cfg", "spa525G.cfg", "yealink/y000000000000.cfg",
            "grandstream/cfg.xml", "snom/snomD785.xml"]
    names = set(bases) | set(wide)
    for name in wide + sorted(bases)[:40]:
        for mac in ("000413A1A1A1", "000413B2B2B2", "000E08C3C3C3"):
            names.add(f"{name}?mac={mac}")
            names.add(f"{name}?mac={mac.lower()}&x=1")
    return sorted(names)


@defer.inlineCallbacks
def _store():
    store = MemoryDeviceStore()
    devices = [DeviceInfo(mac, vendor=vendor, model=model, state="registered")
               for vendor, model, mac in DEVICES.values()]
    lines = {mac: (Line(1, f"user{name}", _password(name), f"Phone {name}", "pbx.example"),)
             for name, (_, _, mac) in DEVICES.items()}
    yield store.applyImport(devices, lines)
    for scope, settings in LAYER_SECRETS.items():
        yield store.putLayer(SettingsLayer(scope, tuple(settings) + (Setting("language", "English"),)))
    yield store.putLayer(SettingsLayer(f"device:{DEVICES['A'][2]}", (Setting("http_pass", DEVICE_SECRETS["A"]),)))
    yield store.putLayer(SettingsLayer(f"device:{DEVICES['S'][2]}", (Setting("Admin_Passwd",
                                                                             DEVICE_SECRETS["S"]),)))
    return store


def _secretsOf(name: str) -> set[str]:
    """
    The secrets that may appear only in C{name}'s own file, with its proof.
    """
    return {_password(name)} | ({DEVICE_SECRETS[name]} if name in DEVICE_SECRETS else set())


ALL_LAYER_SECRETS = {s.value for settings in LAYER_SECRETS.values() for s in settings}
ALL_SECRETS = ALL_LAYER_SECRETS | {s for name in DEVICES for s in _secretsOf(name)}
MAC_TO_NAME = {mac: name for name, (_, _, mac) in DEVICES.items()}


def _scenarios(checker):
    """
    C{(label, address, clientMAC, token, proven)}: C{proven} is the set of
    MACs the request proves, C{None} for all of them (a network).
    """
    a = DEVICES["A"][2]
    checker.acknowledged(DEVICES["B"][2], PHONE_B)  # B did PnP from PHONE_B
    return [
        ("none", OUTSIDER, None, None, set()),
        ("certificate of A", OUTSIDER, a, None, {a}),
        ("token of A", PHONE, None, checker.issue(a, PHONE), {a}),
        ("token of A from elsewhere", OUTSIDER, None, checker.issue(a, PHONE), set()),
        ("credential of A", OUTSIDER, None, checker.credential(a, None), {a}),
        ("network", INSIDE, None, None, None),
        ("pnp address of B", PHONE_B, None, None, {DEVICES["B"][2]}),
    ]


def _withToken(name: str, token: str | None) -> str:
    if token is None:
        return name
    return f"{name}{'&' if '?' in name else '?'}token={token}"


@pytest_twisted.inlineCallbacks
def test_secretsOnlyWithTheirDevicesProof():
    store = yield _store()
    registry = discoverVendors()
    assert set(registry.names) >= {"snom", "linksys", "yealink", "grandstream"}, registry.names
    config = parseConfig('[server]\nbase_url = "http://192.0.2.10:8080"\n'
                         '[http]\nallowed_networks = ["10.20.0.0/16"]\n'
                         '[tftp]\nallowed_networks = ["10.20.0.0/16"]\n'
                         '[provisioning]\ntoken_fetches = 1000000\n', "t.toml", baseDir=tempfile.gettempdir())
    clock = Clock()
    clock.advance(1_000_000)
    checker = ProofChecker(KEY, config, clock)
    provisioner = Provisioner(registry, lambda: defer.succeed(store), config,
                              Recorder(lambda: defer.succeed(store), clock), clock, proofs=checker)
    scenarios = _scenarios(checker)
    served = fullFiles = 0
    resolvedMACs = set()
    for name, userAgent, transport in itertools.product(_names(registry), USER_AGENTS, ("http", "tftp")):
        resolved = registry.resolveFile(name, registry.parseUserAgent(userAgent))
        if resolved is None:
            continue
        request = resolved[1]
        owner = MAC_TO_NAME.get(request.mac)
        resolvedMACs.add(request.mac)
        for label, address, clientMAC, token, proven in scenarios:
            if transport == "tftp" and clientMAC is not None:
                continue  # no certificates over TFTP
            rendered = yield provisioner.fetch(Fetch(_withToken(name, token), address, transport, userAgent,
                                                     clientMAC=clientMAC))
            if rendered is None or rendered.path:
                continue
            served += 1
            content = rendered.content.decode("utf-8", "replace")
            allowed: set[str] = set()
            if owner is not None and (proven is None or request.mac in proven):
                allowed = _secretsOf(owner) | ALL_LAYER_SECRETS
            leaked = {secret for secret in ALL_SECRETS - allowed if secret in content}
            assert not leaked, (name, userAgent, transport, label, leaked)
            if owner is not None and allowed and rendered.sensitive:
                # the device with its proof gets its own secrets
                assert _password(owner) in content, (name, userAgent, transport, label)
                fullFiles += 1
    # the walk reached every device, unknown devices and model-wide files
    assert {mac for _, _, mac in DEVICES.values()} <= resolvedMACs
    assert set(UNKNOWN.values()) & resolvedMACs and None in resolvedMACs
    assert served > 1000 and fullFiles > 100, (served, fullFiles)


@pytest_twisted.inlineCallbacks
def test_theDeviceWithItsProofGetsEverySecret():
    """
    A's settings file with A's token carries its password and every layer
    secret that applies to it; without a proof, none, and a C{rejected}
    event names what was missing.
    """
    store = yield _store()
    registry = discoverVendors()
    config = parseConfig('[server]\nbase_url = "http://192.0.2.10:8080"\n', "t.toml",
                         baseDir=tempfile.gettempdir())
    clock = Clock()
    recorder = Recorder(lambda: defer.succeed(store), clock)
    checker = ProofChecker(KEY, config, clock)
    provisioner = Provisioner(registry, lambda: defer.succeed(store), config, recorder, clock, proofs=checker)
    a = DEVICES["A"][2]
    name = f"snom/{a}-settings.xml"
    full = yield provisioner.fetch(Fetch(f"{name}?token={checker.issue(a, PHONE)}", PHONE, "http"))
    for secret in (_password("A"), DEVICE_SECRETS["A"], "siteAdminSecret44", "markedSiteSecret12",
                   "modelAdminSecret67"):
        assert secret.encode() in full.content
    credential = checker.credential(a, None)
    assert f"?token={credential}".encode() in full.content  # setting_server keeps the credential
    stripped = yield provisioner.fetch(Fetch(name, OUTSIDER, "http"))
    assert not {s for s in ALL_SECRETS if s.encode() in stripped.content}
    assert b"language" in stripped.content and b"userA" in stripped.content
    assert b"token=c" not in stripped.content
    yield recorder.flush()
    # the address a push goes to moved with the proven fetch only
    assert (yield store.getDevice(a)).ip == PHONE
    (event,) = [e for e in (yield store.listEvents(a)) if e.kind == "rejected"]
    assert event.detail == (f"http {name}: served without its secrets: no proof (no client certificate naming it; "
                            f"no token; no [http] allowed_networks; not from the address of its PnP)")
    assert provisioner.rejections[("no-proof", "http")] == 1
    again = yield provisioner.fetch(Fetch(f"{name}?token={credential}", OUTSIDER, "http"))
    assert _password("A").encode() in again.content
