# -*- test-case-name: tests.test_pages_settings -*-
"""
C{/settings}: the settings layers (site, vendor, model, device) and the
"Browse / Load" of a settings file (snom settings XML, or what another
installed vendor reads) into one of them.  Loading shows the plan first
(which phones' files change, with the diff); the change is applied only
from the plan's page, the file carried in its form, so what is applied
is what was planned from.  An invalid file is refused with its line.
A layer's secret settings (marked by an operator, or declared by an
installed vendor) show C{***}; an operator marks a setting secret, an
admin clears a mark (C{POST /settings/secrets}).
The work is L{snomprov.operations.layers}'s.
"""

from __future__ import annotations

import base64
import binascii

from twisted.web.template import tags

from snomprov.operations import layers as operations
from snomprov.operations.errors import Refused
from snomprov.secretsettings import declaringVendors

from .layout import attrs, button, csrfField, field, postButton, table
from .resource import PageCall, Redirect, Route

__all__ = ["ROUTES", "PLAN_SHOWN", "problemText"]

PLAN_SHOWN = 50
"""
The most devices whose diffs a plan page shows (the count is always whole).
"""

OPEN_SHOWN = 3
"""
The first devices of a plan shown with their diffs open.
"""

_XML = "application/xml"


def problemText(e: Refused) -> str:
    """
    A refusal as one line for the form, the file's line first when known.
    """
    if e.problems:
        return "; ".join((f"line {p.line}: " if p.line is not None else "") + p.message for p in e.problems)
    return str(e)


def _loadForm(call: PageCall, scope: str = "", error: str | None = None, scopeError: str | None = None):
    return tags.form(method="post", action="/settings/plan", enctype="multipart/form-data",
                     **attrs(data_progress=True))(
        csrfField(call.csrf),
        field("Layer", "scope", scope or "site", scopeError, required=True,
              hint="site, vendor:snom, model:snomD785 or device:<MAC>", list="scopes"),
        field("Settings file", "file", error=error, type="file", required=True, accept=".xml,text/xml,application/xml",
              hint="a snom settings XML (Browse), then Load to see what changes"),
        tags.progress(hidden="hidden", value="0"),
        button("Load"))


def _secret(call: PageCall, scope: str, setting) -> tuple:
    """
    The Secret column of a setting (marked, declared by a vendor, or not)
    and its button: Mark secret for an unmarked one, Unmark for a marked
    one when the viewer is an admin.
    """
    declared = declaringVendors(call.registry.vendors, setting)
    kind = "marked" if setting.secret else f"declared by {', '.join(declared)}" if declared else "no"
    hidden = {"scope": scope, "name": setting.name, "idx": "" if setting.idx is None else str(setting.idx)}
    if not setting.secret:
        action = postButton("/settings/secrets", "Mark secret", call.csrf, secret="true", **hidden)
    elif call.permits("admin"):
        action = postButton("/settings/secrets", "Unmark", call.csrf, danger=True, secret="false", **hidden)
    else:
        action = ""
    return kind, action


async def _page(call: PageCall, scope: str = "", error: str | None = None, scopeError: str | None = None,
                status: int = 200):
    layers = await operations.listLayers(call.store)
    rows = [(tags.a(layer.scope, href=f"/settings?scope={layer.scope}"), str(len(layer.settings)),
             ", ".join(sorted(layer.documents))) for layer in layers]
    body = [tags.section(tags.h2("Browse / Load a settings file"), _loadForm(call, scope, error, scopeError),
                         tags.datalist(*[tags.option(value=layer.scope) for layer in layers], id="scopes"))]
    shown = call.arg("scope") if call.request.method == b"GET" else ""
    if shown:
        layer = await operations.getLayer(call.store, shown)
        vendors = call.registry.vendors
        body.append(tags.section(tags.h2(f"Layer {layer.scope}"), table(
            ["Setting", "Index", "Value", "Perm", "Secret", ""],
            [(s.name, "" if s.idx is None else str(s.idx), operations.maskedSetting(vendors, s).value,
              s.perm or "", *_secret(call, layer.scope, s)) for s in layer.settings],
            id="layer"), postButton("/settings/delete", f"Delete layer {layer.scope}", call.csrf, danger=True,
                                    scope=layer.scope)))
    body.append(tags.section(tags.h2("Layers"), table(["Layer", "Settings", "Documents"], rows, id="layers")
                             if rows else tags.p("No layer yet: phones get their vendor's defaults.")))
    return call.page("Settings", body, current="/settings", status=status)


async def settingsPage(call: PageCall):
    return await _page(call)


async def plan(call: PageCall):
    scope, data = call.arg("scope"), call.files.get("file", b"")
    try:
        scope = operations.checkScope(scope)
    except Refused as e:
        return await _page(call, scope, scopeError=str(e), status=400)
    if not data:
        return await _page(call, scope, "Choose a settings file (Browse) first.", status=400)
    try:
        layer = operations.parseLayer(call.registry, scope, data, _XML)
    except Refused as e:
        return await _page(call, scope, problemText(e), status=400)
    planned = await operations.planLayer(call.store, call.registry, call.config, scope, layer,
                                         pause=call.pause)
    devices = []
    for position, device in enumerate(planned.devices[:PLAN_SHOWN]):
        devices.append(tags.details(**attrs(open=position < OPEN_SHOWN))(
            tags.summary(device.mac, f" ({len(device.files)} files)"),
                                    *[tags.pre(change.diff, class_="diff", **attrs(data_file=change.name))
                                      for change in device.files]))
    more = planned.count - len(devices)
    summary = (f"Layer {scope}: {len(layer.settings)} settings. Files of {planned.count} of the "
               f"{planned.considered} phones it covers change.")
    apply = tags.form(method="post", action="/settings/apply")(
        csrfField(call.csrf), tags.input(type="hidden", name="scope", value=scope),
        tags.input(type="hidden", name="data", value=base64.b64encode(data).decode("ascii")),
        button("Apply"), " ", tags.a("Cancel", href="/settings"))
    body = [tags.p(summary, id="plan-summary"), apply,
            tags.section(tags.h2("Phones that change"), *devices,
                         tags.p(f"… and {more} more.") if more > 0 else "",
                         "" if devices else tags.p("No phone's files change."))]
    return call.page("Plan of the change", body, current="/settings")


async def apply(call: PageCall):
    try:
        data = base64.b64decode(call.arg("data"), validate=True)
    except (binascii.Error, ValueError):
        return await _page(call, call.arg("scope"), "The plan's file was damaged: load it again.", status=400)
    try:
        layer, planned = await operations.putLayer(call.store, call.registry, call.actor, call.now,
                                                   call.arg("scope"), data, _XML, config=call.config,
                                                   pause=call.pause)
    except Refused as e:
        return await _page(call, call.arg("scope"), problemText(e), status=400)
    call.flash(f"Applied layer {layer.scope}: files of {planned.count} phones changed.")
    return Redirect(f"/settings?scope={layer.scope}")


async def markSecret(call: PageCall):
    idx = call.arg("idx")
    if idx and not idx.isdigit():
        raise Refused(f"bad index {idx!r}: a whole number, or none")
    secret = call.arg("secret") == "true"
    layer = await operations.markSecret(call.store, call.registry, call.actor, call.now, call.arg("scope"),
                                        call.arg("name"), int(idx) if idx else None, secret, config=call.config,
                                        pause=call.pause, mayUnmark=call.permits("admin"))
    named = call.arg("name") + (f"[{idx}]" if idx else "")
    call.flash(f"{'Marked' if secret else 'Unmarked'} {named} secret in layer {layer.scope}.")
    return Redirect(f"/settings?scope={layer.scope}")


async def delete(call: PageCall):
    planned = await operations.deleteLayer(call.store, call.registry, call.actor, call.now, call.arg("scope"),
                                           config=call.config, pause=call.pause)
    call.flash(f"Deleted layer {planned.scope}: files of {planned.count} phones changed.")
    return Redirect("/settings")


ROUTES = (
    Route("GET", "/settings", settingsPage, "operator"),
    Route("POST", "/settings/plan", plan, "operator"),
    Route("POST", "/settings/apply", apply, "operator"),
    Route("POST", "/settings/delete", delete, "operator"),
    Route("POST", "/settings/secrets", markSecret, "operator"),
)
