# -*- test-case-name: tests.test_api -*-
"""
The API's accounts endpoints: C{/api/me}, C{/api/users}, C{/api/tokens}.
Each calls L{snomprov.operations.accounts}; no rule is re-implemented here.
"""

from __future__ import annotations

from snomprov.accounts import ROLES
from snomprov.operations import accounts as operations

from .declare import NAME_SCHEMA, Answer, Call, Endpoint
from .paging import PAGING_PARAMETERS, pageOf, pageSchema

__all__ = ["ENDPOINTS"]

_ROLE = {"type": "string", "enum": list(ROLES)}

ME_SCHEMA = {
    "type": "object",
    "required": ["kind", "name", "role", "actor"],
    "properties": {"kind": {"type": "string", "enum": ["operator", "token"]}, "name": NAME_SCHEMA,
                   "role": _ROLE, "actor": {"type": "string"}},
    "additionalProperties": False,
}

ACCOUNT_SCHEMA = {
    "type": "object",
    "required": ["name", "role", "created"],
    "properties": {"name": NAME_SCHEMA, "role": _ROLE, "created": {"type": "number"}},
    "additionalProperties": False,
}

NEW_TOKEN_SCHEMA = {
    "type": "object",
    "required": ["name", "role", "created", "token"],
    "properties": {**ACCOUNT_SCHEMA["properties"],
                   "token": {"type": "string", "description": "shown once: keep it"}},
    "additionalProperties": False,
}

NEW_USER_BODY = {
    "type": "object",
    "required": ["name", "password"],
    "properties": {"name": NAME_SCHEMA, "password": {"type": "string", "minLength": 1, "maxLength": 1024},
                   "role": {**_ROLE, "default": "operator"}},
    "additionalProperties": False,
}

NEW_TOKEN_BODY = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": NAME_SCHEMA, "role": {**_ROLE, "default": "operator"}},
    "additionalProperties": False,
}


def _account(account) -> dict:
    return {"name": account.name, "role": account.role, "created": account.created}


async def me(call: Call):
    who = call.principal
    return {"kind": who.kind, "name": who.name, "role": who.role, "actor": who.actor}


async def listUsers(call: Call):
    page = pageOf(await operations.listOperators(call.store), lambda o: o.name,
                  call.query["limit"], call.query["cursor"])
    return {**page, "items": [_account(o) for o in page["items"]]}


async def addUser(call: Call):
    body = call.body
    added = await operations.addOperator(call.store, call.actor, call.now, body["name"],
                                         body["password"], body.get("role", "operator"))
    return Answer(201, _account(added.operator), {"Location": f"/api/users/{added.operator.name}"})


async def removeUser(call: Call):
    await operations.removeOperator(call.store, call.actor, call.now, call.path["name"])
    return Answer(204)


async def listTokens(call: Call):
    page = pageOf(await operations.listTokens(call.store), lambda t: t.name,
                  call.query["limit"], call.query["cursor"])
    return {**page, "items": [_account(t) for t in page["items"]]}


async def addToken(call: Call):
    issued = await operations.addToken(call.store, call.actor, call.now, call.body["name"],
                                       call.body.get("role", "operator"))
    return Answer(201, {**_account(issued.token), "token": issued.secret},
                  {"Location": f"/api/tokens/{issued.token.name}"})


async def revokeToken(call: Call):
    await operations.revokeToken(call.store, call.actor, call.now, call.path["name"])
    return Answer(204)


_NAME = {"name": NAME_SCHEMA}

ENDPOINTS = (
    Endpoint("GET", "/api/me", me, "Who is asking, and their role", "viewer",
             {200: ("The operator or token of the request", ME_SCHEMA)}),
    Endpoint("GET", "/api/users", listUsers, "List operators", "admin",
             {200: ("A page of operators, by name", pageSchema(ACCOUNT_SCHEMA))},
             query=PAGING_PARAMETERS),
    Endpoint("POST", "/api/users", addUser, "Add an operator", "admin",
             {201: ("The operator added", ACCOUNT_SCHEMA), 409: ("The name is taken", None)},
             body=NEW_USER_BODY, maxBody=4096),
    Endpoint("DELETE", "/api/users/{name}", removeUser, "Remove an operator", "admin",
             {204: ("Removed", None), 409: ("The last admin cannot be removed", None)},
             pathParams=_NAME),
    Endpoint("GET", "/api/tokens", listTokens, "List API tokens (names and roles)", "admin",
             {200: ("A page of tokens, by name", pageSchema(ACCOUNT_SCHEMA))},
             query=PAGING_PARAMETERS),
    Endpoint("POST", "/api/tokens", addToken, "Issue an API token (answered once)", "admin",
             {201: ("The token; only its hash is kept", NEW_TOKEN_SCHEMA),
              409: ("The name is taken", None)},
             body=NEW_TOKEN_BODY, maxBody=4096),
    Endpoint("DELETE", "/api/tokens/{name}", revokeToken, "Revoke an API token", "admin",
             {204: ("Revoked", None)}, pathParams=_NAME),
)
