"""
Tests for L{snomprov.operations.layers}: layers in both forms, plans with
diffs that change nothing, uploads and deletions audited in the same
transaction, against each store backend.
"""

from __future__ import annotations

import tempfile

import pytest
import pytest_twisted
from twisted.internet import defer
from zope.interface import implementer
from zope.interface.verify import verifyObject

from snomprov.audit import CLI, Audit, parseAudit
from snomprov.config import parseConfig
from snomprov.device import DeviceInfo, Line, Setting, SettingsLayer
from snomprov.interfaces import ISettingsVendor
from snomprov.operations import layers
from snomprov.operations.errors import Forbidden, NotFound, Refused
from snomprov.registry import VendorRegistry
from snomprov.vendors.linksys import linksysVendor
from snomprov.vendors.snom import snomVendor

from test_store import snapshot, store  # noqa: F401

REGISTRY = VendorRegistry([snomVendor, linksysVendor])
CONFIG = parseConfig('[server]\nbase_url = "http://prov.example"\n', "t.toml", baseDir=tempfile.gettempdir())

SITE_XML = (b'<settings>\n<phone-settings>\n<language perm="RW">Deutsch</language>\n'
            b'<tone_scheme>GER</tone_scheme>\n</phone-settings>\n</settings>\n')


def run(coroutine):
    return defer.ensureDeferred(coroutine)


def mac(n: int) -> str:
    return f"000413{n:06X}"


@defer.inlineCallbacks
def register(store, count: int, model=lambda n: "snomD785"):
    devices = [DeviceInfo(mac(n), vendor="snom", model=model(n), state="registered") for n in range(count)]
    lines = {mac(n): (Line(1, f"u{n}", f"secret-{n}", f"User {n}", "pbx.example"),) for n in range(count)}
    yield store.applyImport(devices, lines)


def test_layerFromXMLRefusedWithLine():
    with pytest.raises(Refused) as caught:
        layers.parseLayer(REGISTRY, "site", b'<settings>\n<phone-settings>\n<language perm="Q">x</language>\n'
                                  b'</phone-settings>\n</settings>\n', "application/xml")
    assert [(p.line, p.field) for p in caught.value.problems] == [(3, None)]
    assert "line 3" in str(caught.value)


def test_layerFromJSONRoundTrip():
    layer = layers.parseLayer(REGISTRY, "model:snomD785", {
        "settings": [{"name": "language", "value": "Deutsch", "perm": "RW"},
                     {"name": "fkey", "idx": 3, "value": "line"}],
        "documents": {"dialplan": '<dialplan><template match="1" transform="x"/></dialplan>'},
    }, "application/json")
    assert layer.settings == (Setting("language", "Deutsch", None, "RW"), Setting("fkey", "line", 3, None))
    assert set(layer.documents) == {"dialplan"}
    again = layers.layerToJSON(layer)
    assert again["scope"] == "model:snomD785"
    assert layers.layerFromJSON(REGISTRY, "model:snomD785", {k: again[k] for k in ("settings", "documents")}) == layer


def test_layerFromJSONEveryProblemWithItsField():
    with pytest.raises(Refused) as caught:
        layers.parseLayer(REGISTRY, "site", b'{"settings": [{"name": "", "value": 1}, {"name": "a b", "value": "x",'
                                  b' "idx": -1, "perm": "Q", "colour": 1}, {"name": "ok", "value": "\\u0001"},'
                                  b' {"name": "x", "value": "1"}, {"name": "x", "value": "2"}],'
                                  b' "documents": {"tbook": "<dialplan/>", "nope": "x"}, "more": 1}',
                          "application/json; charset=utf-8")
    fields = {p.field for p in caught.value.problems}
    assert fields == {"/settings/0/name", "/settings/0/value", "/settings/1/name", "/settings/1/idx",
                      "/settings/1/perm", "/settings/1/colour", "/settings/2/value", "/settings/4",
                      "/documents/tbook", "/documents/nope", "/more"}


@pytest.mark.parametrize("scope,kind,message", [
    ("planet:x", "application/json", "bad scope"),
    ("model:a b", "application/json", "no spaces"),
    ("site", "text/plain", "not text/plain"),
    ("site", "application/json", "not valid JSON"),
])
def test_parseLayerRefusals(scope, kind, message):
    with pytest.raises(Refused, match=message):
        layers.parseLayer(REGISTRY, scope, b"{nope", kind)


@pytest_twisted.inlineCallbacks
def test_planOverAThousandDevicesChangesNothing(store):
    """
    A site-layer change over 1,000 devices: the devices of a model whose
    layer sets the same setting are not listed; the count and a diff are
    exact; passwords are masked; the store is unchanged.
    """
    yield register(store, 1000, model=lambda n: "snomD785" if n % 4 else "snomD717")
    yield store.putLayer(SettingsLayer("site", (Setting("language", "English"),)))
    yield store.putLayer(SettingsLayer("model:snomD717", (Setting("language", "Francais"),)))
    before = yield snapshot(store)
    pauses = []

    async def pause():
        pauses.append(True)

    new = layers.parseLayer(REGISTRY, "site", b'<phone-settings><language perm="RW">Deutsch</language></phone-settings>',
                            "application/xml")
    plan = yield run(layers.planLayer(store, REGISTRY, CONFIG, "site", new, pause=pause))
    assert (plan.count, plan.considered) == (750, 1000)
    assert len(pauses) == 4
    assert all(int(m[6:], 16) % 4 for m in plan.macs)
    first = plan.devices[0]
    assert first.mac == mac(1)
    names = [f.name for f in first.files]
    assert names == [f"snom/{mac(1)}-settings.xml", f"snomD785-{mac(1)}.htm"]
    diff = first.files[0].diff
    assert diff.startswith(f"--- a/snom/{mac(1)}-settings.xml\n+++ b/snom/{mac(1)}-settings.xml\n")
    assert "\n-<language>English</language>\n" in diff
    assert '\n+<language perm="RW">Deutsch</language>\n' in diff
    assert [l for l in diff.splitlines()[2:] if l[:1] in "+-"] == [
        "-<language>English</language>", '+<language perm="RW">Deutsch</language>']
    assert "secret-" not in "".join(f.diff for d in plan.devices for f in d.files)
    assert (yield snapshot(store)) == before


@pytest_twisted.inlineCallbacks
def test_planRevealsPasswordsToAnAdmin(store):
    """
    A device-layer change touching the password's line shows the password
    only when revealed.
    """
    yield register(store, 1)
    new = SettingsLayer(f"device:{mac(0)}", (Setting("user_pass", "ignored", 1, "R"),))
    masked = yield run(layers.planLayer(store, REGISTRY, CONFIG, f"device:{mac(0)}", new))
    shown = yield run(layers.planLayer(store, REGISTRY, CONFIG, f"device:{mac(0)}", new, reveal=True))
    maskedDiff = masked.devices[0].files[0].diff
    assert '+<user_pass idx="1" perm="R">***</user_pass>' in maskedDiff and "secret-0" not in maskedDiff
    assert '+<user_pass idx="1" perm="R">secret-0</user_pass>' in shown.devices[0].files[0].diff
    assert masked.count == shown.count == 1


@pytest_twisted.inlineCallbacks
def test_planScopes(store):
    """
    A model layer covers that model's devices, a vendor layer that
    vendor's, a device layer its device; deleting plans the way back.
    """
    yield register(store, 3, model=lambda n: "snomD785" if n else "snomD717")
    yield store.applyImport([DeviceInfo("000E08AABBCC", vendor="linksys", model="SPA942", state="registered")],
                            {"000E08AABBCC": (Line(1, "200", "pw", "Spa", "pbx.example"),)})
    setting = (Setting("language", "Deutsch"),)
    model = yield run(layers.planLayer(store, REGISTRY, CONFIG, "model:snomD785",
                                       SettingsLayer("model:snomD785", setting)))
    assert (model.macs, model.considered) == ((mac(1), mac(2)), 2)
    vendor = yield run(layers.planLayer(store, REGISTRY, CONFIG, "vendor:linksys",
                                        SettingsLayer("vendor:linksys", (Setting("Dial_Plan", "x", 1),))))
    assert vendor.macs == ("000E08AABBCC",)
    assert [f.name for f in vendor.devices[0].files] == ["spa000e08aabbcc.cfg", "spa942.cfg"][:1]
    device = yield run(layers.planLayer(store, REGISTRY, CONFIG, f"device:{mac(0)}",
                                        SettingsLayer(f"device:{mac(0)}", setting)))
    assert device.macs == (mac(0),)
    assert (yield run(layers.planLayer(store, REGISTRY, CONFIG, "site", None))).count == 0
    with pytest.raises(Refused, match="not site"):
        yield run(layers.planLayer(store, REGISTRY, CONFIG, "site", SettingsLayer("model:x")))


@pytest_twisted.inlineCallbacks
def test_putAndDeleteAudited(store):
    """
    An upload stores the layer and answers the devices it changed; an
    identical upload changes none; a deletion too; each audited.
    """
    yield register(store, 2)
    layer, plan = yield run(layers.putLayer(store, REGISTRY, CLI, 5.0, "site", SITE_XML, "application/xml",
                                            config=CONFIG))
    assert plan.macs == (mac(0), mac(1))
    assert (yield store.getLayer("site")) == layer
    assert (yield run(layers.getLayer(store, "site"))) == layer
    assert [l.scope for l in (yield run(layers.listLayers(store)))] == ["site"]
    _, again = yield run(layers.putLayer(store, REGISTRY, CLI, 6.0, "site", SITE_XML, "text/xml", config=CONFIG))
    assert again.count == 0
    deleted = yield run(layers.deleteLayer(store, REGISTRY, "operator:otto", 7.0, "site", config=CONFIG))
    assert deleted.count == 2 and (yield store.getLayer("site")) is None
    with pytest.raises(NotFound):
        yield run(layers.deleteLayer(store, REGISTRY, CLI, 8.0, "site", config=CONFIG))
    with pytest.raises(NotFound):
        yield run(layers.getLayer(store, "site"))
    events = yield store.listEvents(limit=10)
    assert [parseAudit(e) for e in reversed(events)] == [
        Audit("cli", "layer:site", "uploaded 2 settings; files of 2 devices change"),
        Audit("cli", "layer:site", "uploaded 2 settings; files of 0 devices change"),
        Audit("operator:otto", "layer:site", "deleted (2 settings); files of 2 devices change"),
    ]
    assert [e.time for e in events] == [7.0, 6.0, 5.0]


@pytest_twisted.inlineCallbacks
def test_refusedUploadChangesNothing(store):
    yield register(store, 1)
    before = yield snapshot(store)
    with pytest.raises(Refused):
        yield run(layers.putLayer(store, REGISTRY, CLI, 5.0, "site", b"<settings>", "application/xml",
                                  config=CONFIG))
    assert (yield snapshot(store)) == before


@pytest_twisted.inlineCallbacks
def test_storeWritesWithTheirEventsOrNothing(store):
    """
    The store's putLayer, deleteLayer and applyImport write their events in
    the same transaction: a bad event refuses the whole write.
    """
    from snomprov.device import Event
    from snomprov.store import StoreError

    bad = [Event(1.0, "not-a-mac", "audit", "x")]
    layer = SettingsLayer("site", (Setting("language", "Deutsch"),))
    with pytest.raises(StoreError):
        yield store.putLayer(layer, events=bad)
    assert (yield store.getLayer("site")) is None
    good = [Event(2.0, None, "audit", "cli layer:site: uploaded")]
    yield store.putLayer(layer, events=good)
    with pytest.raises(StoreError):
        yield store.deleteLayer("site", events=bad)
    assert (yield store.getLayer("site")) == layer
    with pytest.raises(StoreError):
        yield store.applyImport([DeviceInfo(mac(1), vendor="snom", state="registered")], {}, events=bad)
    assert (yield store.listDevices()) == []
    assert (yield store.deleteLayer("site", events=[Event(3.0, None, "audit", "cli layer:site: deleted")])) is True
    assert [e.detail for e in (yield store.listEvents())] == ["cli layer:site: deleted", "cli layer:site: uploaded"]


@pytest_twisted.inlineCallbacks
def test_uploadMovesOnlyThePlannedDevices(store):
    """
    An upload gives the new settings version to exactly the devices whose
    files its plan says change: a device whose model layer overrides the
    setting keeps its current version.
    """
    yield register(store, 4, model=lambda n: "snomD717" if n == 0 else "snomD785")
    yield store.putLayer(SettingsLayer("model:snomD717", (Setting("language", "Francais"),)))
    before = yield store.deviceVersions([mac(n) for n in range(4)])
    _, plan = yield run(layers.putLayer(store, REGISTRY, CLI, 5.0, "site",
                                        b"<phone-settings><language>Deutsch</language></phone-settings>",
                                        "application/xml", config=CONFIG))
    assert plan.macs == (mac(1), mac(2), mac(3))
    after = yield store.deviceVersions([mac(n) for n in range(4)])
    assert after[mac(0)][0] == before[mac(0)][0]
    assert all(after[mac(n)][0] > before[mac(n)][0] for n in (1, 2, 3))


@pytest_twisted.inlineCallbacks
def test_applyingAPlanMakesExactlyItsDevicesStale(store):
    """
    1,000 phones have fetched their settings; the plan of a site-layer change
    names 750 of them (the others' model layer overrides the setting);
    applying it makes exactly those 750 stale, and the rest stay current.
    """
    yield register(store, 1000, model=lambda n: "snomD785" if n % 4 else "snomD717")
    yield store.putLayer(SettingsLayer("model:snomD717", (Setting("language", "Francais"),)))
    macs = [mac(n) for n in range(1000)]
    versions = yield store.deviceVersions(macs)
    yield store.markFetched([(m, current) for m, (current, _) in versions.items()])
    assert (yield store.countStale()) == 0
    xml = b"<phone-settings><language>Deutsch</language></phone-settings>"
    plan = yield run(layers.planLayer(store, REGISTRY, CONFIG, "site",
                                      layers.parseLayer(REGISTRY, "site", xml, "application/xml")))
    assert plan.count == 750
    _, applied = yield run(layers.putLayer(store, REGISTRY, CLI, 5.0, "site", xml, "application/xml",
                                           config=CONFIG))
    assert applied.macs == plan.macs
    stale = yield store.pageStale(limit=1000)
    assert [m for m, _, _ in stale] == sorted(plan.macs)
    assert (yield store.countStale()) == 750


# -- the vendors' knowledge: perm values, documents, settings files ----------


class AcmeFileError(ValueError):
    """
    The fake vendor's refusal, with C{line} and C{reason} as
    L{ISettingsVendor.parseSettings} promises.
    """

    def __init__(self, line, reason):
        super().__init__(line, reason)
        self.line = line
        self.reason = reason

    def __str__(self):
        return f"line {self.line}: {self.reason}" if self.line is not None else self.reason


@implementer(ISettingsVendor)
class AcmeVendor:
    """
    A vendor with a settings file of its own: C{#acme} then
    C{name[/perm]=value} lines, and a C{@keys=...} line as its one document.
    """

    name = "acme"
    ouis = frozenset({"ACAC00"})
    optionTypes: dict = {}
    settingPerms = frozenset({"ro", "rw"})
    documentNames = frozenset({"keys"})

    def matchesProfileEvent(self, vendor, model):
        return False

    def parseUserAgent(self, userAgent):
        return None

    def parseSettings(self, data, scope):
        lines = data.decode("utf-8").split("\n")
        if lines[0] != "#acme":
            raise AcmeFileError(1, "not an acme file")
        settings, documents = [], {}
        for number, text in enumerate(lines[1:], 2):
            if not text:
                continue
            key, sep, value = text.partition("=")
            if not sep:
                raise AcmeFileError(number, "no =")
            if key == "@keys":
                documents["keys"] = value.encode("utf-8")
                continue
            name, _, perm = key.partition("/")
            if perm and perm not in self.settingPerms:
                raise AcmeFileError(number, f"perm {perm!r}")
            settings.append(Setting(name, value, None, perm or None))
        return SettingsLayer(scope, tuple(settings), documents)


WITHOUT_SNOM = VendorRegistry([linksysVendor])
WITH_ACME = VendorRegistry([snomVendor, linksysVendor, AcmeVendor()])


def test_layerModulesImportNoVendor():
    """
    The generic layer code imports nothing from L{snomprov.vendors}, not
    even through the modules it imports: what a perm or a document means is
    the vendors' knowledge, reached through the registry.
    """
    from test_imports import importGraph

    graph = importGraph()
    assert not {m for m in graph["snomprov.commands.settings"] if m.startswith("snomprov.vendors")}
    for start in ("snomprov.operations.layers", "snomprov.web.api.layers"):
        assert not {m for m in graph[start] if m.startswith("snomprov.vendors")}, start
        reached, todo = set(), [start]
        while todo:
            for module in graph[todo.pop()]:
                if module not in reached:
                    reached.add(module)
                    todo.append(module)
        assert "snomprov.device" in reached
        assert not {m for m in reached if m == "snomprov.vendors" or m.startswith("snomprov.vendors.")}, start


def test_snomProvidesISettingsVendor():
    """
    The snom vendor provides L{ISettingsVendor} with snom's perm flags and
    documents; the registry's unions are its own when it is the only one.
    """
    assert verifyObject(ISettingsVendor, snomVendor)
    assert snomVendor.settingPerms == frozenset({"", " ", "R", "RW", "!", "&", "$", "V"})
    assert snomVendor.documentNames == frozenset({"functionKeys", "tbook", "dialplan"})
    assert not ISettingsVendor.providedBy(linksysVendor)
    assert layers.settingsVendors(REGISTRY) == [snomVendor]
    assert layers.settingPerms(REGISTRY) == snomVendor.settingPerms
    assert layers.documentNames(REGISTRY) == snomVendor.documentNames
    assert layers.settingsVendors(WITHOUT_SNOM) == []
    assert layers.settingPerms(WITHOUT_SNOM) == frozenset()
    assert layers.settingPerms(WITH_ACME) == snomVendor.settingPerms | {"ro", "rw"}
    assert layers.documentNames(WITH_ACME) == {"functionKeys", "tbook", "dialplan", "keys"}


@pytest.mark.parametrize("kind", ["application/xml", "text/xml"])
def test_registryWithoutSnomRefusesAnXMLLayer(kind):
    """
    Without a vendor reading settings files, an XML upload is refused with a
    sentence saying so and pointing at the JSON form.
    """
    with pytest.raises(Refused) as caught:
        layers.parseLayer(WITHOUT_SNOM, "site", SITE_XML, kind)
    assert str(caught.value) == ("no installed vendor reads settings files; send the layer as "
                                 "application/json")
    assert [p.message for p in caught.value.problems] == ["no vendor reads settings files"]


def test_registryWithoutSnomRefusesSnomPermsAndDocuments():
    """
    Without snom, snom's perm flags and documents are not allowed in the
    JSON form (each named with its field); a layer without them is.
    """
    with pytest.raises(Refused) as caught:
        layers.parseLayer(WITHOUT_SNOM, "site", {
            "settings": [{"name": "language", "value": "Deutsch", "perm": "RW"},
                         {"name": "Proxy_1_", "value": "pbx"}],
            "documents": {"dialplan": "<dialplan/>"}}, "application/json")
    problems = {p.field: p.message for p in caught.value.problems}
    assert problems == {"/settings/0/perm": "must be null: no installed vendor defines perm values",
                        "/documents/dialplan": "is not allowed: no installed vendor defines documents"}
    layer = layers.parseLayer(WITHOUT_SNOM, "site", {"settings": [{"name": "Proxy_1_", "value": "pbx"}]},
                              "application/json")
    assert layer == SettingsLayer("site", (Setting("Proxy_1_", "pbx"),))


def test_permAndDocumentsCheckedAgainstEveryVendor():
    """
    With two settings vendors, the perm values and documents of either are
    allowed; one neither defines is refused, the message listing the union.
    """
    layer = layers.parseLayer(WITH_ACME, "site", {
        "settings": [{"name": "a", "value": "1", "perm": "ro"}, {"name": "b", "value": "2", "perm": "RW"}],
        "documents": {"keys": "#acme\n@keys=1,2", "tbook": "<tbook/>"}}, "application/json")
    assert layer.settings == (Setting("a", "1", None, "ro"), Setting("b", "2", None, "RW"))
    assert dict(layer.documents) == {"keys": b"1,2", "tbook": b"<tbook/>"}
    with pytest.raises(Refused) as caught:
        layers.parseLayer(WITH_ACME, "site", {"settings": [{"name": "a", "value": "1", "perm": "na"}],
                                              "documents": {"keys": "<tbook/>", "nope": "x"}},
                          "application/json")
    problems = {p.field: p.message for p in caught.value.problems}
    assert problems["/settings/0/perm"] == ("must be one of '', ' ', '!', '$', '&', 'R', 'RW', 'V', 'ro', "
                                            "'rw', or null")
    assert problems["/documents/keys"] == "not a <keys> section: line 1: not an acme file"
    assert problems["/documents/nope"] == "is not one of dialplan, functionKeys, keys, tbook"
    with pytest.raises(Refused) as caught:
        layers.parseLayer(REGISTRY, "site", {"settings": [{"name": "a", "value": "1", "perm": "ro"}]},
                          "application/json")
    assert [p.field for p in caught.value.problems] == ["/settings/0/perm"]


def test_xmlLayerReadByTheFirstVendorAcceptingIt():
    """
    A settings file goes to the settings vendors in registry order: snom's
    XML to snom, the other's file to it; a file every one refuses is
    refused with each one's line and reason.
    """
    assert layers.parseLayer(WITH_ACME, "site", SITE_XML, "application/xml").settings == (
        Setting("language", "Deutsch", None, "RW"), Setting("tone_scheme", "GER"))
    acme = layers.parseLayer(WITH_ACME, "site", b"#acme\nlanguage/rw=de\n@keys=x", "application/xml")
    assert acme == SettingsLayer("site", (Setting("language", "de", None, "rw"),), {"keys": b"x"})
    with pytest.raises(Refused) as caught:
        layers.parseLayer(WITH_ACME, "site", b"<settings>\n<nope/>\n</settings>", "application/xml")
    assert str(caught.value).startswith("the settings file is refused by every vendor: snom: line 2: section "
                                        "<nope> is not supported")
    assert str(caught.value).endswith("; acme: line 1: not an acme file")
    assert [(p.message.partition(":")[0], p.line) for p in caught.value.problems] == [("snom", 2), ("acme", 1)]


def test_aVendorReadingWhatItDoesNotDefineIsRefused():
    """
    A vendor whose parser returns a perm it does not define does not get
    its layer stored: the reading is refused.
    """
    class Sloppy(AcmeVendor):
        def parseSettings(self, data, scope):
            return SettingsLayer(scope, (Setting("a", "1", None, "zz"),))

    with pytest.raises(Refused, match="does not define"):
        layers.parseLayer(VendorRegistry([Sloppy()]), "site", b"#acme\na=1", "text/xml")


@pytest_twisted.inlineCallbacks
def test_putLayerWithoutSnomChangesNothing(store):
    """
    Against each store: an XML upload with no settings vendor is refused
    and the store is unchanged; the JSON form without snom's notions is
    stored.
    """
    yield register(store, 2)
    before = yield snapshot(store)
    with pytest.raises(Refused, match="no installed vendor reads settings files"):
        yield run(layers.putLayer(store, WITHOUT_SNOM, CLI, 5.0, "site", SITE_XML, "application/xml",
                                  config=CONFIG))
    assert (yield snapshot(store)) == before
    stored, _ = yield run(layers.putLayer(store, WITHOUT_SNOM, CLI, 6.0, "site",
                                          b'{"settings": [{"name": "Proxy_1_", "value": "pbx"}]}',
                                          "application/json", config=CONFIG))
    assert (yield store.getLayer("site")) == stored == SettingsLayer("site", (Setting("Proxy_1_", "pbx"),))


def test_jsonSecretMarkReadWrittenAndMasked():
    """
    The JSON form reads an operator's C{"secret"} mark (a boolean, else a
    problem at its field) and writes it; every secret's value, marked or
    declared by an installed vendor (snom's C{http_pass}), is C{***}
    unless revealed.
    """
    layer = layers.parseLayer(REGISTRY, "site", {"settings": [
        {"name": "ntp_server", "value": "10.0.0.1", "secret": True},
        {"name": "http_pass", "value": "pw", "secret": False},
        {"name": "language", "value": "Deutsch"}]}, "application/json")
    assert [s.secret for s in layer.settings] == [True, False, False]
    shown = layers.layerToJSON(layer, REGISTRY.vendors)
    assert [(s["value"], s["secret"]) for s in shown["settings"]] == [
        ("***", True), ("***", False), ("Deutsch", False)]
    revealed = layers.layerToJSON(layer, REGISTRY.vendors, reveal=True)
    assert [s["value"] for s in revealed["settings"]] == ["10.0.0.1", "pw", "Deutsch"]
    assert layers.layerFromJSON(REGISTRY, "site", {"settings": revealed["settings"]}) == layer
    assert [s["value"] for s in layers.layerToJSON(layer)["settings"]] == ["***", "pw", "Deutsch"]
    with pytest.raises(Refused) as caught:
        layers.parseLayer(REGISTRY, "site", {"settings": [{"name": "a", "value": "1", "secret": "yes"},
                                                          {"name": "b", "value": "1", "secret": None}]},
                          "application/json")
    assert [p.field for p in caught.value.problems] == ["/settings/0/secret", "/settings/1/secret"]


def _json(*settings) -> dict:
    return {"settings": [dict(s) for s in settings]}


@pytest_twisted.inlineCallbacks
def test_reuploadKeepsMarksAndSecretValues(store):
    """
    Replacing a layer keeps a marked setting marked unless the upload says
    C{"secret": false} (a settings file cannot say: it keeps marks); a
    value of C{***} for a secret of the stored layer keeps the stored
    value, so a masked layer sent back changes nothing.
    """
    yield register(store, 1)
    stored = SettingsLayer("site", (Setting("ntp_server", "10.0.0.1", secret=True), Setting("http_pass", "pw"),
                                    Setting("language", "English")))
    yield store.putLayer(stored)
    masked = layers.layerToJSON(stored, REGISTRY.vendors)
    again, plan = yield run(layers.putLayer(store, REGISTRY, CLI, 5.0, "site",
                                            {"settings": masked["settings"]}, "application/json", config=CONFIG))
    assert (again, plan.count) == (stored, 0)
    assert (yield store.getLayer("site")) == stored
    unmarked = {"name": "ntp_server", "value": "***", "secret": False}
    new, _ = yield run(layers.putLayer(store, REGISTRY, CLI, 6.0, "site",
                                       _json({"name": "ntp_server", "value": "10.0.0.2"},
                                             {"name": "language", "value": "***"}), "application/json",
                                       config=CONFIG))
    assert new.settings == (Setting("ntp_server", "10.0.0.2", secret=True), Setting("language", "***"))
    xml = b"<phone-settings><ntp_server>10.0.0.3</ntp_server></phone-settings>"
    new, _ = yield run(layers.putLayer(store, REGISTRY, CLI, 7.0, "site", xml, "application/xml", config=CONFIG))
    assert new.settings == (Setting("ntp_server", "10.0.0.3", secret=True),)
    before = yield snapshot(store)
    with pytest.raises(Forbidden, match="admin"):
        yield run(layers.putLayer(store, REGISTRY, "operator:otto", 8.0, "site", _json(unmarked),
                                  "application/json", config=CONFIG, mayUnmark=False))
    assert (yield snapshot(store)) == before
    new, _ = yield run(layers.putLayer(store, REGISTRY, CLI, 9.0, "site", _json(unmarked), "application/json",
                                       config=CONFIG))
    assert new.settings == (Setting("ntp_server", "10.0.0.3"),)
    assert (yield store.getLayer("site")) == new


@pytest_twisted.inlineCallbacks
def test_markSecretAudited(store):
    """
    Marking and unmarking one setting stores the layer with the mark, an
    audit event naming the setting (never its value) in the same
    transaction; an unknown layer or setting is not found; only who may
    unmark clears a mark.
    """
    yield register(store, 1)
    yield store.putLayer(SettingsLayer("site", (Setting("fkey", "line", 3), Setting("ntp_server", "10.9.8.7"))))
    marked = yield run(layers.markSecret(store, REGISTRY, CLI, 5.0, "site", "ntp_server", None, True,
                                         config=CONFIG))
    assert marked.settings == (Setting("fkey", "line", 3), Setting("ntp_server", "10.9.8.7", secret=True))
    assert (yield store.getLayer("site")) == marked
    yield run(layers.markSecret(store, REGISTRY, "operator:otto", 6.0, "site", "fkey", 3, True, config=CONFIG))
    with pytest.raises(Forbidden, match="admin"):
        yield run(layers.markSecret(store, REGISTRY, "operator:otto", 7.0, "site", "fkey", 3, False,
                                    config=CONFIG, mayUnmark=False))
    unmarked = yield run(layers.markSecret(store, REGISTRY, "admin:ada", 8.0, "site", "fkey", 3, False,
                                           config=CONFIG))
    assert unmarked.settings == (Setting("fkey", "line", 3), Setting("ntp_server", "10.9.8.7", secret=True))
    assert (yield store.getLayer("site")) == unmarked
    with pytest.raises(NotFound, match=r"no setting fkey\[4\] in the layer site"):
        yield run(layers.markSecret(store, REGISTRY, CLI, 9.0, "site", "fkey", 4, True, config=CONFIG))
    with pytest.raises(NotFound, match="no layer model:snomD785"):
        yield run(layers.markSecret(store, REGISTRY, CLI, 9.0, "model:snomD785", "fkey", 3, True, config=CONFIG))
    events = yield store.listEvents(limit=10)
    audits = [parseAudit(e) for e in reversed(events)]
    assert [(a.actor, a.object, a.summary.split(";")[0]) for a in audits] == [
        ("cli", "layer:site", "marked ntp_server secret"),
        ("operator:otto", "layer:site", "marked fkey[3] secret"),
        ("admin:ada", "layer:site", "unmarked fkey[3] secret"),
    ]
    assert not any("10.9.8.7" in e.detail or "line" in a.summary for e, a in zip(reversed(events), audits))


@pytest_twisted.inlineCallbacks
def test_effectiveSettingsMaskSecrets(store):
    """
    A device's effective settings show a marked or declared secret as
    C{***}, flagged secret, unless revealed; without a registry only the
    marks are known.
    """
    yield register(store, 1)
    yield store.putLayer(SettingsLayer("site", (Setting("http_pass", "site-pw"), Setting("language", "English"))))
    yield store.putLayer(SettingsLayer(f"device:{mac(0)}", (Setting("ntp_server", "10.1.1.1", secret=True),)))

    def shown(found):
        return {e.setting.name: (e.setting.value, e.secret) for e in found
                if e.setting.name in ("http_pass", "language", "ntp_server")}

    masked = yield run(layers.effectiveSettings(store, mac(0), REGISTRY, CONFIG))
    assert shown(masked) == {"http_pass": ("***", True), "language": ("English", False),
                             "ntp_server": ("***", True)}
    revealed = yield run(layers.effectiveSettings(store, mac(0), REGISTRY, CONFIG, reveal=True))
    assert shown(revealed) == {"http_pass": ("site-pw", True), "language": ("English", False),
                               "ntp_server": ("10.1.1.1", True)}
    bare = yield run(layers.effectiveSettings(store, mac(0)))
    assert shown(bare) == {"http_pass": ("site-pw", False), "language": ("English", False),
                           "ntp_server": ("***", True)}


@pytest_twisted.inlineCallbacks
def test_planMasksSecretSettings(store):
    """
    A plan's diffs show a layer's declared and marked secrets as C{***}
    on both sides unless revealed; a change of a secret's value alone
    counts the same for everyone.
    """
    yield register(store, 2)
    yield store.putLayer(SettingsLayer("site", (Setting("http_pass", "old-web-pw"),
                                                Setting("ntp_server", "10.2.2.2", secret=True),
                                                Setting("language", "English"))))
    deleting = yield run(layers.planLayer(store, REGISTRY, CONFIG, "site", None))
    text = "".join(f.diff for d in deleting.devices for f in d.files)
    assert "old-web-pw" not in text and "10.2.2.2" not in text
    assert "\n-<http_pass>***</http_pass>\n" in text and "\n-<ntp_server>***</ntp_server>\n" in text
    revealed = yield run(layers.planLayer(store, REGISTRY, CONFIG, "site", None, reveal=True))
    assert "\n-<http_pass>old-web-pw</http_pass>\n" in revealed.devices[0].files[0].diff
    assert deleting.count == revealed.count == 2
    new = SettingsLayer("site", (Setting("http_pass", "new-web-pw"), Setting("ntp_server", "10.2.2.2", secret=True),
                                 Setting("language", "English")))
    masked = yield run(layers.planLayer(store, REGISTRY, CONFIG, "site", new))
    shown = yield run(layers.planLayer(store, REGISTRY, CONFIG, "site", new, reveal=True))
    assert masked.count == shown.count == 2
    assert not any(l[:1] in "+-" and "pw" in l for d in masked.devices for f in d.files
                   for l in f.diff.splitlines())
    assert "\n+<http_pass>new-web-pw</http_pass>\n" in shown.devices[0].files[0].diff
