# -*- test-case-name: tests.test_api_layers -*-
"""
C{POST /api/imports}: a devices CSV file (C{text/csv}), imported all or
nothing through L{snomprov.operations.imports}; a bad file is a 400 whose
C{errors} name every bad row's C{line}.
"""

from __future__ import annotations

from snomprov.operations import imports as operations

from .declare import Call, Endpoint

__all__ = ["ENDPOINTS"]

IMPORTED_SCHEMA = {
    "type": "object",
    "required": ["devices", "lines", "changed"],
    "properties": {"devices": {"type": "integer"}, "lines": {"type": "integer"},
                   "changed": {"type": "boolean", "description": "false: all of it was stored already"},
                   "generated": {"type": "array", "description": "passwords generated for rows without "
                                 "one (and no stored one): shown this once",
                                 "items": {"type": "object", "required": ["mac", "line", "password"],
                                           "properties": {"mac": {"type": "string"},
                                                          "line": {"type": "integer"},
                                                          "password": {"type": "string"}},
                                           "additionalProperties": False}}},
    "additionalProperties": False,
}

QUERY = {"filename": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$", "default": "upload.csv",
                      "description": "names the file in problems and in the audit"}}


async def importDevices(call: Call):
    imported = await operations.importCSV(call.store, call.registry, call.actor, call.now, call.raw,
                                          call.query["filename"], pause=call.pause)
    answer = {"devices": imported.devices, "lines": imported.lines, "changed": imported.changed}
    if imported.generated:
        answer["generated"] = [{"mac": mac, "line": index, "password": password}
                               for mac, index, password in imported.generated]
    return answer


ENDPOINTS = (
    Endpoint("POST", "/api/imports", importDevices,
             "Register devices and lines from a CSV file, all or nothing", "operator",
             {200: ("What was imported", IMPORTED_SCHEMA),
              400: ("The file is refused; errors names each bad row's line", None)},
             query=QUERY, maxBody=operations.MAX_CSV,
             rawBody={"text/csv": {"type": "string", "description":
                                   "mac,vendor,model,line,user,password,display_name,registrar"
                                   "[,auth_user,outbound_proxy]"}}),
)
