# -*- test-case-name: tests.test_api -*-
"""
C{GET /api/events}: the event log, newest first, filtered by MAC and kind,
in cursor pages.
"""

from __future__ import annotations

from snomprov.device import InvalidMAC, parseMAC

from .declare import Call, Endpoint
from .paging import PAGING_PARAMETERS, decodeCursor, encodeCursor, pageSchema
from .problems import Problem

__all__ = ["ENDPOINTS"]

EVENT_SCHEMA = {
    "type": "object",
    "required": ["id", "time", "mac", "kind", "detail"],
    "properties": {
        "id": {"type": "integer"},
        "time": {"type": "number"},
        "mac": {"type": ["string", "null"]},
        "kind": {"type": "string"},
        "detail": {"type": "string"},
    },
    "additionalProperties": False,
}

QUERY = {
    "mac": {"type": "string", "maxLength": 64, "description": "a MAC, in any spelling"},
    "kind": {"type": "string", "maxLength": 64, "pattern": "^[a-z0-9-]+$"},
    **PAGING_PARAMETERS,
}


async def listEvents(call: Call):
    query = call.query
    mac = None
    if query["mac"] is not None:
        try:
            mac = parseMAC(query["mac"])
        except InvalidMAC as e:
            raise Problem(400, "invalid query parameters", [{"field": "mac", "message": str(e)}]) from None
    before = None if query["cursor"] is None else decodeCursor(query["cursor"], int)
    limit = query["limit"]
    found = await call.store.pageEvents(mac=mac, kind=query["kind"], before=before, limit=limit + 1)
    page = found[:limit]
    items = [{"id": i, "time": e.time, "mac": e.mac, "kind": e.kind, "detail": e.detail} for i, e in page]
    return {"items": items, "next": encodeCursor(page[-1][0]) if len(found) > limit else None}


ENDPOINTS = (
    Endpoint("GET", "/api/events", listEvents, "List events, newest first", "viewer",
             {200: ("A page of events", pageSchema(EVENT_SCHEMA))}, query=QUERY),
)
