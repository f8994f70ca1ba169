# -*- test-case-name: tests.test_pages_live -*-
"""
The dashboard's live updates: C{GET /events/stream}, Server-Sent Events.

One L{LiveFeed} serves every open dashboard: while at least one is open
it reads the store's new events every L{POLL} seconds (the events every
daemon sharing the store writes) and, when there are some or the store's
change listener says devices' settings moved, the counts and the phones
waiting again; each is sent to every client as one SSE message
(C{events}, C{counts}, C{waiting}: JSON).  A comment line every
L{HEARTBEAT} seconds keeps proxies from closing an idle stream.  At most
L{MAX_CLIENTS} streams are open at once (then 503), so a forgotten tab
costs bounded memory; nothing is polled while none is open.
"""

from __future__ import annotations

import json

from twisted.internet import defer, task
from twisted.logger import Logger

from snomprov.operations.devices import listWaiting

from .layout import when

__all__ = ["LiveFeed", "POLL", "HEARTBEAT", "MAX_CLIENTS", "sseMessage", "openStream", "countsOf", "eventJSON",
           "readCounts", "WAITING_SHOWN"]

_log = Logger()

POLL = 1.0
HEARTBEAT = 15.0
MAX_CLIENTS = 32
WAITING_SHOWN = 20
"""
The most phones waiting listed on the dashboard.
"""


def sseMessage(event: str, data) -> bytes:
    """
    One Server-Sent Events message of a JSON value (one C{data:} line:
    JSON has no newline).  Pure.
    """
    return b"event: " + event.encode("ascii") + b"\ndata: " + \
        json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n\n"


def openStream(request) -> None:
    """
    Answer C{request} as a Server-Sent Events stream (its headers, and the
    reconnection delay), kept open by the caller.
    """
    request.setHeader(b"Content-Type", b"text/event-stream; charset=utf-8")
    request.setHeader(b"Cache-Control", b"no-store")
    request.setHeader(b"X-Accel-Buffering", b"no")
    request.write(b"retry: 3000\n\n")


def countsOf(byStateVendor, stale: int, waiting: int) -> dict[str, int]:
    """
    The dashboard's numbers from L{IDeviceStore.countDevices}: C{total},
    C{state:<s>}, C{vendor:<v>} (C{vendor:} for none known), C{stale},
    C{waiting}.  Pure.
    """
    counts = {"total": 0, "stale": stale, "waiting": waiting}
    for (state, vendor), n in byStateVendor.items():
        counts["total"] += n
        counts[f"state:{state}"] = counts.get(f"state:{state}", 0) + n
        counts[f"vendor:{vendor or ''}"] = counts.get(f"vendor:{vendor or ''}", 0) + n
    return counts


def eventJSON(event) -> dict:
    return {"time": when(event.time), "mac": event.mac, "kind": event.kind, "detail": event.detail}


def waitingJSON(device) -> dict:
    return {"mac": device.mac, "vendor": device.vendor, "model": device.model, "ip": device.ip}


async def readCounts(store):
    """
    The counts and the phones waiting, read from the store.
    """
    waiting = await listWaiting(store, WAITING_SHOWN)
    counts = countsOf(await store.countDevices(), await store.countStale(), len(waiting))
    return counts, waiting


class LiveFeed:
    """
    @param whenStore: returns a Deferred firing with the store.
    @param clock: an L{IReactorTime}.
    """

    def __init__(self, whenStore, clock, poll: float = POLL, heartbeat: float = HEARTBEAT,
                 maxClients: int = MAX_CLIENTS) -> None:
        self._whenStore = whenStore
        self._clock = clock
        self.poll = poll
        self.heartbeat = heartbeat
        self.maxClients = maxClients
        self.clients: set = set()
        self._cursor: int | None = None
        self._changed = False
        self._loop: task.LoopingCall | None = None
        self._beat: task.LoopingCall | None = None
        self._listening = None
        self._busy = False

    def subscribe(self, request) -> bool:
        """
        Keep C{request} open as a stream; C{False} when L{maxClients} are
        open already (the caller answers 503).
        """
        if len(self.clients) >= self.maxClients:
            return False
        openStream(request)
        self.clients.add(request)
        request.notifyFinish().addBoth(lambda _: self._gone(request))
        if self._loop is None:
            self._start()
        return True

    def _start(self) -> None:
        self._loop = task.LoopingCall(self._tick)
        self._loop.clock = self._clock
        self._loop.start(self.poll, now=True).addErrback(
            lambda f: _log.failure("the live feed stopped", f))
        self._beat = task.LoopingCall(self._send, b": heartbeat\n\n")
        self._beat.clock = self._clock
        self._beat.start(self.heartbeat, now=False)

    def _gone(self, request) -> None:
        self.clients.discard(request)
        if not self.clients:
            self.stop()

    def stop(self) -> None:
        """
        Stop polling (no client is left, or the daemon stops).
        """
        for loop in (self._loop, self._beat):
            if loop is not None and loop.running:
                loop.stop()
        self._loop = self._beat = None
        if self._listening is not None:
            store, listener = self._listening
            store.removeChangeListener(listener)
            self._listening = None
        self._cursor = None

    def _send(self, data: bytes) -> None:
        for request in list(self.clients):
            try:
                request.write(data)
            except Exception:
                self.clients.discard(request)

    def _onChange(self, scopes) -> None:
        self._changed = True

    def _tick(self):
        if self._busy:
            return None
        self._busy = True
        d = defer.ensureDeferred(self._read())
        d.addErrback(lambda f: _log.failure("the live feed could not read the store", f))
        d.addBoth(lambda _: setattr(self, "_busy", False))
        return None

    async def _read(self) -> None:
        store = await self._whenStore()
        if self._listening is None:
            store.addChangeListener(self._onChange)
            self._listening = (store, self._onChange)
        first = self._cursor is None
        page = await store.eventsAfter(self._cursor, limit=1 if first else 100)
        self._cursor = page.cursor
        if first or not self.clients:
            return
        changed, self._changed = self._changed, False
        if page.events:
            self._send(sseMessage("events", [eventJSON(e) for e in page.events]))
        if page.events or changed:
            counts, waiting = await readCounts(store)
            self._send(sseMessage("counts", counts))
            self._send(sseMessage("waiting", [waitingJSON(d) for d in waiting]))
