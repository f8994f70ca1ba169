# -*- test-case-name: tests.test_pages_imports -*-
"""
C{/import}: a devices CSV file (DESIGN §4.4) uploaded from the page,
imported all or nothing by L{snomprov.operations.imports.importCSV} (the
command line's and the API's code path); a bad file is answered with a
table of every bad row, by its line; the passwords generated are shown
once.  The upload shows its progress with the pages' script; the import
then runs in the background (L{importjobs}), yielding to the reactor
between chunks, and C{/import/<job>} shows how far it is (live with the
script, else reloaded every 2 s) and then its result.  A small file is
done before the answer to its upload, which is then the result.
"""

from __future__ import annotations

from twisted.web.template import tags

from snomprov.operations.errors import NotFound, Refused
from snomprov.operations.imports import decodeCSV, importCSV

from .layout import attrs, button, csrfField, field, table
from .resource import PageCall, Route, Stream

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
        text = decodeCSV(data, filename)
    except Refused as e:
        return _refused(call, e)
    jobs = call.app.services["imports"]
    job = jobs.start(call.actor, filename, lambda progress: importCSV(
        call.store, call.registry, call.actor, call.now, text, filename, progress, call.pause))
    if job is None:
        return call.page("Import devices", tags.section(_form(call)), current="/import", status=503,
                         errors=["Too many imports are under way: send this file again when one is done."])
    return _jobPage(call, job)


async def jobPage(call: PageCall):
    job = call.app.services["imports"].find(call.actor, call.path["job"])
    if job is None:
        raise NotFound("No such import: its result is shown once (generated passwords are not kept), "
                       "to whoever started it.")
    return _jobPage(call, job)


async def follow(call: PageCall):
    job = call.app.services["imports"].find(call.actor, call.path["job"])
    if job is None:
        raise NotFound("No such import.")
    call.app.services["imports"].follow(job, call.request)
    return Stream()


def _jobPage(call: PageCall, job):
    """
    An import under way (its progress, followed live with the pages'
    script, else by reloading), or its result, shown this once.
    """
    if not job.finished:
        where = f"/import/{job.id}"
        progress = job.progressJSON()
        bar = tags.progress(**attrs(value=str(progress["done"]) if progress["total"] else None,
                                    max=str(progress["total"]) if progress["total"] else None))
        body = tags.section(**attrs(id="import-progress", data_stream=f"{where}/stream", data_result=where))(
            tags.p(f"Importing {job.filename}: all or nothing; this page shows the result when it is done.",
                   class_="message"),
            bar, tags.p(progress["text"], role="status", aria_live="polite", id="import-step"),
            tags.noscript(tags.p(tags.a("Show how far it is", href=where))))
        return call.page(f"Importing {job.filename}", body, current="/import", refresh=(2, where))
    call.app.services["imports"].take(job)
    if job.refused is not None:
        return _refused(call, job.refused)
    if job.failed:
        return call.page("Import devices", tags.section(_form(call)), current="/import", status=500,
                         errors=[f"{job.filename}: the import failed (see the server's log); nothing was "
                                 "imported."])
    imported = job.imported
    summary = (f"{job.filename}: {imported.devices} devices with {imported.lines} lines "
               + ("imported." if imported.changed else "already as the file says: nothing changed."))
    generated = table(["MAC", "Line", "Password (shown this once)"],
                      [(tags.a(mac, href=f"/devices/{mac}"), str(index), tags.span(password, class_="secret"))
                       for mac, index, password in imported.generated], id="generated") \
        if imported.generated else ""
    body = [tags.p(summary, class_="message", role="status", id="imported"), generated,
            tags.section(_form(call))]
    return call.page("Import devices", body, current="/import")


def _refused(call: PageCall, e: Refused):
    rows = [("" if p.line is None else str(p.line), p.message) for p in e.problems] or [("", str(e))]
    body = [tags.section(_form(call, str(e))),
            tags.section(tags.h2("Rows refused"), table(["Line", "Problem"], rows, id="problems"))]
    return call.page("Import devices", body, current="/import", status=400)


ROUTES = (
    Route("GET", "/import", importPage, "operator"),
    Route("POST", "/import", upload, "operator"),
    Route("GET", "/import/{job}", jobPage, "operator"),
    Route("GET", "/import/{job}/stream", follow, "operator"),
)
