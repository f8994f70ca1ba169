# -*- test-case-name: tests.test_pages -*-
"""
C{/}: the dashboard (devices by state and by vendor, phones waiting, stale
phones, the last events), and C{/events/stream}, its live updates
(L{snomprov.web.pages.live}).
"""

from __future__ import annotations

from twisted.web.template import tags

from snomprov.device import DEVICE_STATES

from .layout import attrs, when
from .live import readCounts
from .resource import PageCall, Raw, Route, Stream

__all__ = ["ROUTES", "EVENTS_SHOWN", "eventRows"]

EVENTS_SHOWN = 30


def _count(counts, key: str, label: str):
    return tags.div(class_="card")(tags.div(str(counts.get(key, 0)), **attrs(class_="count", data_live_key=key)),
                                   tags.div(label, class_="muted"))


def eventRows(events) -> list:
    return [(when(e.time), tags.a(e.mac, href=f"/devices/{e.mac}") if e.mac else "", e.kind, e.detail)
            for e in events]


async def dashboard(call: PageCall):
    counts, waiting = await readCounts(call.store)
    vendors = sorted(k[len("vendor:"):] for k in counts if k.startswith("vendor:"))
    events = await call.store.listEvents(limit=EVENTS_SHOWN)
    waitingList = tags.ul(**attrs(data_live_waiting=True))(*[
        tags.li(tags.a(d.mac, href=f"/register?mac={d.mac}"), " ",
                " ".join(x for x in (d.vendor, d.model, d.ip) if x)) for d in waiting])
    body = [
        tags.section(**attrs(aria_labelledby="h-states"))(
            tags.h2("Devices by state", id="h-states"),
            tags.div(class_="grid")(_count(counts, "total", "devices"),
                                    *[_count(counts, f"state:{s}", s) for s in DEVICE_STATES],
                                    _count(counts, "stale", "stale (fetched old settings)"))),
        tags.section(**attrs(aria_labelledby="h-vendors"))(
            tags.h2("Devices by vendor", id="h-vendors"),
            tags.div(class_="grid")(*[_count(counts, f"vendor:{v}", v or "vendor not known")
                                      for v in vendors]) if vendors else tags.p("No devices yet.")),
        tags.section(**attrs(aria_labelledby="h-waiting"))(
            tags.h2(["Phones waiting (", tags.span(str(counts["waiting"]), **attrs(data_live_key="waiting")), ")"],
                    id="h-waiting"),
            tags.p("Seen but not registered: pick one to register it.", class_="muted"),
            waitingList),
        tags.section(**attrs(aria_labelledby="h-events"))(
            tags.h2("Last events", id="h-events"),
            tags.div(class_="scroll")(tags.table(
                tags.thead(tags.tr(*[tags.th(h, scope="col") for h in ("Time (UTC)", "MAC", "Kind", "Detail")])),
                tags.tbody(**attrs(data_live_events=True))(
                    *[tags.tr(*[tags.td(c) for c in row]) for row in eventRows(events)])))),
    ]
    return call.page("Dashboard", body, current="/", live=True)


async def stream(call: PageCall):
    live = call.app.services["live"]
    if not live.subscribe(call.request):
        return Raw(b"too many live streams are open: reload later\n", b"text/plain; charset=utf-8", 503,
                   {b"Retry-After": b"10"})
    return Stream()


ROUTES = (
    Route("GET", "/", dashboard),
    Route("GET", "/events/stream", stream),
)
