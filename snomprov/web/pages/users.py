# -*- test-case-name: tests.test_pages_imports -*-
"""
C{/users} (admins): the operators and the API tokens; add and remove
operators, issue (the secret shown once) and revoke tokens.  The work is
L{snomprov.operations.accounts}'s; a removed operator's sessions end.
"""

from __future__ import annotations

from twisted.web.template import tags

from snomprov.accounts import ROLES
from snomprov.operations import accounts as operations
from snomprov.operations.errors import Refused

from .layout import button, csrfField, field, postButton, select, table, when
from .resource import PageCall, Redirect, Route

__all__ = ["ROUTES"]

_ROLES = [(role, role) for role in ROLES]


async def _page(call: PageCall, errors: dict | None = None, issued=None, status: int = 200):
    errors = errors or {}
    operators = await operations.listOperators(call.store)
    tokens = await operations.listTokens(call.store)
    me = call.principal.name
    body = [
        tags.section(tags.p("New token ", tags.strong(issued.token.name), " (shown this once): ",
                            tags.span(issued.secret, class_="secret", id="token-secret")),
                     class_="message", role="status") if issued else "",
        tags.section(tags.h2("Operators"), table(["Name", "Role", "Added", ""], [
            (o.name, o.role, when(o.created),
             "" if o.name == me else postButton("/users/remove", "Remove", call.csrf, danger=True, name=o.name))
            for o in operators], id="operators"),
            tags.form(method="post", action="/users/add", class_="row")(
                csrfField(call.csrf), field("Name", "name", call.arg("name") if errors.get("user") else "",
                                            errors.get("user"), autocomplete="off", required=True),
                field("Password", "password", type="password", autocomplete="new-password", required=True),
                select("Role", "role", _ROLES, "operator"), button("Add operator"))),
        tags.section(tags.h2("API tokens"), table(["Name", "Role", "Issued", ""], [
            (t.name, t.role, when(t.created), postButton("/tokens/revoke", "Revoke", call.csrf, danger=True,
                                                         name=t.name)) for t in tokens], id="tokens"),
            tags.form(method="post", action="/tokens/add", class_="row")(
                csrfField(call.csrf), field("Token name", "token", "", errors.get("token"), autocomplete="off",
                                            required=True),
                select("Token role", "role", _ROLES, "operator"), button("Issue token"))),
    ]
    return call.page("Users", body, current="/users", status=status)


async def usersPage(call: PageCall):
    return await _page(call)


async def addUser(call: PageCall):
    password = (call.args("password") or [""])[0]
    try:
        if not password:
            raise Refused("give the new operator a password")
        added = await operations.addOperator(call.store, call.actor, call.now, call.arg("name"), password,
                                             call.arg("role", "operator"))
    except Refused as e:
        return await _page(call, {"user": str(e)}, status=400)
    call.flash(f"Operator {added.operator.name} added ({added.operator.role}).")
    return Redirect("/users")


async def removeUser(call: PageCall):
    name = call.arg("name")
    if name == call.principal.name:
        return await _page(call, {"user": "you cannot remove yourself"}, status=400)
    await operations.removeOperator(call.store, call.actor, call.now, name)
    call.app.sessions.endFor(name)
    call.flash(f"Operator {name} removed.")
    return Redirect("/users")


async def addToken(call: PageCall):
    try:
        issued = await operations.addToken(call.store, call.actor, call.now, call.arg("token"),
                                           call.arg("role", "operator"))
    except Refused as e:
        return await _page(call, {"token": str(e)}, status=400)
    return await _page(call, issued=issued)


async def revokeToken(call: PageCall):
    await operations.revokeToken(call.store, call.actor, call.now, call.arg("name"))
    call.flash(f"Token {call.arg('name')} revoked.")
    return Redirect("/users")


ROUTES = (
    Route("GET", "/users", usersPage, "admin"),
    Route("POST", "/users/add", addUser, "admin"),
    Route("POST", "/users/remove", removeUser, "admin"),
    Route("POST", "/tokens/add", addToken, "admin"),
    Route("POST", "/tokens/revoke", revokeToken, "admin"),
)
