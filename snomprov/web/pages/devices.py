# -*- test-case-name: tests.test_pages -*-
"""
C{/devices}: the devices, filtered (text, state, vendor), the whole list
sorted by a column (the store's order, so that page 2 follows page 1), in
pages; several selected are pushed to re-sync.  C{/devices/<MAC>}: one device: what it reported, its lines
(passwords hidden; an admin reveals them, audited), every effective
setting with its layer, its files as the phone gets them, its events, its
PBX sync state, and resync, edit and delete.
"""

from __future__ import annotations

from urllib.parse import urlencode

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.template import tags

from snomprov.device import DEVICE_STATES
from snomprov.operations import devices as operations
from snomprov.operations import resync as pushes
from snomprov.operations.errors import Invalid, NotFound, Refused
from snomprov.operations.layers import effectiveSettings
from snomprov.operations.render import listFiles, renderFile

from .dashboard import eventRows
from .layout import attrs, button, csrfField, fieldErrors, field, postButton, select, table, when
from .resource import PageCall, Redirect, Route

__all__ = ["ROUTES", "PAGE_SIZE", "SORTS", "COLUMNS"]

_log = Logger()

PAGE_SIZE = 50

SORTS = {"mac": "MAC", "vendor": "Vendor", "model": "Model", "firmware": "Firmware", "state": "State",
         "seen": "Last seen"}
"""
The columns the list is sorted by (the store's orders,
L{snomprov.operations.devices.DEVICE_SORTS}), with their headers.
"""

COLUMNS = ("mac", "vendor", "model", "firmware", "ip", "state", "seen")
"""
The table's columns in order; the address is not an order of the store's.
"""

_HEADERS = {**SORTS, "ip": "IP"}


def _isStale(versions) -> bool:
    return versions is not None and versions[1] is not None and versions[1] < versions[0]


def _stale(versions):
    if versions is None or versions[1] is None:
        return tags.span("never fetched", class_="badge") if versions else ""
    if _isStale(versions):
        return tags.span("stale", class_="badge stale")
    return tags.span("current", class_="badge fetched")


async def listPage(call: PageCall):
    text, state, vendor = call.arg("q"), call.arg("state"), call.arg("vendor")
    sort, descending = call.arg("sort", "mac"), call.arg("order") == "desc"
    sort = sort if sort in SORTS else "mac"
    cursor = call.arg("after") or None
    filters = operations.DeviceFilter(state=state or None, vendor=vendor or None, text=text or None)
    try:
        found = await operations.listDevices(call.store, call.registry, call.actor, call.now, filters,
                                             cursor, PAGE_SIZE, sort, descending)
    except Invalid as e:
        return call.page("Devices", _filterForm(call, text, state, vendor, sort, descending), current="/devices",
                         status=400, errors=[message for _, message in e.errors])
    operator = call.permits("operator")
    query = {k: v for k, v in (("q", text), ("state", state), ("vendor", vendor)) if v}
    order = {"sort": sort, "order": "desc" if descending else "asc"}

    def header(key):
        if key not in SORTS:
            return _HEADERS[key]
        flip = "asc" if sort == key and descending else ("desc" if sort == key else "asc")
        mark = (" ▼" if descending else " ▲") if sort == key else ""
        # A new order starts at its first page: a cursor names a place in one order.
        return tags.a(_HEADERS[key] + mark, href="/devices?" + urlencode({**query, "sort": key, "order": flip}))

    headers = ([tags.input(**attrs(type="checkbox", data_select_all="1", aria_label="select all"))]
               if operator else []) + [header(k) for k in COLUMNS] + ["Settings"]
    rows = []
    for device in found.devices:
        cells = [tags.a(device.mac, href=f"/devices/{device.mac}"), device.vendor or "", device.model or "",
                 device.firmware or "", device.ip or "", tags.span(device.state or "", class_=f"badge {device.state}"),
                 when(device.lastSeen), _stale(found.versions.get(device.mac))]
        if operator:
            cells.insert(0, tags.input(type="checkbox", name="mac", value=device.mac,
                                       **{"aria-label": f"select {device.mac}"}))
        rows.append(cells)
    direction = "newest first" if sort == "seen" and descending else ("descending" if descending else "ascending")
    listing = table(headers, rows, caption=f"{len(rows)} devices on this page, all devices sorted by "
                                           f"{SORTS[sort].lower()}, {direction}", id="devices")
    pager = tags.div(class_="pager")(
        tags.a("First page", href="/devices?" + urlencode({**query, **order})) if cursor else "",
        tags.a("Next page", href="/devices?" + urlencode({**query, **order, "after": found.next}),
               rel="next") if found.next else "")
    if operator:
        listing = tags.form(method="post", action="/devices/resync")(
            csrfField(call.csrf), listing, button("Resync selected"))
    return call.page("Devices", [_filterForm(call, text, state, vendor, sort, descending), listing, pager],
                     current="/devices")


def _filterForm(call, text, state, vendor, sort, descending):
    vendors = [("", "any vendor")] + [(n, n) for n in call.registry.names]
    return tags.form(method="get", action="/devices", class_="row", role="search")(
        field("Search", "q", text, hint="MAC (any spelling), model, user, address…"),
        select("State", "state", [("", "any state")] + [(s, s) for s in DEVICE_STATES], state),
        select("Vendor", "vendor", vendors, vendor),
        tags.input(type="hidden", name="sort", value=sort),
        tags.input(type="hidden", name="order", value="desc" if descending else "asc"), button("Filter"))


async def resyncSelected(call: PageCall):
    macs = call.args("mac")
    if not macs:
        call.flash("Select the phones to resync first.")
        return Redirect("/devices")
    plan = await pushes.planResync(call.store, call.registry, macs)
    _start(call, plan)
    return Redirect("/devices")


def _start(call: PageCall, plan) -> None:
    """
    Push the plan's phones in the background (their outcomes come as
    C{resync-sent} events); note what was queued for the next page.
    """
    d = defer.ensureDeferred(pushes.runResync(call.store, call.app.reactor, call.actor, plan))
    d.addErrback(lambda failure: _log.failure("Push {what} failed", failure, what=plan.what))
    note = f"Resync queued for {len(plan.targets)} phone(s)."
    if plan.skipped:
        note += " Skipped: " + "; ".join(f"{mac}: {reason}" for mac, reason in plan.skipped) + "."
    call.flash(note)


def _mac(call: PageCall) -> str:
    from snomprov.operations.render import checkMAC

    return checkMAC(call.path["mac"])


async def devicePage(call: PageCall, reveal: bool = False):
    mac = _mac(call)
    view = await operations.getDevice(call.store, call.registry, call.actor, call.now, mac, reveal,
                                      call.principal.role)
    device = view.device
    info = table(["Field", "Value"], [
        ("Vendor", device.vendor or ""), ("Model", device.model or ""), ("Firmware", device.firmware or ""),
        ("IP", device.ip or ""), ("State", device.state or ""), ("First seen", when(device.firstSeen)),
        ("Last seen", when(device.lastSeen)), ("Notes", device.notes or ""),
        ("Settings", _stale(view.versions))])

    def password(line):
        if line.password is not None:
            return tags.span(line.password, class_="secret")
        return "set (hidden)" if line.passwordSet else "none"

    lines = table(["Line", "User", "Auth user", "Display name", "Registrar", "Outbound proxy", "Password"],
                  [(str(l.index), l.user, l.authUser, l.displayName, l.registrar, l.outboundProxy, password(l))
                   for l in view.lines], id="lines") if view.lines else tags.p("No lines: not registered.")
    actions = [
        postButton(f"/devices/{mac}/resync", "Resync", call.csrf) if call.permits("operator") else "",
        tags.a("Edit", href=f"/devices/{mac}/edit", class_="button") if call.permits("operator") else "",
        postButton(f"/devices/{mac}/reveal", "Reveal passwords", call.csrf)
        if call.permits("admin") and view.lines and not reveal else "",
    ]
    settings = await effectiveSettings(call.store, mac, call.registry, call.config, reveal=reveal)
    effective = table(["Setting", "Index", "Value", "Perm", "From layer", "Overrides"],
                      [(s.setting.name, "" if s.setting.idx is None else str(s.setting.idx),
                        tags.span(s.setting.value, class_="secret") if s.secret else s.setting.value,
                        s.setting.perm or "",
                        tags.span(s.scope, class_="badge") if s.builtin
                        else tags.a(s.scope, href="/settings?scope=" + s.scope),
                        ", ".join(s.overrides)) for s in settings], id="effective",
                      caption="Each from the highest layer setting it: the vendor's built-in defaults < "
                              "site < vendor < model < device (the lines, above them all, are under Lines)") \
        if settings else tags.p("Neither the vendor nor any layer sets anything.")
    files = []
    for name in await listFiles(call.store, call.registry, mac):
        try:
            _, rendered = await renderFile(call.store, call.registry, call.config, mac, name, reveal=reveal)
        except NotFound as e:
            files.append(tags.details(tags.summary(name), tags.p(str(e))))
            continue
        body = f"(served from {rendered.path})" if rendered.path else rendered.content.decode("utf-8", "replace")
        files.append(tags.details(tags.summary(name), tags.pre(body, **attrs(data_file=name))))
    events = await call.store.pageEvents(mac=mac, limit=50)
    sinks = [t.name for t in call.config.pbx] if call.config is not None else []
    sync = await call.store.accountSyncState(mac, sinks) if sinks else []
    pbx = table(["Line", "Sink", "Version", "Applied", "Last error"],
                [(str(s.index), s.sink, str(s.version), str(s.appliedVersion), s.lastError or "")
                 for s in sync]) if sync else tags.p("No PBX sink configured." if not sinks else "No lines to sync.")
    danger = tags.section(tags.h2("Delete"), tags.p("Forget this phone, its lines and its device layer."),
                          postButton(f"/devices/{mac}/delete", "Delete this device", call.csrf, danger=True)) \
        if call.permits("operator") else ""
    body = [tags.div(class_="row")(*actions),
            tags.section(tags.h2("Device"), info),
            tags.section(tags.h2("Lines"), lines),
            tags.section(tags.h2("Effective settings"), effective),
            tags.section(tags.h2("Files as the phone gets them"),
                         *(files or [tags.p("No vendor serves files to this device.")])),
            tags.section(tags.h2("Events"), table(["Time (UTC)", "MAC", "Kind", "Detail"],
                                                  eventRows([e for _, e in events]), id="events")),
            tags.section(tags.h2("PBX accounts"), pbx),
            danger]
    return call.page(f"Device {mac}", body, current="/devices")


async def reveal(call: PageCall):
    return await devicePage(call, reveal=True)


async def resyncOne(call: PageCall):
    mac = _mac(call)
    plan = await pushes.planResync(call.store, call.registry, [mac])
    _start(call, plan)
    return Redirect(f"/devices/{mac}")


async def delete(call: PageCall):
    mac = _mac(call)
    await operations.deleteDevice(call.store, call.registry, call.actor, call.now, mac)
    call.flash(f"Device {mac} deleted.")
    return Redirect("/devices")


_LINE_FIELDS = (("user", "user", "SIP user"), ("displayName", "display", "Display name"),
                ("registrar", "registrar", "Registrar"), ("authUser", "authuser", "Auth user"),
                ("outboundProxy", "proxy", "Outbound proxy"), ("password", "password", "New password"))


def _lineFields(index: int, line, values: dict, errors: dict):
    cells = []
    for attr, name, label in _LINE_FIELDS:
        key = f"line{index}_{name}"
        value = values.get(key, "" if line is None or attr == "password" else getattr(line, attr))
        hint = None
        if attr == "password":
            hint = "empty: generated" if line is None else "empty: kept"
        elif attr == "user" and line is not None:
            hint = "empty: the line is removed"
        cells.append(field(f"Line {index}: {label}", key, value, errors.get(key), hint=hint, autocomplete="off"))
    return tags.fieldset(tags.legend(f"Line {index}" + ("" if line is not None else " (new)")),
                         tags.div(class_="row")(*cells))


def _editForm(call, view, errors: dict | None = None, status: int = 200, values: dict | None = None):
    errors = errors or {}
    values = values or {}
    device = view.device
    vendors = [(n, n) for n in call.registry.names]
    fields = [select("Vendor", "vendor", vendors, values.get("vendor", device.vendor or ""), errors.get("vendor")),
              field("Model", "model", values.get("model", device.model or ""), errors.get("model")),
              field("Notes", "notes", values.get("notes", device.notes or ""), errors.get("notes"))]
    indexes = [line.index for line in view.lines]
    new = max(indexes, default=0) + 1
    lines = [_lineFields(line.index, line, values, errors) for line in view.lines]
    lines.append(_lineFields(new, None, values, errors))
    known = {"vendor", "model", "notes"} | {f"line{i}_{n}" for i in [*indexes, new] for _, n, _ in _LINE_FIELDS}
    return call.page(f"Edit {device.mac}", tags.form(method="post", action=f"/devices/{device.mac}/edit")(
        csrfField(call.csrf), tags.input(type="hidden", name="revision", value=str(view.revision)),
        *[tags.input(type="hidden", name="index", value=str(i)) for i in [*indexes, new]],
        *fields, *lines, button("Save")), current="/devices", status=status,
        errors=[m for f, m in errors.items() if f not in known])


async def editPage(call: PageCall):
    view = await operations.getDevice(call.store, call.registry, call.actor, call.now, _mac(call))
    return _editForm(call, view)


def _editedLines(call: PageCall) -> tuple[list, dict[int, int]]:
    """
    The line specs of the edit form (a line without a user is left out),
    and each spec's position to its line index.
    """
    specs, positions = [], {}
    for text in call.args("index"):
        if not text.isdigit():
            continue
        index = int(text)
        get = lambda name: call.arg(f"line{index}_{name}")  # noqa: E731
        if not get("user"):
            continue
        positions[len(specs)] = index
        specs.append(operations.LineSpec(index, get("user"), get("password") or None, get("display"),
                                         get("registrar"), get("authuser"), get("proxy")))
    return specs, positions


_FIELD_OF = {attr: name for attr, name, _ in _LINE_FIELDS}


async def edit(call: PageCall):
    mac = _mac(call)
    specs, positions = _editedLines(call)
    changes = {"vendor": call.arg("vendor"), "model": call.arg("model") or None,
               "notes": call.arg("notes") or None, "lines": specs}
    values = {name: call.arg(name) for name in call.form if name not in ("csrf", "revision", "index")}
    try:
        revision = int(call.arg("revision")) if call.arg("revision") else None
        view = await operations.patchDevice(call.store, call.registry, call.actor, call.now, mac, changes,
                                            revision)
    except (Invalid, ValueError) as e:
        current = await operations.getDevice(call.store, call.registry, call.actor, call.now, mac)
        errors = fieldErrors(e.errors if isinstance(e, Invalid) else [("", "bad revision")], positions, _FIELD_OF)
        return _editForm(call, current, errors, 400, values)
    except Refused as e:
        call.flash(str(e))
        return Redirect(f"/devices/{mac}/edit")
    if not view.generated:
        call.flash(f"Device {mac} saved.")
        return Redirect(f"/devices/{mac}")
    rows = [(str(index), tags.span(password, class_="secret")) for index, password in sorted(view.generated.items())]
    return call.page(f"Saved {mac}", [
        tags.p("Saved. New passwords, shown this once:", class_="message", role="status"),
        table(["Line", "Password"], rows, id="generated"),
        tags.p(tags.a(f"Back to {mac}", href=f"/devices/{mac}"))], current="/devices")


ROUTES = (
    Route("GET", "/devices", listPage),
    Route("POST", "/devices/resync", resyncSelected, "operator"),
    Route("GET", "/devices/{mac}", devicePage),
    Route("POST", "/devices/{mac}/reveal", reveal, "admin"),
    Route("POST", "/devices/{mac}/resync", resyncOne, "operator"),
    Route("POST", "/devices/{mac}/delete", delete, "operator"),
    Route("GET", "/devices/{mac}/edit", editPage, "operator"),
    Route("POST", "/devices/{mac}/edit", edit, "operator"),
)
