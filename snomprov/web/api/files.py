# -*- test-case-name: tests.test_api_layers -*-
"""
A device's files as its phone gets them: C{GET /api/devices/{mac}/files}
(their names) and C{GET /api/devices/{mac}/files/{name}} (one file, with
its content type; a name with a C{/} is sent percent-encoded,
C{snom%2F000413922D24.xml}).  SIP passwords are C{***} unless an admin asks
C{?reveal=true} (audited).  Each calls L{snomprov.operations.render}.
"""

from __future__ import annotations

from snomprov.operations import render as operations
from snomprov.operations.errors import NotFound

from .declare import Answer, Call, Endpoint
from .layers import checkReveal
from .problems import Problem

__all__ = ["ENDPOINTS"]

_MAC = {"mac": {"type": "string", "maxLength": 64, "description": "a MAC, in any spelling"}}
_NAME = {"name": {"type": "string", "maxLength": 256,
                  "description": "the name as the phone asks for it, a / percent-encoded"}}

FILES_SCHEMA = {
    "type": "object",
    "required": ["mac", "files"],
    "properties": {"mac": {"type": "string"}, "files": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}

FILE_QUERY = {
    "user_agent": {"type": "string", "maxLength": 512, "description": "render as for this User-Agent"},
    "reveal": {"type": "boolean", "default": False,
               "description": "show SIP passwords (admin only; audited)"},
}

PRODUCES = ("application/xml", "text/xml", "text/plain", "application/octet-stream")


async def listFiles(call: Call):
    mac = operations.checkMAC(call.path["mac"])
    return {"mac": mac, "files": await operations.listFiles(call.store, call.registry, mac)}


async def getFile(call: Call):
    mac = operations.checkMAC(call.path["mac"])
    reveal = checkReveal(call, "file")
    name, rendered = await operations.renderFile(call.store, call.registry, call.config, mac, call.path["name"],
                                                 call.query["user_agent"], reveal=reveal)
    if rendered.path:
        raise NotFound(f"{name} is the file {rendered.path}, sent to phones as it is")
    kind = rendered.contentType.split(";", 1)[0].strip().lower()
    if kind not in PRODUCES:
        raise Problem(500, f"{name}: a vendor answered the undeclared type {kind}")
    if reveal:
        from snomprov.audit import auditEvent

        await call.store.addEvents([auditEvent(call.now, call.actor, f"device:{mac}",
                                               f"revealed passwords in {name}", mac)])
    return Answer(200, rendered.content, {"Content-Type": rendered.contentType})


ENDPOINTS = (
    Endpoint("GET", "/api/devices/{mac}/files", listFiles, "The names of a device's files", "viewer",
             {200: ("The names, the main file first", FILES_SCHEMA), 400: ("The MAC is not valid", None)},
             pathParams=_MAC),
    Endpoint("GET", "/api/devices/{mac}/files/{name}", getFile, "A device's file as the phone gets it",
             "viewer", {200: ("The file", None), 400: ("The MAC is not valid", None)}, pathParams={**_MAC, **_NAME}, query=FILE_QUERY,
             produces=PRODUCES),
)
