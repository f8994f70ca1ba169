# -*- test-case-name: tests.test_api_stale -*-
"""
Stale phones and pushes (DESIGN §7 "Push"): C{GET /api/stale},
C{POST /api/resync} and C{POST /api/devices/{mac}/resync}.  The work is
L{snomprov.operations.resync}'s; a push answers 202 at once with what it
queued, the NOTIFYs go on in the background, and their outcomes show as
C{resync-sent} events (C{GET /api/events?kind=resync-sent}).
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger

from snomprov.device import InvalidMAC, parseMAC
from snomprov.operations import resync as operations
from snomprov.operations.errors import Conflict, NotFound

from .declare import Answer, Call, Endpoint
from .paging import PAGING_PARAMETERS, decodeCursor, encodeCursor, pageSchema

__all__ = ["ENDPOINTS"]

_log = Logger()

_MAC = {"type": "string", "pattern": "^[0-9A-F]{12}$"}

STALE_SCHEMA = {
    "type": "object",
    "required": ["mac", "current", "fetched"],
    "properties": {
        "mac": _MAC,
        "current": {"type": "integer", "description": "the settings version its files were last changed at"},
        "fetched": {"type": "integer", "description": "the settings version it last fetched"},
    },
    "additionalProperties": False,
}

STALE_PAGE_SCHEMA = {
    **pageSchema(STALE_SCHEMA),
    "required": ["items", "next", "total"],
    "properties": {**pageSchema(STALE_SCHEMA)["properties"],
                   "total": {"type": "integer", "description": "how many phones are stale"}},
}

_RATE = {"type": "number", "minimum": 0.01, "maximum": operations.MAX_RATE,
         "default": operations.DEFAULT_RATE, "description": "at most this many NOTIFYs per second"}

RESYNC_BODY = {
    "type": "object",
    "description": "exactly one of macs, stale (true) and all (true)",
    "properties": {
        "macs": {"type": "array", "minItems": 1, "maxItems": 10000,
                 "items": {"type": "string", "maxLength": 64}},
        "stale": {"type": "boolean"},
        "all": {"type": "boolean"},
        "rate": _RATE,
    },
    "additionalProperties": False,
}

QUEUED_SCHEMA = {
    "type": "object",
    "required": ["queued", "rate", "skipped"],
    "properties": {
        "queued": {"type": "integer", "description": "how many NOTIFYs will be sent"},
        "rate": {"type": "number"},
        "skipped": {"type": "array", "items": {
            "type": "object", "required": ["mac", "reason"],
            "properties": {"mac": _MAC, "reason": {"type": "string"}},
            "additionalProperties": False,
        }},
    },
    "additionalProperties": False,
}


async def listStale(call: Call):
    query = call.query
    after = None if query["cursor"] is None else decodeCursor(query["cursor"], str)
    limit = query["limit"]
    found = await call.store.pageStale(after=after, limit=limit + 1)
    page = found[:limit]
    total = await call.store.countStale()
    return {"items": [{"mac": mac, "current": current, "fetched": fetched} for mac, current, fetched in page],
            "next": encodeCursor(page[-1][0]) if len(found) > limit else None, "total": total}


def _start(call: Call, plan, rate: float) -> Answer:
    """
    Push the plan's phones in the background; answer what was queued.
    """
    d = defer.ensureDeferred(operations.runResync(call.store, call.reactor, call.actor, plan, rate))
    d.addErrback(lambda failure: _log.failure("Push {what} failed", failure, what=plan.what))
    return Answer(202, {"queued": len(plan.targets), "rate": rate,
                        "skipped": [{"mac": mac, "reason": reason} for mac, reason in plan.skipped]})


async def resync(call: Call):
    body = call.body
    rate = operations.checkRate(body.get("rate", operations.DEFAULT_RATE))
    plan = await operations.planResync(call.store, call.registry, body.get("macs"),
                                       body.get("stale", False), body.get("all", False))
    return _start(call, plan, rate)


async def resyncDevice(call: Call):
    try:
        mac = parseMAC(call.path["mac"])
    except InvalidMAC:
        raise NotFound(f"no such device: {call.path['mac']}") from None
    plan = await operations.planResync(call.store, call.registry, [mac])
    if plan.skipped:
        reason = plan.skipped[0][1]
        raise NotFound(f"{mac}: {reason}") if reason == "no such device" else Conflict(f"{mac}: {reason}")
    return _start(call, plan, operations.DEFAULT_RATE)


ENDPOINTS = (
    Endpoint("GET", "/api/stale", listStale, "List stale phones: fetched, but not their current settings",
             "viewer", {200: ("A page of stale phones, by MAC", STALE_PAGE_SCHEMA)},
             query=PAGING_PARAMETERS),
    Endpoint("POST", "/api/resync", resync, "Push phones to re-sync, at a bounded rate", "operator",
             {202: ("Queued: the outcomes come as resync-sent events", QUEUED_SCHEMA),
              400: ("Not exactly one of macs, stale and all; or a bad MAC", None)},
             body=RESYNC_BODY, maxBody=1024 * 1024),
    Endpoint("POST", "/api/devices/{mac}/resync", resyncDevice, "Push one phone to re-sync", "operator",
             {202: ("Queued: the outcome comes as a resync-sent event", QUEUED_SCHEMA),
              404: ("No such device", None),
              409: ("The phone cannot be pushed (no known address, or its vendor)", None)},
             pathParams={"mac": {"type": "string", "minLength": 1, "maxLength": 64}}),
)
