# -*- test-case-name: tests.test_api_layers -*-
"""
The API's settings layers: C{/api/layers}, C{/api/layers/{scope}},
C{/api/layers/{scope}/plan} and C{/api/layers/{scope}/secrets}.  Each
calls L{snomprov.operations.layers}.

A layer is sent as a vendor's settings file (C{application/xml},
C{text/xml}: snom settings XML, read by the installed vendors) or as JSON (C{application/json}, L{snomprov.operations.layers.layerFromJSON}).
C{POST …/plan} plans replacing the layer by the one sent, C{GET …/plan}
plans deleting it; neither changes anything.  Diffs show every SIP password
as C{***} unless an admin asks C{?reveal=true} (audited); so does a layer
its secret settings (marked, or declared by an installed vendor).
C{POST …/secrets} marks one setting secret (an operator) or clears its mark
(an admin).
"""

from __future__ import annotations

from snomprov.accounts import permits
from snomprov.audit import auditEvent
from snomprov.operations import layers as operations

from .declare import Call, Endpoint
from .paging import PAGING_PARAMETERS, pageOf, pageSchema
from .problems import Problem

__all__ = ["ENDPOINTS", "SCOPE_PARAMETER", "checkReveal"]

SCOPE_PARAMETER = {"scope": {"type": "string", "minLength": 1, "maxLength": 160,
                             "description": "site, vendor:NAME, model:NAME or device:MAC"}}

_SETTING = {
    "type": "object",
    "required": ["name", "value"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 256},
        "idx": {"type": ["integer", "null"], "minimum": 0, "maximum": 999999},
        "value": {"type": "string"},
        "perm": {"type": ["string", "null"], "maxLength": 8,
                 "description": "one of the perm values of an installed vendor (snom: '', ' ', R, RW, !, &, $, V)"},
        "secret": {"type": "boolean", "default": False,
                   "description": "an operator marked it secret; left out: a stored mark is kept"},
    },
    "additionalProperties": False,
}

_DOCUMENTS = {
    "type": "object",
    "description": "documents named by an installed vendor (snom: functionKeys, tbook, dialplan)",
    "additionalProperties": {"type": "string", "description": "one section of the vendor's settings file"},
}

LAYER_BODY = {
    "type": "object",
    "required": ["settings"],
    "properties": {"settings": {"type": "array", "items": _SETTING, "maxItems": operations.MAX_SETTINGS},
                   "documents": _DOCUMENTS},
    "additionalProperties": False,
}

LAYER_SCHEMA = {
    "type": "object",
    "required": ["scope", "settings", "documents"],
    "properties": {"scope": {"type": "string"}, **LAYER_BODY["properties"]},
    "additionalProperties": False,
}

LAYER_SUMMARY = {
    "type": "object",
    "required": ["scope", "settings", "documents"],
    "properties": {"scope": {"type": "string"}, "settings": {"type": "integer"},
                   "documents": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}

PLAN_SCHEMA = {
    "type": "object",
    "required": ["scope", "count", "considered", "devices", "truncated"],
    "properties": {
        "scope": {"type": "string"},
        "count": {"type": "integer", "description": "how many devices' files change"},
        "considered": {"type": "integer", "description": "how many devices the scope covers"},
        "truncated": {"type": "boolean", "description": "whether devices lists fewer than count"},
        "devices": {"type": "array", "items": {
            "type": "object",
            "required": ["mac", "files"],
            "properties": {"mac": {"type": "string"}, "files": {"type": "array", "items": {
                "type": "object",
                "required": ["name", "diff"],
                "properties": {"name": {"type": "string"},
                               "diff": {"type": "string", "description": "unified diff, a/NAME to b/NAME"}},
                "additionalProperties": False}}},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
}

CHANGED_SCHEMA = {
    "type": "object",
    "required": ["scope", "count", "macs"],
    "properties": {"scope": {"type": "string"}, "count": {"type": "integer"},
                   "macs": {"type": "array", "items": {"type": "string"},
                            "description": "the devices whose files changed"}},
    "additionalProperties": False,
}

PUT_SCHEMA = {
    "type": "object",
    "required": ["layer", "changed"],
    "properties": {"layer": LAYER_SCHEMA, "changed": CHANGED_SCHEMA},
    "additionalProperties": False,
}

_RAW_LAYER = {"application/xml": {"type": "string", "description": "a vendor's settings file (snom settings XML)"},
              "text/xml": {"type": "string", "description": "a vendor's settings file (snom settings XML)"},
              "application/json": LAYER_BODY}

_REVEAL = {"reveal": {"type": "boolean", "default": False,
                      "description": "show SIP passwords in the diffs (admin only; audited)"}}

_REVEAL_LAYER = {"reveal": {"type": "boolean", "default": False,
                            "description": "show the values of secret settings (admin only; audited)"}}

MARK_BODY = {
    "type": "object",
    "required": ["name", "secret"],
    "properties": {
        "name": _SETTING["properties"]["name"],
        "idx": {**_SETTING["properties"]["idx"], "default": None},
        "secret": {"type": "boolean", "description": "true: mark the setting secret; false: clear the mark "
                                                     "(admin only)"},
    },
    "additionalProperties": False,
}

_PLAN_QUERY = {**_REVEAL, "limit": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1000,
                                    "description": "list at most this many devices (count counts all)"}}


def checkReveal(call: Call, what: str) -> bool:
    """
    Whether the call asks C{?reveal=true}, which only an admin may; the
    reveal is audited.

    @raise Problem: 403 for anyone else.
    """
    if not call.query.get("reveal"):
        return False
    if not permits(call.principal.role, "admin"):
        raise Problem(403, f"revealing passwords needs the role admin; {call.principal.actor} is "
                           f"{call.principal.role}")
    return True


async def _audited(call: Call, object: str, summary: str, mac: str | None = None) -> None:
    await call.store.addEvents([auditEvent(call.now, call.actor, object, summary, mac)])


def _planJSON(plan, limit: int) -> dict:
    return {
        "scope": plan.scope,
        "count": plan.count,
        "considered": plan.considered,
        "truncated": plan.count > limit,
        "devices": [{"mac": d.mac, "files": [{"name": f.name, "diff": f.diff} for f in d.files]}
                    for d in plan.devices[:limit]],
    }


def _changedJSON(plan) -> dict:
    return {"scope": plan.scope, "count": plan.count, "macs": list(plan.macs)}


async def listLayers(call: Call):
    found = await operations.listLayers(call.store)
    page = pageOf(found, lambda layer: layer.scope, call.query["limit"], call.query["cursor"])
    return {**page, "items": [{"scope": layer.scope, "settings": len(layer.settings),
                               "documents": sorted(layer.documents)} for layer in page["items"]]}


def _isAdmin(call: Call) -> bool:
    return permits(call.principal.role, "admin")


async def getLayer(call: Call):
    layer = await operations.getLayer(call.store, call.path["scope"])
    reveal = checkReveal(call, "layer")
    if reveal:
        await _audited(call, f"layer:{layer.scope}", "revealed the values of its secret settings")
    return operations.layerToJSON(layer, call.registry.vendors, reveal)


async def putLayer(call: Call):
    layer, plan = await operations.putLayer(call.store, call.registry, call.actor, call.now, call.path["scope"],
                                            call.raw, call.mediaType, config=call.config, pause=call.pause,
                                            mayUnmark=_isAdmin(call))
    return {"layer": operations.layerToJSON(layer, call.registry.vendors), "changed": _changedJSON(plan)}


async def markSecret(call: Call):
    body = call.body
    layer = await operations.markSecret(call.store, call.registry, call.actor, call.now, call.path["scope"],
                                        body["name"], body.get("idx"), body["secret"], config=call.config,
                                        pause=call.pause, mayUnmark=_isAdmin(call))
    return operations.layerToJSON(layer, call.registry.vendors)


async def deleteLayer(call: Call):
    plan = await operations.deleteLayer(call.store, call.registry, call.actor, call.now, call.path["scope"],
                                        config=call.config, pause=call.pause)
    return _changedJSON(plan)


async def _plan(call: Call, newLayer):
    scope = operations.checkScope(call.path["scope"])
    reveal = checkReveal(call, "plan")
    plan = await operations.planLayer(call.store, call.registry, call.config, scope, newLayer,
                                      reveal=reveal, pause=call.pause)
    if reveal:
        await _audited(call, f"layer:{scope}", f"revealed passwords in a plan of {plan.count} devices")
    return _planJSON(plan, call.query["limit"])


async def planChange(call: Call):
    layer = operations.parseLayer(call.registry, call.path["scope"], call.raw, call.mediaType)
    return await _plan(call, layer)


async def planDeletion(call: Call):
    return await _plan(call, None)


_SCOPE = SCOPE_PARAMETER
_BAD_SCOPE = ("The scope or the layer is not valid", None)
_MAX = operations.MAX_LAYER

ENDPOINTS = (
    Endpoint("GET", "/api/layers", listLayers, "List settings layers", "viewer",
             {200: ("A page of layers, by scope", pageSchema(LAYER_SUMMARY))}, query=PAGING_PARAMETERS),
    Endpoint("GET", "/api/layers/{scope}", getLayer, "One settings layer (secret values masked)", "viewer",
             {200: ("The layer", LAYER_SCHEMA), 400: _BAD_SCOPE}, pathParams=_SCOPE, query=_REVEAL_LAYER),
    Endpoint("PUT", "/api/layers/{scope}", putLayer, "Replace a settings layer (snom XML or JSON)", "operator",
             {200: ("The layer stored, and the devices whose files changed", PUT_SCHEMA), 400: _BAD_SCOPE},
             pathParams=_SCOPE, rawBody=_RAW_LAYER, maxBody=_MAX),
    Endpoint("DELETE", "/api/layers/{scope}", deleteLayer, "Delete a settings layer", "operator",
             {200: ("The devices whose files changed", CHANGED_SCHEMA), 400: _BAD_SCOPE}, pathParams=_SCOPE),
    Endpoint("POST", "/api/layers/{scope}/plan", planChange,
             "Plan replacing a layer: the devices whose files would change, with diffs", "viewer",
             {200: ("The plan; nothing was changed", PLAN_SCHEMA), 400: _BAD_SCOPE},
             pathParams=_SCOPE, query=_PLAN_QUERY, rawBody=_RAW_LAYER, maxBody=_MAX),
    Endpoint("GET", "/api/layers/{scope}/plan", planDeletion,
             "Plan deleting a layer: the devices whose files would change, with diffs", "viewer",
             {200: ("The plan; nothing was changed", PLAN_SCHEMA), 400: _BAD_SCOPE}, pathParams=_SCOPE, query=_PLAN_QUERY),
    Endpoint("POST", "/api/layers/{scope}/secrets", markSecret,
             "Mark a setting of a layer secret (operator), or clear its mark (admin)", "operator",
             {200: ("The layer stored (secret values masked)", LAYER_SCHEMA), 400: _BAD_SCOPE,
              403: ("The login's role is below operator, or it clears a mark without the role admin", None),
              404: ("No such layer, or no such setting in it", None)},
             pathParams=_SCOPE, body=MARK_BODY, maxBody=4096),
)
