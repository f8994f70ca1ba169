# -*- test-case-name: tests.test_pages_imports -*-
"""
C{/import}: a devices CSV file (DESIGN §4.4) uploaded from the page,
imported all or nothing by L{snomprov.operations.imports.importCSV} (the
command line's and the API's code path); a bad file is answered with a
table of every bad row, by its line; the passwords generated are shown
once.  The upload shows its progress with the pages' script.
"""

from __future__ import annotations

from twisted.web.template import tags

from snomprov.operations.errors import Refused
from snomprov.operations.imports import importCSV

from .layout import attrs, button, csrfField, field, table
from .resource import PageCall, Route

__all__ = ["ROUTES"]


def _form(call: PageCall, error: str | None = None):
    return tags.form(method="post", action="/import", enctype="multipart/form-data",
                     **attrs(data_progress=True))(
        csrfField(call.csrf),
        field("Devices CSV file", "file", error=error, type="file", required=True, accept=".csv,text/csv",
              hint="header mac,vendor,model,line,user,password,display_name,registrar "
                   "(optional auth_user, outbound_proxy); all or nothing"),
        tags.progress(hidden="hidden", value="0"),
        button("Import"))


async def importPage(call: PageCall):
    return call.page("Import devices", tags.section(_form(call)), current="/import")


async def upload(call: PageCall):
    data = call.files.get("file", b"")
    filename = call.filenames.get("file") or "upload.csv"
    if not data:
        return call.page("Import devices", tags.section(_form(call, "Choose a CSV file first.")),
                         current="/import", status=400)
    try:
        imported = await importCSV(call.store, call.registry, call.actor, call.now, data, filename)
    except Refused as e:
        rows = [("" if p.line is None else str(p.line), p.message) for p in e.problems] or [("", str(e))]
        body = [tags.section(_form(call, str(e))),
                tags.section(tags.h2("Rows refused"), table(["Line", "Problem"], rows, id="problems"))]
        return call.page("Import devices", body, current="/import", status=400)
    summary = (f"{filename}: {imported.devices} devices with {imported.lines} lines "
               + ("imported." if imported.changed else "already as the file says: nothing changed."))
    generated = table(["MAC", "Line", "Password (shown this once)"],
                      [(tags.a(mac, href=f"/devices/{mac}"), str(index), tags.span(password, class_="secret"))
                       for mac, index, password in imported.generated], id="generated") \
        if imported.generated else ""
    body = [tags.p(summary, class_="message", role="status", id="imported"), generated,
            tags.section(_form(call))]
    return call.page("Import devices", body, current="/import")


ROUTES = (
    Route("GET", "/import", importPage, "operator"),
    Route("POST", "/import", upload, "operator"),
)
