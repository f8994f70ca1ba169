# -*- test-case-name: tests.test_api_pbx -*-
"""
A device's PBX account sync state (DESIGN §8): C{GET
/api/devices/{mac}/pbx}, per line and per C{[[pbx]]} sink, read from the
store (L{snomprov.interfaces.IAccountSyncStore.accountSyncState}) for the
sinks of the configuration's C{[[pbx]]} tables (L{Call.config}).
"""

from __future__ import annotations

from snomprov.device import InvalidMAC, parseMAC
from snomprov.operations.errors import NotFound

from .declare import Endpoint

__all__ = ["ENDPOINTS"]

_NULLABLE_STRING = {"type": ["string", "null"]}

LINE_STATE_SCHEMA = {
    "type": "object",
    "required": ["line", "sink", "version", "applied", "inSync", "deleted", "lastError", "nextTry", "tries"],
    "properties": {
        "line": {"type": "integer", "minimum": 1},
        "sink": {"type": "string", "description": "the [[pbx]] name"},
        "version": {"type": "integer", "description": "the line's current account version"},
        "applied": {"type": "integer", "description": "the version the sink applied last (0: none)"},
        "inSync": {"type": "boolean"},
        "deleted": {"type": "boolean", "description": "the line is gone; its removal waits for the sink"},
        "lastError": {**_NULLABLE_STRING, "description": "why the last attempt failed"},
        "nextTry": {"type": ["number", "null"], "description": "POSIX time of the next attempt"},
        "tries": {"type": "integer", "description": "failed attempts since the last success"},
    },
    "additionalProperties": False,
}

PBX_STATE_SCHEMA = {
    "type": "object",
    "required": ["mac", "sinks", "lines"],
    "properties": {
        "mac": {"type": "string", "pattern": "^[0-9A-F]{12}$"},
        "sinks": {"type": "array", "items": {"type": "string"}},
        "lines": {"type": "array", "items": LINE_STATE_SCHEMA},
    },
    "additionalProperties": False,
}


async def devicePBX(call):
    try:
        mac = parseMAC(call.path["mac"])
    except InvalidMAC:
        raise NotFound(f"no such device: {call.path['mac']}") from None
    if await call.store.getDevice(mac) is None:
        raise NotFound(f"no such device: {mac}")
    sinks = [table.name for table in call.config.pbx] if call.config is not None else []
    states = await call.store.accountSyncState(mac, sinks) if sinks else []
    return {
        "mac": mac,
        "sinks": sinks,
        "lines": [
            {"line": s.index, "sink": s.sink, "version": s.version, "applied": s.appliedVersion,
             "inSync": s.inSync, "deleted": s.deleted, "lastError": s.lastError, "nextTry": s.nextTry,
             "tries": s.tries}
            for s in states
        ],
    }


ENDPOINTS = (
    Endpoint("GET", "/api/devices/{mac}/pbx", devicePBX, "A device's lines as each PBX sink has them",
             "viewer", {200: ("Per line and sink: versions, in sync, last error, next try", PBX_STATE_SCHEMA),
                        404: ("No such device", None)},
             pathParams={"mac": {"type": "string", "minLength": 1, "maxLength": 64}}),
)
