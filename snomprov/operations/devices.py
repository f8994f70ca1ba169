# -*- test-case-name: tests.test_operations_devices -*-
"""
Registering, reading, changing and forgetting devices and their lines
(DESIGN §2, §7): what the command line, the API and the pages call.

Every function takes the store (L{snomprov.interfaces.IDeviceStore}), the
vendor registry, the actor (L{snomprov.audit}) and the time.  Input is
checked by the same rules as a devices CSV file (L{snomprov.csvimport}'s
row checks).  A change and its audit event (object C{device:<MAC>}, a
summary that never holds a password) are written in one transaction.

Revisions: every device answered carries its revision (the API's
C{ETag}); a change given an C{expected} revision is refused with
L{PreconditionFailed} when the device has moved on, so that two operators
cannot silently overwrite each other.

Passwords: a line given without a password (C{None}) keeps the stored
password of its index, so that a masked document read and written back
loses nothing; an empty password, or none for a new index, is generated
(L{newPassword}) and handed back once in L{DeviceView.generated}.  Views
mask passwords (L{LineView.passwordSet}) unless an admin reveals them,
which is audited.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from snomprov.accounts import permits
from snomprov.audit import auditEvent
from snomprov.csvimport import (
    FieldProblem,
    checkText,
    readLineNumber,
    readMAC,
    readUser,
    readVendor,
    vendorNames,
)
from snomprov.device import DEVICE_STATES, DeviceInfo, InvalidMAC, Line, parseMAC
from snomprov.operations.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed, Refused
from snomprov.store.errors import PreconditionFailed as StalePrecondition
from snomprov.store.errors import StoreError, UnknownDevice
from snomprov.store.sorts import DEVICE_SORTS, checkSortKey, sortKey

__all__ = [
    "PASSWORD_BYTES",
    "newPassword",
    "LineSpec",
    "LineView",
    "DeviceView",
    "DeviceFilter",
    "DevicePage",
    "DEVICE_SORTS",
    "registerDevice",
    "replaceDevice",
    "patchDevice",
    "setLines",
    "deleteDevice",
    "getDevice",
    "listDevices",
    "listWaiting",
]

PASSWORD_BYTES = 18
"""
Random bytes of a generated SIP password: 24 URL-safe characters.
"""

_RETRIES = 5
"""
How often a change given no expected revision is tried again when another
write came between its read and its write.
"""

_PATCHABLE = ("vendor", "model", "notes", "lines")


def newPassword() -> str:
    """
    A strong random SIP password (L{PASSWORD_BYTES} from C{secrets},
    URL-safe, so that any phone's configuration can carry it).
    """
    return secrets.token_urlsafe(PASSWORD_BYTES)


@dataclass(frozen=True)
class LineSpec:
    """
    A line as an operator gives it.

    @ivar password: the SIP password; C{None} keeps the stored one of this
        index (or generates one for a new index), C{""} generates one.
    """

    index: int
    user: str
    password: str | None = None
    displayName: str = ""
    registrar: str = ""
    authUser: str = ""
    outboundProxy: str = ""

    def __repr__(self) -> str:
        shown = "None" if self.password is None else "'***'"
        return (f"LineSpec(index={self.index!r}, user={self.user!r}, password={shown}, "
                f"displayName={self.displayName!r}, registrar={self.registrar!r}, "
                f"authUser={self.authUser!r}, outboundProxy={self.outboundProxy!r})")


@dataclass(frozen=True)
class LineView:
    """
    A stored line as it is shown: C{password} is C{None} unless revealed.
    """

    index: int
    user: str
    displayName: str
    registrar: str
    authUser: str
    outboundProxy: str
    passwordSet: bool
    password: str | None = None

    def __repr__(self) -> str:
        shown = "None" if self.password is None else "'***'"
        return (f"LineView(index={self.index!r}, user={self.user!r}, passwordSet={self.passwordSet!r}, "
                f"password={shown})")

    @classmethod
    def of(cls, line: Line, reveal: bool = False) -> "LineView":
        return cls(line.index, line.user, line.displayName, line.registrar, line.authUser,
                   line.outboundProxy, bool(line.password), line.password if reveal else None)


@dataclass(frozen=True)
class DeviceView:
    """
    A device as an operation answers it.

    @ivar revision: its revision (the API's C{ETag}).
    @ivar generated: the passwords this change generated, by line index:
        shown this once, never stored anywhere but in the lines.
    @ivar revealed: whether C{lines} carry their passwords.
    """

    device: DeviceInfo
    lines: tuple[LineView, ...]
    revision: int
    generated: Mapping[int, str] = field(default_factory=dict)
    revealed: bool = False
    versions: tuple[int, int | None] | None = None
    """
    Its current and last fetched settings versions (see
    L{snomprov.store.writes}), where read (L{getDevice}); C{None} otherwise.
    """

    @property
    def mac(self) -> str:
        return self.device.mac

    def __repr__(self) -> str:
        return (f"DeviceView({self.device!r}, lines={self.lines!r}, revision={self.revision!r}, "
                f"generated={sorted(self.generated)!r})")


@dataclass(frozen=True)
class DeviceFilter:
    """
    What a list of devices is narrowed to (see
    L{snomprov.interfaces.IDeviceStore.pageDevices}); C{None} is no filter.
    """

    state: str | None = None
    vendor: str | None = None
    model: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class DevicePage:
    """
    @ivar next: the cursor of the next page, or C{None} on the last page:
        by MAC ascending, the last MAC of this one; in another order, a text
        naming the order and where this page ended in it.
    """

    devices: tuple[DeviceInfo, ...]
    next: str | None
    versions: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)
    """
    MAC to its current and last fetched settings versions.
    """


# ---------------------------------------------------------------------------
# Checking what is given


class _Problems:
    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def check(self, where: str, check, *args):
        try:
            return check(*args)
        except FieldProblem as e:
            self.errors.append((where, e.message))
            return None

    def add(self, where: str, message: str) -> None:
        self.errors.append((where, message))

    def raiseAny(self) -> None:
        if self.errors:
            raise Invalid(self.errors)


def _macOf(text: object) -> str:
    if not isinstance(text, str):
        raise Refused("the MAC must be text")
    try:
        return readMAC(text)
    except FieldProblem as e:
        raise Invalid([("/mac", e.message)]) from None


def _text(column: str, value: object) -> str:
    if not isinstance(value, str):
        raise FieldProblem(column, f"{column} must be text")
    checkText(column, value)
    return value


def _optionalText(column: str, value: object, multiline: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldProblem(column, f"{column} must be text or null")
    checkText(column, value.replace("\n", "").replace("\t", "") if multiline else value)
    return value.strip() or None


def _vendor(value: object, registry) -> str:
    if not isinstance(value, str):
        raise FieldProblem("vendor", "vendor must be the name of a vendor")
    return readVendor(value, vendorNames(registry.names))


def _device(problems: _Problems, mac: str, fields: Mapping[str, Any], registry) -> DeviceInfo:
    """
    The operator fields given, checked as a CSV row's are.
    """
    vendor = problems.check("/vendor", _vendor, fields.get("vendor"), registry)
    model = problems.check("/model", _optionalText, "model", fields.get("model"))
    notes = problems.check("/notes", _optionalText, "notes", fields.get("notes"), True)
    return DeviceInfo(mac, vendor=vendor, model=model, notes=notes)


def _lines(problems: _Problems, specs: Iterable[LineSpec], stored: Iterable[Line]) -> tuple[tuple[Line, ...], dict[int, str]]:
    """
    The lines to store for C{specs}, the passwords resolved against the
    C{stored} lines (see the module's docstring).

    @return: the lines, by index, and the passwords generated.
    """
    kept = {line.index: line.password for line in stored}
    lines: dict[int, Line] = {}
    generated: dict[int, str] = {}
    for position, spec in enumerate(specs):
        at = f"/lines/{position}"
        if not isinstance(spec, LineSpec):
            problems.add(at, "a line must be a LineSpec")
            continue
        found = len(problems.errors)
        index = problems.check(f"{at}/index", readLineNumber, spec.index)
        user = problems.check(f"{at}/user", lambda: readUser(_text("user", spec.user)))
        texts = {}
        for name, column in (("displayName", "display_name"), ("registrar", "registrar"),
                             ("authUser", "auth_user"), ("outboundProxy", "outbound_proxy")):
            value = problems.check(f"{at}/{name}", _text, column, getattr(spec, name))
            texts[name] = None if value is None else value.strip()
        password = spec.password
        if password is not None:
            problems.check(f"{at}/password", _text, "password", password)
        if index is not None and index in lines:
            problems.add(f"{at}/index", f"line {index} is given twice")
        if len(problems.errors) > found:
            continue
        assert index is not None and user is not None
        if password is None:
            password = kept.get(index) or ""
        if password == "":
            password = generated[index] = newPassword()
        lines[index] = Line(index=index, user=user, password=password, **texts)
    return tuple(lines[index] for index in sorted(lines)), generated


def _specsOf(lines: Iterable[Line]) -> list[LineSpec]:
    """
    Stored lines as specs that keep their passwords.
    """
    return [LineSpec(line.index, line.user, None, line.displayName, line.registrar, line.authUser,
                     line.outboundProxy) for line in lines]


def _checkExpected(expected: object) -> int | None:
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 0):
        raise Refused("the expected revision must be a whole number")
    return expected  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# Summaries (never a password)


def _changed(old: DeviceInfo | None, new: DeviceInfo, oldLines: tuple[Line, ...],
             newLines: tuple[Line, ...]) -> list[str]:
    names = [name for name in ("vendor", "model", "notes")
             if getattr(new, name) != (None if old is None else getattr(old, name))]
    if oldLines != newLines:
        names.append("lines")
    return names


def _summary(verb: str, changed: list[str], lines: tuple[Line, ...], generated: Mapping[int, str]) -> str:
    what = ", ".join(changed) if changed else "no change"
    summary = f"{verb} ({what}; {len(lines)} line{'' if len(lines) == 1 else 's'})"
    if generated:
        summary += f", {len(generated)} password{'' if len(generated) == 1 else 's'} generated"
    return summary


def _event(actor: str, now: float, mac: str, summary: str):
    return auditEvent(now, actor, f"device:{mac}", summary, mac=mac)


# ---------------------------------------------------------------------------
# Reading


async def _read(store, mac: str) -> tuple[DeviceInfo, tuple[Line, ...], int]:
    found = await store.readDevice(mac)
    if found is None:
        raise NotFound(f"no device {mac}")
    return found


def _view(found: tuple[DeviceInfo, tuple[Line, ...], int], generated: Mapping[int, str] | None = None,
          reveal: bool = False) -> DeviceView:
    device, lines, revision = found
    return DeviceView(device, tuple(LineView.of(line, reveal) for line in lines), revision,
                      dict(generated or {}), reveal)


async def getDevice(store, registry, actor: str, now: float, mac: str, reveal: bool = False,
                    role: str = "viewer") -> DeviceView:
    """
    A device and its lines, passwords masked unless C{reveal}.

    @param role: the actor's role: revealing needs C{admin}, and is
        audited (the event names the device, never a password).
    @raise Forbidden: for a reveal below C{admin}.
    @raise NotFound: for a device not stored.
    """
    mac = _macOf(mac)
    if reveal and not permits(role, "admin"):
        raise Forbidden(f"revealing SIP passwords needs the role admin; {actor} is {role}")
    found = await _read(store, mac)
    if reveal:
        await store.addEvents([_event(actor, now, mac, "SIP passwords revealed")])
    versions = await store.deviceVersions([mac])
    return replace(_view(found, reveal=reveal), versions=versions.get(mac))


_MAC_FRAGMENT = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+")


def _searchText(text: str) -> str:
    """
    A text filter, a MAC written with separators made the stored spelling
    (C{00:04:13} finds C{000413...}).
    """
    try:
        return parseMAC(text)
    except InvalidMAC:
        pass
    stripped = text.strip()
    return stripped.replace(":", "") if _MAC_FRAGMENT.fullmatch(stripped) else text


def _cursorOf(sort: str, descending: bool, device: DeviceInfo) -> str:
    if sort == "mac" and not descending:
        return device.mac
    order = "desc" if descending else "asc"
    return json.dumps([sort, order, sortKey(sort, device), device.mac], separators=(",", ":"),
                      ensure_ascii=False)


def _afterOf(cursor: object, sort: str, descending: bool) -> object:
    """
    The store's C{after} of a cursor from L{_cursorOf} for the same order.
    """
    bad = Invalid([("cursor", "not a cursor of this list (in this order)")])
    if not isinstance(cursor, str):
        raise bad
    if sort == "mac" and not descending:
        try:
            return parseMAC(cursor)
        except InvalidMAC:
            raise bad from None
    try:
        named, order, key, mac = json.loads(cursor)
        mac = parseMAC(mac)
    except (ValueError, TypeError, InvalidMAC):
        raise bad from None
    if (named, order) != (sort, "desc" if descending else "asc") or not checkSortKey(sort, key) \
            or (isinstance(key, float) and not math.isfinite(key)):
        raise bad
    return mac if sort == "mac" else (key, mac)


async def listDevices(store, registry, actor: str, now: float, filters: DeviceFilter = DeviceFilter(),
                      cursor: str | None = None, limit: int = 100, sort: str = "mac",
                      descending: bool = False) -> DevicePage:
    """
    A page of devices in the order C{sort} of the whole store
    (L{snomprov.store.sorts.DEVICE_SORTS}, the MAC breaking ties).

    @param filters: a vendor is matched in any case; a text that is a MAC
        (or the start of one, C{00:04:13}) in any spelling matches it as
        stored.
    @param cursor: the C{next} of the previous page in the same order, or
        C{None}.
    @raise Refused: for an unknown state or sort, a bad cursor or limit.
    """
    if filters.state is not None and filters.state not in DEVICE_STATES:
        raise Invalid([("state", f"unknown state {filters.state!r} (states: {', '.join(DEVICE_STATES)})")])
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise Invalid([("limit", "the limit must be a whole number, 1 or more")])
    if sort not in DEVICE_SORTS:
        raise Invalid([("sort", f"unknown sort {sort!r} (sorts: {', '.join(DEVICE_SORTS)})")])
    after = None if cursor is None else _afterOf(cursor, sort, descending)
    vendor = filters.vendor
    if vendor is not None:
        vendor = vendorNames(registry.names).get(vendor.strip().lower(), vendor)
    text = None if filters.text is None else _searchText(filters.text)
    try:
        found = await store.pageDevices(state=filters.state, vendor=vendor, model=filters.model,
                                        text=text, after=after, limit=limit + 1, sort=sort,
                                        descending=descending)
    except StoreError as e:
        raise Refused(str(e)) from None
    page = tuple(found[:limit])
    versions = await store.deviceVersions([device.mac for device in page])
    return DevicePage(page, _cursorOf(sort, descending, page[-1]) if len(found) > limit else None, versions)


# ---------------------------------------------------------------------------
# Changing


async def _change(store, registry, actor: str, now: float, mac: str, expected: int | None, verb: str,
                  build) -> DeviceView:
    """
    Read the device, build what to write from it, write it with its audit
    event against the revision read.  When the caller expected no
    revision, a write that lost the race to another is built again from
    what that one stored (it overwrites nothing it did not read).

    @param build: a function of the stored C{(device, lines, revision)}
        returning the device and the line specs to write.
    """
    expected = _checkExpected(expected)
    for attempt in range(_RETRIES):
        found = await _read(store, mac)
        old, oldLines, revision = found
        if expected is not None and revision != expected:
            raise PreconditionFailed(f"device {mac} has changed (revision {revision}, not {expected}): "
                                     "read it again and redo the change")
        problems = _Problems()
        device, specs = build(problems, found)
        lines, generated = _lines(problems, specs, oldLines)
        problems.raiseAny()
        summary = _summary(verb, _changed(old, device, oldLines, lines), lines, generated)
        try:
            await store.writeDevice(device, lines, expected=revision,
                                    events=[_event(actor, now, mac, summary)])
        except StalePrecondition:
            if expected is not None:
                raise PreconditionFailed(f"device {mac} has changed: read it again and redo the change") from None
            continue
        except UnknownDevice:
            raise NotFound(f"no device {mac}") from None
        return _view(await _read(store, mac), generated)
    raise Conflict(f"device {mac} is changing too often: try again")


def _lineSpecs(problems: _Problems, lines: object) -> list[LineSpec]:
    if isinstance(lines, (str, bytes, Mapping)) or not isinstance(lines, Iterable):
        problems.add("/lines", "lines must be a list")
        return []
    return list(lines)


async def registerDevice(store, registry, actor: str, now: float, mac: str, vendor: str,
                         model: str | None = None, notes: str | None = None,
                         lines: Iterable[LineSpec] = ()) -> DeviceView:
    """
    Register a new device with its lines (state C{registered}).

    @param mac: in any spelling.
    @raise Invalid: for a bad MAC, vendor, model, notes or line.
    @raise Conflict: if the device is stored already (seen or registered:
        change it with L{replaceDevice}).
    """
    mac = _macOf(mac)
    problems = _Problems()
    device = _device(problems, mac, {"vendor": vendor, "model": model, "notes": notes}, registry)
    newLines, generated = _lines(problems, _lineSpecs(problems, lines), ())
    problems.raiseAny()
    summary = _summary("registered", _changed(None, device, (), newLines), newLines, generated)
    try:
        await store.writeDevice(device, newLines, events=[_event(actor, now, mac, summary)], new=True)
    except StalePrecondition:
        raise Conflict(f"device {mac} exists already") from None
    return _view(await _read(store, mac), generated)


async def replaceDevice(store, registry, actor: str, now: float, mac: str, vendor: str,
                        model: str | None = None, notes: str | None = None,
                        lines: Iterable[LineSpec] = (), expected: int | None = None) -> DeviceView:
    """
    Replace a stored device's vendor, model, notes and lines (what was seen
    of it is kept): a C{PUT}.

    @param expected: the revision the change was made against, or C{None}.
    @raise NotFound: for a device not stored (L{registerDevice} makes one).
    @raise PreconditionFailed: when the device is no longer at C{expected}.
    """
    mac = _macOf(mac)
    specs = _Problems()
    given = _lineSpecs(specs, lines)

    def build(problems, found):
        problems.errors.extend(specs.errors)
        device = _device(problems, mac, {"vendor": vendor, "model": model, "notes": notes}, registry)
        return device, given

    return await _change(store, registry, actor, now, mac, expected, "replaced", build)


async def patchDevice(store, registry, actor: str, now: float, mac: str, changes: Mapping[str, Any],
                      expected: int | None = None) -> DeviceView:
    """
    Change some of a device's C{vendor}, C{model}, C{notes} (C{None}
    clears the model or the notes) and C{lines} (the whole list).

    @raise Invalid: for an empty change, another field or a bad value.
    @raise NotFound: for a device not stored.
    @raise PreconditionFailed: when the device is no longer at C{expected}.
    """
    mac = _macOf(mac)
    changes = dict(changes)
    if "lines" in changes and not isinstance(changes["lines"], (str, bytes, Mapping)) \
            and isinstance(changes["lines"], Iterable):
        changes["lines"] = list(changes["lines"])  # built again on a retry
    unknown = sorted(set(changes) - set(_PATCHABLE))
    if unknown:
        raise Invalid([(f"/{name}", f"{name} cannot be changed (only {', '.join(_PATCHABLE)})")
                       for name in unknown])
    if not changes:
        raise Invalid([("", f"nothing to change: give one of {', '.join(_PATCHABLE)}")])

    def build(problems, found):
        old, oldLines, _ = found
        fields = {"vendor": old.vendor, "model": old.model, "notes": old.notes}
        given = {name: changes[name] for name in ("vendor", "model", "notes") if name in changes}
        fields.update(given)
        device = _device(problems, mac, fields, registry) if "vendor" in given or old.vendor else None
        if device is None:  # a device seen of no known vendor: only what is given is checked
            device = DeviceInfo(mac, vendor=None,
                                model=problems.check("/model", _optionalText, "model", fields["model"]),
                                notes=problems.check("/notes", _optionalText, "notes", fields["notes"], True))
        specs = _lineSpecs(problems, changes["lines"]) if "lines" in changes else _specsOf(oldLines)
        return device, specs

    verb = "lines set" if set(changes) == {"lines"} else "patched"
    return await _change(store, registry, actor, now, mac, expected, verb, build)


async def setLines(store, registry, actor: str, now: float, mac: str, lines: Iterable[LineSpec],
                   expected: int | None = None) -> DeviceView:
    """
    Replace a device's lines.

    @raise NotFound: for a device not stored.
    @raise PreconditionFailed: when the device is no longer at C{expected}.
    """
    return await patchDevice(store, registry, actor, now, mac, {"lines": lines}, expected)


async def deleteDevice(store, registry, actor: str, now: float, mac: str,
                       expected: int | None = None) -> None:
    """
    Forget a device, its lines and its device settings layer.

    @raise NotFound: for a device not stored.
    @raise PreconditionFailed: when the device is no longer at C{expected}.
    """
    mac = _macOf(mac)
    expected = _checkExpected(expected)
    if await store.deviceRevision(mac) is None:
        raise NotFound(f"no device {mac}")
    event = _event(actor, now, mac, "deleted")
    try:
        existed = await store.deleteDevice(mac, expected=expected, events=[event])
    except StalePrecondition:
        raise PreconditionFailed(f"device {mac} has changed: read it again before deleting it") from None
    if not existed:
        raise NotFound(f"no device {mac}")


async def listWaiting(store, limit: int = 20, scan: int = 500) -> list[DeviceInfo]:
    """
    Phones waiting (DESIGN §7): seen (PnP, HTTP, TFTP) but not registered,
    that is, not in state C{registered} and without lines; those only
    C{seen} first, then the rest by MAC.  Each page of devices has its
    lines read in one batch (L{IDeviceStore.readDevices}), not one device
    at a time.

    @param limit: at most this many.
    @param scan: at most this many devices looked at, so that a store of
        many registered phones answers in bounded time.
    """
    found: list[DeviceInfo] = []
    looked = 0
    for state in ("seen", "notified", "fetched"):
        after = None
        while len(found) < limit and looked < scan:
            page = await store.pageDevices(state=state, after=after, limit=min(100, scan - looked))
            if not page:
                break
            read = await store.readDevices([device.mac for device in page])
            for device in page:
                looked += 1
                stored, lines = read[device.mac][:2]
                if stored is not None and not lines:
                    found.append(stored)
                    if len(found) >= limit:
                        break
            after = page[-1].mac
        if len(found) >= limit or looked >= scan:
            break
    return found
