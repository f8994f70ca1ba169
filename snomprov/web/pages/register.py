# -*- test-case-name: tests.test_pages -*-
"""
C{/register}: register a phone (DESIGN §7).  The MAC in any spelling (a
barcode scanner's output too); the MAC field has the focus again after
each phone, and vendor, registrar and the next phone's settings stay, for
a run of scans.  A phone already seen gets its vendor and model
pre-filled (C{?mac=} from the phones waiting, or from what it reported
when the vendor is left empty); an empty password is generated and shown
this once.  The phones waiting are listed beside the form.

With C{[ldap]}, "Look up" (a form of its own, so that Enter after a scan
always registers) fills line 1's display name and user (the extension)
and the notes (the e-mail) from the directory; a directory that is down
or slow says so beside the login field within C{[ldap] timeout}.
"""

from __future__ import annotations

from twisted.web.template import tags

from snomprov.ldap import DirectoryUnavailable
from snomprov.operations import devices as operations
from snomprov.operations.errors import Conflict, Invalid, Refused
from snomprov.operations.render import checkMAC

from .layout import attrs, button, csrfField, fieldErrors, field, select, table
from .live import WAITING_SHOWN
from .resource import PageCall, Route

__all__ = ["ROUTES", "LINES"]

LINES = 2
"""
Lines the form offers.
"""

_LINE_FIELDS = (("user", "user", "SIP user"), ("displayName", "display", "Display name"),
                ("password", "password", "SIP password"))


async def _seen(call: PageCall, mac: str):
    try:
        return await call.store.readDevice(checkMAC(mac))
    except Refused:
        return None


def _lookUpForm(call: PageCall, values: dict, errors: dict):
    if call.app.services.get("directory") is None:
        return ""
    return tags.form(method="get", action="/register", class_="row", id="lookup")(
        field("Directory login", "login", values.get("login", ""), errors.get("login"), autocomplete="off",
              hint="fills line 1 and the notes from the directory"),
        *[tags.input(type="hidden", name=name, value=values.get(name, ""))
          for name in ("mac", "vendor", "model", "registrar") if values.get(name)],
        button("Look up", class_="secondary"))


def _form(call: PageCall, values: dict, errors: dict, waiting, result=None, status: int = 200):
    vendors = [("", "as the phone reported")] + [(n, n) for n in call.registry.names]
    lineRows = []
    for number in range(1, LINES + 1):
        cells = []
        for attr, name, label in _LINE_FIELDS:
            key = f"line{number}_{name}"
            cells.append(field(f"Line {number}: {label}", key, values.get(key, ""),
                               errors.get(key), type="text",
                               hint="empty: generated" if name == "password" else None,
                               autocomplete="off"))
        lineRows.append(tags.div(class_="row")(*cells))
    others = [m for f, m in errors.items() if not f.startswith("line")
              and f not in ("mac", "vendor", "model", "registrar", "notes", "login")]
    form = tags.form(method="post", action="/register", id="register")(
        csrfField(call.csrf),
        field("MAC", "mac", values.get("mac", ""), errors.get("mac"), autofocus=True, required=True,
              autocomplete="off", autocapitalize="characters", spellcheck="false",
              hint="any spelling: 00-04-13-…, 0004.13…, a scanner's output"),
        tags.div(class_="row")(
            select("Vendor", "vendor", vendors, values.get("vendor", ""), errors.get("vendor")),
            field("Model", "model", values.get("model", ""), errors.get("model"),
                  hint="as the phone names itself (snomD785)"),
            field("Registrar", "registrar", values.get("registrar", ""), errors.get("registrar"))),
        *lineRows,
        field("Notes", "notes", values.get("notes", ""), errors.get("notes")),
        button("Register"))
    aside = tags.section(**attrs(aria_labelledby="h-waiting"))(
        tags.h2("Phones waiting", id="h-waiting"),
        tags.ul(*[tags.li(tags.a(d.mac, href=f"/register?mac={d.mac}"), " ",
                          " ".join(x for x in (d.vendor, d.model, d.ip) if x)) for d in waiting])
        if waiting else tags.p("No phone is waiting.", class_="muted"))
    body = [result or "", tags.section(_lookUpForm(call, values, errors), form), aside]
    return call.page("Register a phone", body, current="/register", status=status, errors=others)


async def _waiting(call: PageCall):
    return await operations.listWaiting(call.store, WAITING_SHOWN)


async def registerPage(call: PageCall):
    values = {name: call.arg(name) for name in ("mac", "vendor", "model", "registrar", "login") if call.arg(name)}
    errors = {}
    if call.arg("mac"):
        found = await _seen(call, call.arg("mac"))
        if found is not None:
            device = found[0]
            values.update(mac=device.mac, vendor=values.get("vendor") or device.vendor or "",
                          model=values.get("model") or device.model or "")
    if call.arg("login"):
        errors = await _lookUp(call, values)
    return _form(call, values, errors, await _waiting(call), status=400 if errors else 200)


async def _lookUp(call: PageCall, values: dict) -> dict:
    """
    Fill C{values} from the directory's entry of C{values["login"]}.

    @return: the errors, by field.
    """
    directory = call.app.services.get("directory")
    if directory is None:
        return {"login": "No directory is configured ([ldap] url)."}
    try:
        entry = await directory.lookUp(values["login"])
    except DirectoryUnavailable as e:
        return {"login": f"Look-up failed: {e}. Fill the fields by hand."}
    if entry is None:
        return {"login": f"The directory has no single user {values['login']!r}."}
    values.update(line1_user=entry.extension, line1_display=entry.displayName,
                  notes=entry.email and f"e-mail: {entry.email}")
    return {}


def _lineSpecs(call: PageCall, registrar: str) -> tuple[list, dict[int, int]]:
    specs, positions = [], {}
    for number in range(1, LINES + 1):
        user = call.arg(f"line{number}_user")
        if not user:
            continue
        positions[len(specs)] = number
        specs.append(operations.LineSpec(number, user, call.arg(f"line{number}_password"),
                                         call.arg(f"line{number}_display"), registrar))
    return specs, positions


_NAMES = {"displayName": "display", "password": "password", "user": "user", "registrar": "registrar"}


async def register(call: PageCall):
    values = {name: call.arg(name) for name in ("mac", "vendor", "model", "registrar", "notes")}
    for number in range(1, LINES + 1):
        for _, name, _ in _LINE_FIELDS:
            values[f"line{number}_{name}"] = call.arg(f"line{number}_{name}")
    specs, positions = _lineSpecs(call, values["registrar"])
    try:
        found = await _seen(call, values["mac"])
        vendor = values["vendor"] or (found[0].vendor if found else "") or ""
        model = values["model"] or (found[0].model if found else None) or None
        if found is not None and not found[1] and found[0].state != "registered":
            view = await operations.replaceDevice(call.store, call.registry, call.actor, call.now,
                                                  values["mac"], vendor, model,
                                                  values["notes"] or found[0].notes, specs, expected=found[2])
        else:
            view = await operations.registerDevice(call.store, call.registry, call.actor, call.now,
                                                   values["mac"], vendor, model, values["notes"] or None,
                                                   specs)
    except Invalid as e:
        errors = fieldErrors(e.errors, positions, _NAMES)
        for key in [k for k in errors if k.endswith("_registrar")]:
            errors.setdefault("registrar", errors.pop(key))  # one registrar field for every line
        return _form(call, values, errors, await _waiting(call), status=400)
    except Conflict:
        errors = {"mac": f"{values['mac']} is registered already: change it on its page."}
        return _form(call, values, errors, await _waiting(call), status=409)
    rows = [(str(line.index), line.user,
             tags.span(view.generated[line.index], class_="secret") if line.index in view.generated
             else "as given") for line in view.lines]
    result = tags.section(class_="message", role="status")(
        tags.p("Registered ", tags.a(view.mac, href=f"/devices/{view.mac}"),
               f" ({view.device.vendor}{' ' + view.device.model if view.device.model else ''})."),
        table(["Line", "User", "Password (shown this once)"], rows, id="registered") if rows else "")
    kept = {"vendor": values["vendor"], "registrar": values["registrar"]}
    return _form(call, kept, {}, await _waiting(call), result)


ROUTES = (
    Route("GET", "/register", registerPage, "operator"),
    Route("POST", "/register", register, "operator"),
)
