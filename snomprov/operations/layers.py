# -*- test-case-name: tests.test_operations_layers -*-
"""
Settings layers (DESIGN §2, §7): read, upload, delete, and plan a change:
which devices' files it changes, with a unified diff per file, without
changing anything.

A layer comes as a vendor's settings file (today snom settings XML), read
by the installed vendors providing L{ISettingsVendor} (L{layerFromXML}: a
bad file is refused whole with its line), or as JSON (L{layerFromJSON})::

    {"settings": [{"name": "language", "idx": null, "value": "Deutsch",
                   "perm": "RW", "secret": false}, ...],
     "documents": {"functionKeys": "<functionKeys>...</functionKeys>"}}

C{idx} and C{perm} may be left out (C{null}); C{secret} (an operator's
mark, L{Setting.secret}) and C{documents} are optional.
What a C{perm} and a document name may be is the vendors' knowledge: a
C{perm} is one of the C{settingPerms} of a vendor providing
L{ISettingsVendor}, a document one of their C{documentNames}, its value
one section as that vendor's settings file would carry it (read by its
C{parseSettings}).  This module imports no vendor.

Secrets: the diffs a plan shows hold the devices' files, SIP passwords
included.  Unless the caller is an admin (C{reveal}), every line's password
is replaced by C{***} on both sides before the files are compared and
diffed (L{maskedLines}), so the plan's count is the same for everyone; a
changed file is then diffed with every secret setting's value C{***} too.
A layer's secret settings (marked, or declared by any installed vendor:
L{isSecretForAny}) are shown as C{***} too (L{layerToJSON},
L{effectiveSettings}) unless revealed.  Replacing a layer keeps its marks
unless the upload unmarks a setting (C{"secret": false}, an admin's
choice), and a secret's value uploaded as C{***} keeps the stored one: a
masked layer read, edited and sent back loses no password.

Rendering 100,000 devices takes seconds: a plan renders devices in chunks
of L{CHUNK} and, between chunks, awaits the caller's C{pause} (the daemon
yields to its reactor there).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, replace
from typing import Any, Awaitable, Callable

from snomprov.audit import auditEvent
from snomprov.device import (
    DeviceInfo,
    InvalidScope,
    Setting,
    SettingsLayer,
    layerScopesFor,
    parseMAC,
    parseScope,
)
from snomprov.interfaces import IFileVendor, ISettingsVendor
from snomprov.rendering import (
    MASK,
    deviceFileNames,
    maskedLines,
    refusesUnknown,
    renderDeviceFile,
    requestScopes,
)
from snomprov.secretsettings import isSecretForAny
from snomprov.urltemplate import fillTokenMark
from snomprov.xmltext import isXMLName, xmlSafe

from .errors import Forbidden, InputProblem, NotFound, Refused
from .render import builtinSettings

__all__ = [
    "EffectiveSetting",
    "effectiveSettings",
    "MAX_LAYER",
    "MAX_SETTINGS",
    "CHUNK",
    "MASK",
    "XML_TYPES",
    "JSON_TYPE",
    "checkScope",
    "settingsVendors",
    "settingPerms",
    "documentNames",
    "layerFromXML",
    "layerFromJSON",
    "parseLayer",
    "layerToJSON",
    "maskedLines",
    "maskedSetting",
    "unifiedDiff",
    "FileChange",
    "DevicePlan",
    "Plan",
    "getLayer",
    "listLayers",
    "planLayer",
    "putLayer",
    "deleteLayer",
    "markSecret",
]

MAX_LAYER = 1_048_576
"""
The largest layer accepted, in bytes of XML or JSON.
"""

MAX_SETTINGS = 20_000
"""
The most settings one JSON layer may hold.
"""

CHUNK = 200
"""
How many devices a plan renders between two pauses.
"""

XML_TYPES = ("application/xml", "text/xml")
JSON_TYPE = "application/json"


def checkScope(text: str) -> str:
    """
    A scope, normalised (L{parseScope}).

    @raise Refused: for anything but C{site}, C{vendor:V}, C{model:M},
        C{device:MAC}.
    """
    try:
        scope = parseScope(text)
    except InvalidScope as e:
        raise Refused(str(e)) from None
    if any(c.isspace() for c in scope) or len(scope) > 128:
        raise Refused(f"bad scope {text!r}: at most 128 characters, no spaces")
    return scope


def settingsVendors(registry) -> list:
    """
    The vendors of C{registry} providing L{ISettingsVendor}, in registry
    order.
    """
    return [vendor for vendor in registry.vendors if ISettingsVendor.providedBy(vendor)]


def settingPerms(registry) -> frozenset[str]:
    """
    The C{perm} values a layer may carry: those of every
    L{settingsVendors}.
    """
    return frozenset(perm for vendor in settingsVendors(registry) for perm in vendor.settingPerms)


def documentNames(registry) -> frozenset[str]:
    """
    The document names a layer may carry: those of every
    L{settingsVendors}.
    """
    return frozenset(name for vendor in settingsVendors(registry) for name in vendor.documentNames)


def _lineOf(error: ValueError) -> int | None:
    line = getattr(error, "line", None)
    return line if isinstance(line, int) and not isinstance(line, bool) else None


def _reasonOf(error: ValueError) -> str:
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, str) else str(error)


def _parseWith(vendor, data: bytes, scope: str) -> SettingsLayer:
    """
    A vendor's reading of a settings file, checked: a layer of C{scope}
    whose perms and document names are the vendor's own.

    @raise ValueError: the vendor's refusal, or a reading that breaks
        L{ISettingsVendor}'s promises.
    """
    layer = vendor.parseSettings(data, scope)
    if not isinstance(layer, SettingsLayer) or layer.scope != scope:
        raise ValueError(f"the {vendor.name} vendor read no layer of {scope}")
    for setting in layer.settings:
        if setting.perm is not None and setting.perm not in vendor.settingPerms:
            raise ValueError(f"the {vendor.name} vendor read a perm {setting.perm!r} it does not define")
    unknown = set(layer.documents) - set(vendor.documentNames)
    if unknown:
        raise ValueError(f"the {vendor.name} vendor read documents it does not name: "
                         + ", ".join(sorted(unknown)))
    return layer


def layerFromXML(registry, scope: str, data: bytes) -> SettingsLayer:
    """
    A settings file (snom settings XML, or any other format a vendor of
    C{registry} providing L{ISettingsVendor} reads) as the layer of
    C{scope}: each such vendor is asked in registry order, the first to
    accept it wins.

    @raise Refused: with the line and reason of the problem (with several
        vendors refusing, each one's); when no installed vendor reads
        settings files; for a file over L{MAX_LAYER}.
    """
    if len(data) > MAX_LAYER:
        reason = f"file is {len(data)} bytes; the limit is {MAX_LAYER} bytes"
        raise Refused(f"the settings file is refused: {reason}", [InputProblem(reason)])
    vendors = settingsVendors(registry)
    if not vendors:
        raise Refused("no installed vendor reads settings files; send the layer as "
                      f"{JSON_TYPE}", [InputProblem("no vendor reads settings files")])
    refusals: list[tuple[object, ValueError]] = []
    for vendor in vendors:
        try:
            return _parseWith(vendor, data, scope)
        except ValueError as e:
            refusals.append((vendor, e))
    if len(refusals) == 1:
        [(vendor, e)] = refusals
        raise Refused(f"the settings file is refused: {e}", [InputProblem(_reasonOf(e), line=_lineOf(e))])
    raise Refused("the settings file is refused by every vendor: "
                  + "; ".join(f"{vendor.name}: {e}" for vendor, e in refusals),
                  [InputProblem(f"{vendor.name}: {_reasonOf(e)}", line=_lineOf(e)) for vendor, e in refusals])


def _textProblem(value: object, where: str, problems: list[InputProblem], empty: bool = True) -> bool:
    if not isinstance(value, str):
        problems.append(InputProblem("must be a string", where))
        return False
    if not empty and not value:
        problems.append(InputProblem("must not be empty", where))
        return False
    if xmlSafe(value) != value:
        problems.append(InputProblem("holds a character XML cannot carry", where))
        return False
    return True


def _readSetting(item: object, where: str, problems: list[InputProblem], perms: frozenset[str]) -> Setting | None:
    if not isinstance(item, dict):
        problems.append(InputProblem("must be an object", where))
        return None
    found = len(problems)
    for key in item:
        if key not in ("name", "idx", "value", "perm", "secret"):
            problems.append(InputProblem("is not allowed here", f"{where}/{key}"))
    name, idx, value, perm = (item.get(k) for k in ("name", "idx", "value", "perm"))
    secret = item.get("secret", False)
    if not isinstance(secret, bool):
        problems.append(InputProblem("must be true or false", f"{where}/secret"))
    for key in ("name", "value"):
        if key not in item:
            problems.append(InputProblem("is required", f"{where}/{key}"))
    if "name" in item and _textProblem(name, f"{where}/name", problems, empty=False):
        if not isXMLName(name):
            problems.append(InputProblem("is not an XML element name", f"{where}/name"))
    if "value" in item:
        _textProblem(value, f"{where}/value", problems)
    if idx is not None and (isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx <= 999_999):
        problems.append(InputProblem("must be an integer from 0 to 999999, or null", f"{where}/idx"))
    if perm is not None and perm not in perms:
        if perms:
            problems.append(InputProblem("must be one of " + ", ".join(map(repr, sorted(perms))) + ", or null",
                                         f"{where}/perm"))
        else:
            problems.append(InputProblem("must be null: no installed vendor defines perm values",
                                         f"{where}/perm"))
    if len(problems) > found:
        return None
    return Setting(name, value, idx, perm, secret)


def layerFromJSON(registry, scope: str, value: Any) -> SettingsLayer:
    """
    The JSON form of a layer (see the module's docstring) as the layer of
    C{scope}.

    @param registry: the vendors, whose L{ISettingsVendor}s say which
        C{perm} values and documents are allowed (L{settingPerms},
        L{documentNames}) and read each document.
    @param value: the parsed JSON value.
    @raise Refused: listing every problem, each with its field (a JSON
        pointer).
    """
    return _readJSON(registry, scope, value)[0]


def _readJSON(registry, scope: str, value: Any) -> tuple[SettingsLayer, frozenset]:
    """
    L{layerFromJSON}, and the keys of the settings saying C{"secret"}
    (which L{putLayer} takes as said: the others keep their marks).
    """
    problems: list[InputProblem] = []
    if not isinstance(value, dict):
        raise Refused("the layer must be a JSON object", [InputProblem("must be an object", "")])
    for key in value:
        if key not in ("settings", "documents"):
            problems.append(InputProblem("is not allowed here", f"/{key}"))
    items = value.get("settings")
    settings: list[Setting] = []
    if not isinstance(items, list):
        problems.append(InputProblem("is required, a list" if items is None else "must be a list", "/settings"))
        items = []
    elif len(items) > MAX_SETTINGS:
        problems.append(InputProblem(f"must have at most {MAX_SETTINGS} items", "/settings"))
        items = []
    perms = settingPerms(registry)
    seen: dict[tuple[str, int | None], int] = {}
    said = set()
    for index, item in enumerate(items):
        setting = _readSetting(item, f"/settings/{index}", problems, perms)
        if setting is None:
            continue
        if setting.key in seen:
            problems.append(InputProblem(f"{setting.name} with idx {setting.idx} is repeated "
                                         f"(first at /settings/{seen[setting.key]})", f"/settings/{index}"))
            continue
        seen[setting.key] = index
        settings.append(setting)
        if "secret" in item:
            said.add(setting.key)
    documents: dict[str, bytes] = {}
    given = value.get("documents", {})
    if not isinstance(given, dict):
        problems.append(InputProblem("must be an object", "/documents"))
        given = {}
    names = sorted(documentNames(registry))
    for key, text in given.items():
        where = f"/documents/{key}"
        if key not in names:
            problems.append(InputProblem("is not one of " + ", ".join(names) if names
                                         else "is not allowed: no installed vendor defines documents", where))
            continue
        if not _textProblem(text, where, problems, empty=False):
            continue
        found = _readDocument(registry, scope, key, text.encode("utf-8"))
        if isinstance(found, InputProblem):
            problems.append(InputProblem(found.message, where))
            continue
        documents[key] = found
    if problems:
        raise Refused(f"the layer is refused: {len(problems)} problem{'s' if len(problems) > 1 else ''}",
                      problems)
    return SettingsLayer(scope, tuple(settings), documents), frozenset(said)


def _readDocument(registry, scope: str, key: str, data: bytes) -> bytes | InputProblem:
    """
    One document of the JSON form, read by the first vendor naming C{key}
    that accepts it as that section alone.

    @return: the document as stored, or the (first vendor's) problem.
    """
    problem = None
    for vendor in settingsVendors(registry):
        if key not in vendor.documentNames:
            continue
        if len(data) > MAX_LAYER:
            reason = f"file is {len(data)} bytes; the limit is {MAX_LAYER} bytes"
            return InputProblem(f"not a <{key}> section: {reason}")
        try:
            parsed = _parseWith(vendor, data, scope)
        except ValueError as e:
            problem = problem or InputProblem(f"not a <{key}> section: {e}")
            continue
        if set(parsed.documents) != {key} or parsed.settings:
            problem = problem or InputProblem(f"must be one <{key}> section")
            continue
        return parsed.documents[key]
    return problem or InputProblem(f"must be one <{key}> section")


def _mediaType(contentType: str | None) -> str:
    return (contentType or "").split(";", 1)[0].strip().lower()


def parseLayer(registry, scope: str, data: bytes | Any, contentType: str | None) -> SettingsLayer:
    """
    A layer in either form.

    @param registry: the vendors (see L{layerFromXML}, L{layerFromJSON}).
    @param data: the XML or JSON bytes, or (for JSON) the parsed value.
    @param contentType: C{application/xml} or C{text/xml} (a vendor's
        settings file: snom settings XML), C{application/json}.
    @raise Refused: for a bad scope, a body too large, another type, or a
        bad layer.
    """
    return _parse(registry, scope, data, contentType)[0]


def _parse(registry, scope: str, data: bytes | Any, contentType: str | None) -> tuple[SettingsLayer, frozenset]:
    """
    L{parseLayer}, and the keys of the settings whose mark the upload
    says (a JSON one's C{"secret"}; a settings file says none).
    """
    scope = checkScope(scope)
    kind = _mediaType(contentType)
    if isinstance(data, (bytes, bytearray)) and len(data) > MAX_LAYER:
        raise Refused(f"the layer is {len(data)} bytes; the limit is {MAX_LAYER} bytes")
    if kind in XML_TYPES:
        if not isinstance(data, (bytes, bytearray)):
            raise Refused("a settings XML file must be bytes")
        return layerFromXML(registry, scope, bytes(data)), frozenset()
    if kind == JSON_TYPE:
        if isinstance(data, (bytes, bytearray)):
            try:
                data = json.loads(bytes(data).decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise Refused(f"the layer is not valid JSON: {e}", [InputProblem("not valid JSON", "")]) from None
        return _readJSON(registry, scope, data)
    raise Refused(f"a layer is {', '.join(XML_TYPES)} or {JSON_TYPE}, not {kind or 'untyped'}")


def maskedSetting(vendors, setting: Setting, reveal: bool = False) -> Setting:
    """
    C{setting} as shown to whoever may not see secrets: its value L{MASK}
    when it is a secret (L{isSecretForAny} over C{vendors}), unless
    C{reveal}.
    """
    if reveal or not isSecretForAny(vendors, setting):
        return setting
    return replace(setting, value=MASK)


def layerToJSON(layer: SettingsLayer, vendors=(), reveal: bool = False) -> dict:
    """
    The JSON form of a layer (what L{layerFromJSON} reads back), each
    secret setting's value L{MASK} (L{maskedSetting}).

    @param vendors: the installed vendors, whose declared secret settings
        are masked like the marked ones.
    @param reveal: show every value (for an admin).
    """
    shown = [maskedSetting(vendors, s, reveal) for s in layer.settings]
    return {
        "scope": layer.scope,
        "settings": [{"name": s.name, "idx": s.idx, "value": s.value, "perm": s.perm, "secret": s.secret}
                     for s in shown],
        "documents": {key: body.decode("utf-8", "replace") for key, body in sorted(layer.documents.items())},
    }


@dataclass(frozen=True)
class FileChange:
    """
    One file a change alters: its name as the phone asks for it, and a
    unified diff (C{a/<name>} before, C{b/<name>} after).
    """

    name: str
    diff: str


@dataclass(frozen=True)
class DevicePlan:
    mac: str
    files: tuple[FileChange, ...]


@dataclass(frozen=True)
class Plan:
    """
    What a layer change does.

    @ivar devices: the devices whose files change, by MAC; devices whose
        files stay the same are not listed.
    @ivar count: how many devices' files change.
    @ivar considered: how many devices the scope covers.
    """

    scope: str
    devices: tuple[DevicePlan, ...]
    count: int
    considered: int

    @property
    def macs(self) -> tuple[str, ...]:
        return tuple(device.mac for device in self.devices)


async def getLayer(store, scope: str) -> SettingsLayer:
    """
    @raise NotFound: when the scope has no layer.
    """
    scope = checkScope(scope)
    layer = await store.getLayer(scope)
    if layer is None:
        raise NotFound(f"no layer {scope}")
    return layer


async def listLayers(store) -> list[SettingsLayer]:
    """
    Every layer, ordered by scope.
    """
    layers = []
    for scope in await store.listScopes():
        layer = await store.getLayer(scope)
        if layer is not None:
            layers.append(layer)
    return layers


async def _devicesIn(store, registry, scope: str) -> list[tuple[str, DeviceInfo | None]]:
    """
    The devices a scope covers, by MAC: every stored device for C{site};
    those of the vendor or model; the one device (stored or not).
    """
    kind, _, name = scope.partition(":")
    if kind == "device":
        mac = parseMAC(name)
        return [(mac, await store.getDevice(mac))]
    devices = await store.listDevices()
    if kind == "site":
        return [(d.mac, d) for d in devices]
    if kind == "vendor":
        return [(d.mac, d) for d in devices if getattr(_vendorOf(registry, d.mac, d), "name", None) == name]
    return [(d.mac, d) for d in devices if d.model == name]


def _vendorOf(registry, mac: str, device: DeviceInfo | None):
    """
    The file vendor of a device (its stored vendor, else its MAC's), or
    C{None}.
    """
    vendor = registry.byName(device.vendor if device else None) or registry.byMAC(mac)
    return vendor if vendor is not None and IFileVendor.providedBy(vendor) else None


def _text(rendered) -> str:
    if rendered is None:
        return ""
    if rendered.path:
        return f"(the file {rendered.path})\n"
    return fillTokenMark(rendered.content, MASK).decode("utf-8", "replace")


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return (a.content, a.contentType, a.path) == (b.content, b.contentType, b.path)


def unifiedDiff(name: str, before: str, after: str) -> str:
    """
    The unified diff of a file's text, C{a/<name>} to C{b/<name>}; a last
    line without a newline is marked as C{diff} marks it.
    """

    def lines(text: str) -> list[str]:
        found = text.splitlines(keepends=True)
        if found and not found[-1].endswith("\n"):
            found[-1] += "\n\\ No newline at end of file\n"
        return found

    return "".join(difflib.unified_diff(lines(before), lines(after), f"a/{name}", f"b/{name}"))


class _Layers:
    """
    The stored layers a plan reads, each read once, and each layer it
    renders with its secret settings masked, each masked once.
    """

    def __init__(self, store, vendors=()) -> None:
        self._store = store
        self._vendors = vendors
        self._read: dict[str, SettingsLayer | None] = {}
        self._masked: dict[int, tuple[SettingsLayer, SettingsLayer]] = {}

    async def get(self, scope: str) -> SettingsLayer | None:
        if scope not in self._read:
            self._read[scope] = await self._store.getLayer(scope)
        return self._read[scope]

    def masked(self, layer: SettingsLayer | None) -> SettingsLayer | None:
        """
        C{layer} with every secret setting's value L{MASK}
        (L{maskedSetting}).
        """
        if layer is None:
            return None
        known = self._masked.get(id(layer))
        if known is None or known[0] is not layer:
            shown = tuple(maskedSetting(self._vendors, s) for s in layer.settings)
            known = self._masked[id(layer)] = (layer, SettingsLayer(layer.scope, shown, layer.documents))
        return known[1]


async def _planDevice(layers: _Layers, store, config, vendor, mac: str, device: DeviceInfo | None,
                      scope: str, newLayer: SettingsLayer | None, reveal: bool) -> DevicePlan | None:
    """
    One device's files that the change alters, or C{None} for none: each
    file the scope applies to is rendered with the stored layers and with
    the scope's layer replaced.  Unless C{reveal}, a file that changes is
    diffed as rendered with the layers' secret settings masked (whether it
    changes does not depend on who asks).
    """
    lines = await store.getLines(mac)
    shown = tuple(lines) if reveal else maskedLines(lines)
    deviceScope = f"device:{mac}"
    deviceBefore = await layers.get(deviceScope)
    deviceAfter = newLayer if scope == deviceScope else deviceBefore
    changes = []
    for name in deviceFileNames(vendor, mac, device.model if device else None):
        request = vendor.resolveFile(name, None)
        if request is None:
            continue
        scopes = requestScopes(vendor, request, None, device)
        if scope not in scopes:
            continue
        before = [await layers.get(s) for s in scopes]
        after = [newLayer if s == scope else layer for s, layer in zip(scopes, before)]
        fileLines = shown if request.mac else ()
        served = [not (request.mac and refusesUnknown(config, lines, d)) for d in (deviceBefore, deviceAfter)]

        def render(mask):
            return [renderDeviceFile(vendor, request, device, fileLines,
                                     [layers.masked(l) for l in given] if mask else given, config) if use else None
                    for use, given in zip(served, (before, after))]

        old, new = render(False)
        if not _same(old, new):
            old, new = (old, new) if reveal else render(True)
            changes.append(FileChange(name, unifiedDiff(name, _text(old), _text(new))))
    return DevicePlan(mac, tuple(changes)) if changes else None


async def planLayer(store, registry, config, scope: str, newLayer: SettingsLayer | None,
                    reveal: bool = False, pause: Callable[[], Awaitable[Any]] | None = None) -> Plan:
    """
    What replacing the layer of C{scope} by C{newLayer} (C{None}: deleting
    it) would change: every covered device's files rendered with the
    stored layers and with the change, diffed.  Nothing is written.

    @param reveal: show passwords in the diffs (for an admin); otherwise
        every line's password and every secret setting's value (marked, or
        declared by an installed vendor) is L{MASK} on both sides.
    @param pause: awaited between chunks of L{CHUNK} devices (the daemon
        yields to its reactor), or C{None}.
    @raise Refused: for a bad scope, or a layer of another scope.
    """
    scope = checkScope(scope)
    if newLayer is not None and newLayer.scope != scope:
        raise Refused(f"the layer is for {newLayer.scope}, not {scope}")
    layers = _Layers(store, registry.vendors)
    covered = await _devicesIn(store, registry, scope)
    planned = []
    for position, (mac, device) in enumerate(covered):
        if position and pause is not None and position % CHUNK == 0:
            await pause()
        vendor = _vendorOf(registry, mac, device)
        if vendor is None:
            continue
        found = await _planDevice(layers, store, config, vendor, mac, device, scope, newLayer, reveal)
        if found is not None:
            planned.append(found)
    return Plan(scope, tuple(planned), len(planned), len(covered))


def _summary(layer: SettingsLayer) -> str:
    documents = f" and {', '.join(sorted(layer.documents))}" if layer.documents else ""
    return f"{len(layer.settings)} settings{documents}"


async def putLayer(store, registry, actor: str, now: float, scope: str, data, contentType: str | None, *,
                   config, reveal: bool = False, pause=None, mayUnmark: bool = True) -> tuple[SettingsLayer, Plan]:
    """
    Replace the layer of C{scope} by the uploaded one (see L{parseLayer}),
    audited (object C{layer:<scope>}) in the same transaction; the devices
    whose files the plan says change are the store's C{affected} ones (they
    become stale).

    Each setting the stored layer marks secret stays marked unless the
    upload says C{"secret": false}; a value of L{MASK} for a setting that
    is secret in the stored layer keeps the stored value (L{_kept}).

    @param mayUnmark: whether the actor may unmark a secret setting (an
        admin); C{False} refuses an upload that would.
    @return: the layer stored, and the plan of what it changed (its
        C{macs} are the devices whose files changed).
    @raise Refused: for a bad scope or layer; nothing is changed.
    @raise Forbidden: for an upload unmarking a setting without
        C{mayUnmark}.
    """
    layer, said = _parse(registry, scope, data, contentType)
    layer = _kept(registry.vendors, await store.getLayer(layer.scope), layer, said, mayUnmark)
    plan = await planLayer(store, registry, config, layer.scope, layer, reveal, pause)
    summary = f"uploaded {_summary(layer)}; files of {plan.count} devices change"
    await store.putLayer(layer, affected=plan.macs,
                         events=[auditEvent(now, actor, f"layer:{layer.scope}", summary)])
    return layer, plan


_UNMARK = "unmarking a secret setting needs the role admin"


def _kept(vendors, old: SettingsLayer | None, new: SettingsLayer, said: frozenset, mayUnmark: bool) -> SettingsLayer:
    """
    The uploaded layer C{new} with the marks and secret values of the
    stored one, C{old}, kept (see L{putLayer}).

    @param said: the keys of the settings whose mark the upload says.
    @raise Forbidden: when C{new} unmarks a setting and not C{mayUnmark}.
    """
    stored = {s.key: s for s in (old.settings if old is not None else ())}
    settings = []
    for setting in new.settings:
        before = stored.get(setting.key)
        if before is not None and before.secret and not setting.secret:
            if setting.key not in said:
                setting = replace(setting, secret=True)
            elif not mayUnmark:
                raise Forbidden(f"{_UNMARK}: {_named(*setting.key)} in {new.scope}")
        if before is not None and setting.value == MASK and isSecretForAny(vendors, before):
            setting = replace(setting, value=before.value)
        settings.append(setting)
    return SettingsLayer(new.scope, tuple(settings), new.documents)


def _named(name: str, idx: int | None) -> str:
    return name if idx is None else f"{name}[{idx}]"


async def markSecret(store, registry, actor: str, now: float, scope: str, name: str, idx: int | None,
                     secret: bool, *, config, pause=None, mayUnmark: bool = True) -> SettingsLayer:
    """
    Mark one setting of a stored layer secret, or clear its mark, audited
    (object C{layer:<scope>}, never the value) in the same transaction;
    the devices whose files the plan says change are the store's
    C{affected} ones.

    @param name: the setting's name; @param idx: its index, or C{None}.
    @param mayUnmark: whether the actor may clear a mark (an admin).
    @return: the layer stored.
    @raise NotFound: for no such layer, or no such setting in it.
    @raise Forbidden: for clearing a mark without C{mayUnmark}.
    """
    if not secret and not mayUnmark:
        raise Forbidden(_UNMARK)
    old = await getLayer(store, scope)
    if not any(s.key == (name, idx) for s in old.settings):
        raise NotFound(f"no setting {_named(name, idx)} in the layer {old.scope}")
    settings = tuple(replace(s, secret=secret) if s.key == (name, idx) else s for s in old.settings)
    layer = SettingsLayer(old.scope, settings, old.documents)
    plan = await planLayer(store, registry, config, old.scope, layer, False, pause)
    summary = (f"{'marked' if secret else 'unmarked'} {_named(name, idx)} secret; "
               f"files of {plan.count} devices change")
    await store.putLayer(layer, affected=plan.macs, events=[auditEvent(now, actor, f"layer:{old.scope}", summary)])
    return layer


async def deleteLayer(store, registry, actor: str, now: float, scope: str, *, config,
                      reveal: bool = False, pause=None) -> Plan:
    """
    Delete the layer of C{scope}, audited in the same transaction; the
    plan's devices are the store's C{affected} ones.

    @return: the plan of what it changed.
    @raise NotFound: when the scope has no layer.
    """
    old = await getLayer(store, scope)
    plan = await planLayer(store, registry, config, old.scope, None, reveal, pause)
    summary = f"deleted ({_summary(old)}); files of {plan.count} devices change"
    event = auditEvent(now, actor, f"layer:{old.scope}", summary)
    if not await store.deleteLayer(old.scope, affected=plan.macs, events=[event]):
        raise NotFound(f"no layer {old.scope}")
    return plan


@dataclass(frozen=True)
class EffectiveSetting:
    """
    One setting a device gets, with the layer it comes from and the lower
    layers it overrides.

    @ivar scope: the layer's scope, or the vendor's built-in defaults'
        name (C{"snom built-in"}) when C{builtin}.
    @ivar secret: whether the setting is a secret (marked, or declared by
        an installed vendor); its value is then L{MASK} unless revealed.
    """

    setting: Setting
    scope: str
    overrides: tuple[str, ...] = ()
    builtin: bool = False
    secret: bool = False


async def effectiveSettings(store, mac: str, registry=None, config=None,
                            reveal: bool = False) -> list[EffectiveSetting]:
    """
    Every setting a device gets from its vendor's built-in defaults (with
    C{registry} and C{config}: the settings its main file is rendered
    with below every layer, L{builtinSettings}) and its layers (C{site} <
    C{vendor:V} < C{model:M} < C{device:MAC}), by name and index, each with
    the layer it comes from, in the renderer's precedence.  The lines'
    settings, above all of them, are the device's lines.

    @param reveal: show secret settings' values (for an admin); otherwise
        each is L{MASK} (L{maskedSetting}, with C{registry}'s vendors).
    @raise NotFound: for a device not stored.
    """
    mac = parseMAC(mac)
    device = await store.getDevice(mac)
    if device is None:
        raise NotFound(f"no device {mac}")
    found: dict[tuple[str, int | None], EffectiveSetting] = {}
    builtin = None if registry is None or config is None else await builtinSettings(store, registry, config, mac)
    if builtin is not None:
        for setting in builtin.settings:
            found[setting.key] = EffectiveSetting(setting, builtin.layer, builtin=True)
    for scope in layerScopesFor(device.vendor, device.model, mac):
        layer = await store.getLayer(scope)
        for setting in (layer.settings if layer is not None else ()):
            below = found.get(setting.key)
            found[setting.key] = EffectiveSetting(
                setting, scope, () if below is None else (*below.overrides, below.scope))
    vendors = registry.vendors if registry is not None else ()
    shown = [replace(e, setting=maskedSetting(vendors, e.setting, reveal), secret=isSecretForAny(vendors, e.setting))
             for e in found.values()]
    return sorted(shown, key=lambda e: (e.setting.name, -1 if e.setting.idx is None else e.setting.idx))
